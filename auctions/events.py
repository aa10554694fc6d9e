"""The lot event log: append (under the lot's lock), render for watchers, broadcast after commit."""

from __future__ import annotations

import asyncio
import atexit
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
from core.times import iso

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
            "at": iso(event.at),
        }
    if event.type == LotEvent.Type.CLOSED:
        return {
            "type": "closed",
            "seq": event.seq,
            "status": payload["status"],
            "final_price": payload.get("final_price"),
            "winner": bidder_alias(payload.get("winner_no")),
            # Why an unsold lot did not sell (no_bids, reserve_not_met, min_bidders_not_met); "" when sold.
            "reason": payload.get("reason") or "",
            "at": iso(event.at),
        }
    # Everything else (listed, approved, opened, extended, withdrawn…) is a "status" frame,
    # so a client that knows only the API.md types still sees every seq.
    message = {
        "type": "status",
        "seq": event.seq,
        "status": payload.get("status"),
        "event": event.type,
        "at": iso(event.at),
    }
    if "ends_at" in payload:
        message["ends_at"] = payload["ends_at"]
    return message


BROADCAST_TIMEOUT = 5.0  # seconds per event; a later event's gap triggers the watchers' replay anyway
MAX_QUEUED = 10_000  # events waiting for the channel layer; beyond, new ones are dropped (and logged)


class _Sender:
    """This process's broadcaster: an event loop on a daemon thread of its own (made again
    after a fork) that sends the queued events one at a time, in the order they were handed
    over, so one thread's events leave in their seq order.

    The caller (a request, the clock's close, a script) never waits on the channel layer: with
    Redis slow or gone, an accepted bid is answered and the next lot closed at once, and the
    watchers repair what was lost by their replay. One long-lived loop also keeps one Redis
    connection pool: async_to_sync from a thread without a server loop builds a new event loop
    per call, and channels_redis a new connection per loop, one TCP connection per event
    (~2 ms each, and at a few hundred events a second the loopback's ports run out in
    TIME_WAIT). At exit the queue is given BROADCAST_TIMEOUT to drain (a `--once` clock's
    close still reaches the watchers)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.queue: asyncio.Queue[tuple[int, dict[str, Any]]] = asyncio.Queue()
        self._pending = 0  # handed over and not yet sent or given up
        self._count_lock = threading.Lock()
        threading.Thread(target=self._run, name="lot-broadcast", daemon=True).start()
        atexit.register(self.flush, BROADCAST_TIMEOUT)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._drain())

    async def _drain(self) -> None:
        while True:
            lot_id, payload = await self.queue.get()
            try:
                layer = get_channel_layer()
                await asyncio.wait_for(layer.group_send(group_name(lot_id), payload), BROADCAST_TIMEOUT)
            except Exception:  # a lost broadcast is repaired by the watchers' replay
                log.exception("broadcast of lot %s seq %s failed", lot_id, payload["event"].get("seq"))
            finally:
                self._count(-1)
                self.queue.task_done()

    def send(self, lot_id: int, payload: dict[str, Any]) -> None:
        """Queue one event (any thread); returns at once."""
        self._count(1)
        self.loop.call_soon_threadsafe(self._put, lot_id, payload)

    def _put(self, lot_id: int, payload: dict[str, Any]) -> None:
        if self.queue.qsize() >= MAX_QUEUED:
            self._count(-1)
            log.warning("broadcast queue full: lot %s seq %s dropped", lot_id, payload["event"].get("seq"))
            return
        self.queue.put_nowait((lot_id, payload))

    def _count(self, change: int) -> None:
        with self._count_lock:
            self._pending += change

    def pending(self) -> int:
        """Events handed over and not yet sent (or given up)."""
        return self._pending

    def flush(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the events handed over so far to be sent."""
        if self.pid != os.getpid() or self.loop.is_closed():
            return True
        future = asyncio.run_coroutine_threadsafe(self.queue.join(), self.loop)
        try:
            future.result(timeout)
        except TimeoutError:
            future.cancel()
            return False
        return True


_sender: _Sender | None = None
_sender_lock = threading.Lock()


def sender() -> _Sender:
    """This process's _Sender."""
    global _sender
    with _sender_lock:
        if _sender is None or _sender.pid != os.getpid():
            _sender = _Sender()
        return _sender


def broadcast(lot_id: int, message: dict[str, Any]) -> None:
    """Send one event to the lot's watchers (after commit: append_event registers it)."""
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
            sender().send(lot_id, payload)
    except Exception:  # a lost broadcast is repaired by the client's resync; never fail the bid
        log.exception("broadcast of lot %s seq %s failed", lot_id, message.get("seq"))
