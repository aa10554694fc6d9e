"""WebSocket /ws/lots/{id}/ (shared/API.md, Live updates). Thin: the ORM only through
database_sync_to_async helpers that call the same selectors and services as the REST API."""

from __future__ import annotations

import json
import time
from collections import deque
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils.translation import gettext as _

from auctions import selectors, services
from auctions.api import bid_result_body
from auctions.events import group_name
from core.errors import DomainError
from recycling.models import Lot

BID_RATE = (5, 2.0)  # at most 5 bids per 2 seconds per connection
REPLAY_LIMIT = 500  # more missed events than this → a fresh snapshot instead


@database_sync_to_async
def _snapshot(lot_id: int, user: Any) -> dict | None:
    return selectors.snapshot(lot_id=lot_id, viewer=user)


@database_sync_to_async
def _events_after(lot_id: int, after_seq: int) -> list[dict] | None:
    lot = Lot.objects.filter(pk=lot_id).only("pk", "status", "format", "seq").first()
    if lot is None or lot.seq - after_seq > REPLAY_LIMIT:
        return None
    return selectors.events_after(lot=lot, after_seq=after_seq, limit=REPLAY_LIMIT)


@database_sync_to_async
def _bid(user: Any, lot_id: int, amount: Any, max_amount: Any) -> dict:
    try:
        result = services.bid_place(actor=user, lot_id=lot_id, amount=amount, max_amount=max_amount)
    except DomainError as exc:
        return {"type": "bid_result", "ok": False, "code": exc.code, "detail": exc.detail}
    return {"type": "bid_result", "ok": True, **bid_result_body(result)}


class LotConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.lot_id = int(self.scope["url_route"]["kwargs"]["lot_id"])
        self.user = self.scope.get("user")
        self.group = group_name(self.lot_id)
        self.last_seq = 0
        self.bid_times: deque[float] = deque(maxlen=BID_RATE[0])
        # Join before reading the snapshot: an event committed in between arrives through
        # the group and is dropped or replayed by its seq, never lost.
        await self.channel_layer.group_add(self.group, self.channel_name)
        first = await _snapshot(self.lot_id, self.user)
        if first is None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await self.close(code=4404)
            return
        await self.accept()
        await self._send_snapshot(first)

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def _send_snapshot(self, frame: dict) -> None:
        self.last_seq = frame["seq"]
        await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = json.loads(text_data or "")
            kind = message["type"]
        except (ValueError, TypeError, KeyError):
            await self._error("bad_message", _("Send JSON objects with a type."))
            return
        if kind == "resync" and isinstance(message.get("after_seq"), int) and message["after_seq"] >= 0:
            await self._resync(message["after_seq"])
        elif kind == "bid" and "amount" in message:
            await self._place_bid(message)
        else:
            await self._error("bad_message", _("Unknown or incomplete message."))

    async def _error(self, code: str, detail: str) -> None:
        await self.send(text_data=json.dumps({"type": "error", "code": code, "detail": detail}, ensure_ascii=False))

    async def _resync(self, after_seq: int) -> None:
        events = await _events_after(self.lot_id, after_seq)
        if events is None:
            fresh = await _snapshot(self.lot_id, self.user)
            if fresh is not None:
                await self._send_snapshot(fresh)
            return
        for event in events:
            await self.send(text_data=json.dumps(event, ensure_ascii=False))
        self.last_seq = events[-1]["seq"] if events else max(self.last_seq, after_seq)

    async def _place_bid(self, message: dict) -> None:
        if self.user is None or not self.user.is_authenticated:
            await self._reply(
                {"type": "bid_result", "ok": False, "code": "not_authenticated", "detail": _("Log in to bid.")}
            )
            return
        now = time.monotonic()
        if len(self.bid_times) == BID_RATE[0] and now - self.bid_times[0] < BID_RATE[1]:
            await self._reply(
                {
                    "type": "bid_result",
                    "ok": False,
                    "code": "rate_limited",
                    "detail": _("Too many bids at once; wait a moment."),
                }
            )
            return
        self.bid_times.append(now)
        await self._reply(await _bid(self.user, self.lot_id, message.get("amount"), message.get("max_amount")))

    async def _reply(self, frame: dict) -> None:
        await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    async def dispatch(self, message: dict) -> None:
        # Channels (≥ 4.2) runs close_old_connections() through sync_to_async before every
        # handler, i.e. in Django's one thread-sensitive executor thread. For a broadcast that
        # is one thread hop per watcher, queued one after another in the thread that also runs
        # the HTTP views (bids wait behind the fan-out), measured at most of the fan-out time.
        # lot_event touches the ORM only through database_sync_to_async (a gap's replay), which
        # closes stale connections itself; every other message keeps the default path.
        if message.get("type") == "lot.event":
            await self.lot_event(message)
        else:
            await super().dispatch(message)

    async def lot_event(self, message: dict) -> None:
        """A broadcast from the group. Frames go out in seq order with no gap: an event that
        overtook its predecessor (two processes committing close together) triggers a replay
        of the missing ones from the log."""
        event = message["event"]
        seq = event["seq"]
        if seq <= self.last_seq:
            return
        if seq > self.last_seq + 1:
            await self._resync(self.last_seq)
            return
        self.last_seq = seq
        await self.send(text_data=message.get("text") or json.dumps(event, ensure_ascii=False))
