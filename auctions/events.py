"""The lot event log: append (under the lot's lock), render for watchers, broadcast after commit."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from auctions.models import GENESIS_HASH, LotEvent

log = logging.getLogger(__name__)


def group_name(lot_id: int) -> str:
    return f"lot.{lot_id}"


def bidder_alias(number: int | None) -> str | None:
    if number is None:
        return None
    return _("Bidder %(n)d") % {"n": number}


def append_event(lot: Any, type: str, payload: dict[str, Any], *, at=None, save: bool = True) -> LotEvent:
    """Append one event to `lot`'s chain. The caller holds the lot's row lock and saves the
    lot's `seq` and `ledger_head` with its own changes; the broadcast follows the commit.
    With `save=False` the caller inserts the event itself, in the same transaction (the bid
    engine sends a bid's rows together)."""
    lot.seq += 1
    event = LotEvent(
        lot_id=lot.pk,
        seq=lot.seq,
        type=type,
        at=at or timezone.now(),
        payload=payload,
        prev_hash=lot.ledger_head or GENESIS_HASH,
    )
    event.hash = event.compute_hash()
    if save:
        event.save(force_insert=True)
    lot.ledger_head = event.hash
    message = public_event(event, sealed=lot.format == "sealed", closed=lot.status in ("awarded", "unsold"))
    transaction.on_commit(lambda: broadcast(lot.pk, message))
    return event


def public_event(event: LotEvent, *, sealed: bool, closed: bool) -> dict[str, Any]:
    """An event as a watcher sees it (shared/API.md, Live updates). A sealed lot shows no
    amounts before it closes."""
    payload = event.payload
    if event.type == LotEvent.Type.BID:
        hide = sealed and not closed
        return {
            "type": "bid",
            "seq": event.seq,
            "amount": None if hide else payload["amount"],
            "bidder": bidder_alias(payload.get("bidder_no")),
            "proxy": payload.get("proxy", False),
            "current_price": None if hide else payload.get("current_price"),
            "bid_count": payload.get("bid_count"),
            "ends_at": payload.get("ends_at"),
            "at": event.at.isoformat(),
        }
    if event.type == LotEvent.Type.CLOSED:
        return {
            "type": "closed",
            "seq": event.seq,
            "status": payload["status"],
            "final_price": payload.get("final_price"),
            "winner": bidder_alias(payload.get("winner_no")),
            "at": event.at.isoformat(),
        }
    # Everything else (listed, approved, opened, extended, withdrawn…) is a "status" frame,
    # so a client that knows only the API.md types still sees every seq.
    message = {
        "type": "status",
        "seq": event.seq,
        "status": payload.get("status"),
        "event": event.type,
        "at": event.at.isoformat(),
    }
    if "ends_at" in payload:
        message["ends_at"] = payload["ends_at"]
    return message


BROADCAST_TIMEOUT = 5.0  # seconds; a later event's gap triggers the watchers' replay anyway

_sender: tuple[int, asyncio.AbstractEventLoop] | None = None
_sender_lock = threading.Lock()


def _sender_loop() -> asyncio.AbstractEventLoop:
    """This process's broadcasting event loop, on a daemon thread of its own (made again after
    a fork). async_to_sync from a thread without a server loop (the clock, workers, scripts)
    builds a new event loop per call, and channels_redis a new Redis connection per loop: one
    TCP connection opened and closed per event, ~2 ms each, and at a few hundred events a
    second the loopback's ephemeral ports run out in TIME_WAIT. One long-lived loop keeps one
    connection pool."""
    global _sender
    with _sender_lock:
        if _sender is None or _sender[0] != os.getpid() or _sender[1].is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="lot-broadcast", daemon=True).start()
            _sender = (os.getpid(), loop)
        return _sender[1]


def broadcast(lot_id: int, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        # Encoded once here, not once per watcher.
        text = json.dumps(message, ensure_ascii=False)
        payload = {"type": "lot.event", "event": message, "text": text}
        if isinstance(layer, InMemoryChannelLayer):
            # In-process queues belong to the loop of the consumers (tests): send from there.
            async_to_sync(layer.group_send)(group_name(lot_id), payload)
        else:
            # Waited for, so that one thread's events leave in their seq order.
            future = asyncio.run_coroutine_threadsafe(layer.group_send(group_name(lot_id), payload), _sender_loop())
            try:
                future.result(BROADCAST_TIMEOUT)
            except TimeoutError:
                future.cancel()
                raise
    except Exception:  # a lost broadcast is repaired by the client's resync; never fail the bid
        log.exception("broadcast of lot %s seq %s failed", lot_id, message.get("seq"))
