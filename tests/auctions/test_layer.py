"""The channel layer as configured (Redis Pub/Sub with REDIS_URL, in-memory without) and the
consumers' LotFeed (one group membership per process and lot): delivery is at most once, so a
watcher that misses an event repairs the gap from the event log by its seq. Across processes
(two Daphnes, one killed, resync): tests/auctions/test_multiprocess.py."""

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings

from auctions import events, services
from auctions.consumers import LotFeed
from auctions.models import LotEvent
from recycling.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

HEADERS = [(b"origin", b"http://testserver"), (b"host", b"testserver")]


async def _next(communicator, timeout=5):
    return json.loads(await communicator.receive_from(timeout=timeout))


@pytest.mark.redis
def test_redis_url_gives_the_pubsub_layer():
    assert settings.REDIS_URL
    assert type(get_channel_layer()).__name__ == "RedisPubSubChannelLayer"


def test_a_lost_broadcast_is_replayed_from_the_log_when_the_next_event_arrives(live_lot, bidders, monkeypatch):
    lot = live_lot()
    a, b = bidders(2)

    async def scenario():
        ws = WebsocketCommunicator(application, f"/ws/lots/{lot.pk}/", headers=HEADERS)
        connected, _ = await ws.connect()
        assert connected
        snap = await _next(ws)

        # Given a bid whose broadcast is lost on the way (a Redis reconnect, a dead publisher)
        with monkeypatch.context() as lost:
            lost.setattr(events, "broadcast", lambda lot_id, message: None)
            await database_sync_to_async(services.bid_place)(actor=a, lot_id=lot.pk, amount="2300.00")
        assert await ws.receive_nothing(timeout=0.3)

        # when the next event arrives
        await database_sync_to_async(services.bid_place)(actor=b, lot_id=lot.pk, amount="2350.00")

        # then the watcher gets the missing one from the log first, then the live one, once each.
        frames = [await _next(ws), await _next(ws)]
        assert [(f["type"], f["seq"], f["amount"]) for f in frames] == [
            ("bid", snap["seq"] + 1, "2300.00"),
            ("bid", snap["seq"] + 2, "2350.00"),
        ]
        assert await ws.receive_nothing(timeout=0.3)
        await ws.disconnect()
        return snap["seq"]

    start = async_to_sync(scenario)()

    stored = LotEvent.objects.filter(lot=lot, seq__gt=start).order_by("seq")
    assert [(e.seq, e.payload["amount"]) for e in stored] == [(start + 1, "2300.00"), (start + 2, "2350.00")]


def test_a_group_send_reaches_every_watcher_of_the_lot_and_no_other(live_lot, bidders):
    lot, other = live_lot(), live_lot()
    (a,) = bidders(1)

    async def scenario():
        watchers = []
        for lot_id in (lot.pk, lot.pk, lot.pk, other.pk):
            ws = WebsocketCommunicator(application, f"/ws/lots/{lot_id}/", headers=HEADERS)
            connected, _ = await ws.connect()
            assert connected
            watchers.append((ws, (await _next(ws))["seq"]))

        await database_sync_to_async(services.bid_place)(actor=a, lot_id=lot.pk, amount="2300.00")

        for ws, seq in watchers[:3]:
            frame = await _next(ws)
            assert (frame["type"], frame["seq"], frame["amount"]) == ("bid", seq + 1, "2300.00")
        assert await watchers[3][0].receive_nothing(timeout=0.3)
        for ws, _ in watchers:
            await ws.disconnect()

    async_to_sync(scenario)()


def test_watchers_of_a_lot_share_one_feed_that_outlives_any_one_of_them(live_lot, bidders):
    lot = live_lot()
    a, b = bidders(2)

    async def scenario():
        watchers = []
        for _ in range(3):
            ws = WebsocketCommunicator(application, f"/ws/lots/{lot.pk}/", headers=HEADERS)
            assert (await ws.connect())[0]
            watchers.append((ws, (await _next(ws))["seq"]))
        feeds = LotFeed._feeds[asyncio.get_running_loop()]
        assert list(feeds) == [lot.pk] and len(feeds[lot.pk].watchers) == 3

        # When one watcher leaves, the others still get every event.
        await watchers[0][0].disconnect()
        await database_sync_to_async(services.bid_place)(actor=a, lot_id=lot.pk, amount="2300.00")
        for ws, seq in watchers[1:]:
            frame = await _next(ws)
            assert (frame["seq"], frame["amount"]) == (seq + 1, "2300.00")
        assert len(feeds[lot.pk].watchers) == 2

        # When the last leaves, the process leaves the lot's group.
        for ws, _ in watchers[1:]:
            await ws.disconnect()
        assert feeds == {}

        # A new watcher starts a new feed.
        ws = WebsocketCommunicator(application, f"/ws/lots/{lot.pk}/", headers=HEADERS)
        assert (await ws.connect())[0]
        seq = (await _next(ws))["seq"]
        await database_sync_to_async(services.bid_place)(actor=b, lot_id=lot.pk, amount="2350.00")
        frame = await _next(ws)
        assert (frame["seq"], frame["amount"]) == (seq + 1, "2350.00")
        await ws.disconnect()

    async_to_sync(scenario)()


def test_a_bid_does_not_wait_for_a_hanging_channel_layer(live_lot, bidders, settings, monkeypatch, caplog):
    """Redis accepts the connection and never answers: bids are answered at once, their events
    wait in the process's broadcast queue, in order, and are given up after BROADCAST_TIMEOUT
    each (the watchers' replay repairs them)."""
    import socket
    import threading
    import time

    received = bytearray()
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def black_hole():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)
            threading.Thread(
                target=lambda c=conn: [received.extend(b) for b in iter(lambda: c.recv(4096), b"")], daemon=True
            ).start()

    threading.Thread(target=black_hole, daemon=True).start()
    lot = live_lot()
    a, b = bidders(2)
    sender = events.sender()
    assert sender.flush(10)  # the lot's own events have left (through the layer as configured)
    port = listener.getsockname()[1]
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": f"redis://127.0.0.1:{port}/0", "socket_timeout": 30}]},
        }
    }
    monkeypatch.setattr(events, "BROADCAST_TIMEOUT", 1.5)
    before = sender.pending()
    try:
        services.bid_place(actor=a, lot_id=lot.pk, amount="2300.00")
        services.bid_place(actor=b, lot_id=lot.pk, amount="2350.00")
        # Both answered while the first event is still on its way to the silent server.
        assert sender.pending() == before + 2
        deadline = time.monotonic() + 15
        while sender.pending() > before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sender.pending() == before
    finally:
        listener.close()
        for conn in held:
            conn.close()
    assert received  # it did try
    failures = [r for r in caplog.records if r.getMessage().startswith(f"broadcast of lot {lot.pk} seq")]
    assert len(failures) == 2
