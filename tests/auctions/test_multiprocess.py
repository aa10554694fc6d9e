"""Two Daphne processes sharing PostgreSQL and the Redis channel layer: a watcher on one process
sees bids placed through the other; when its process dies mid-auction it reconnects to the
other, resyncs from its last seq, and ends with exactly the events of a client that never
left."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from auctions.models import LotEvent
from tests.auctions.helpers_live import Daphne, subprocess_env

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
TIMEOUT = 15


@pytest.fixture
def daphnes():
    """daphnes(n) -> n Daphne processes on one channel layer (a prefix of this test's own);
    every one is terminated at teardown, whatever happened."""
    started: list[Daphne] = []
    env = subprocess_env(
        REDIS_URL=settings.REDIS_URL,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        THROTTLE_BIDS="100000/min",
        LOG_LEVEL="WARNING",
    )
    env["CACHE_PREFIX"] = env["CHANNELS_PREFIX"]

    def start(n: int) -> list[Daphne]:
        procs = [Daphne(env, name=f"daphne-{chr(97 + i)}") for i in range(n)]
        started.extend(procs)
        for proc in procs:
            proc.wait_ready()
        return procs

    yield start
    for proc in started:
        proc.stop()


async def _connect(session: aiohttp.ClientSession, server: Daphne, lot_id: int):
    url = server.url(f"/ws/lots/{lot_id}/", "ws")
    ws = await asyncio.wait_for(session.ws_connect(url, origin=server.origin), TIMEOUT)
    first = await _frame(ws)
    assert first["type"] == "snapshot", first
    return ws, first


async def _frame(ws) -> dict:
    message = await ws.receive(timeout=TIMEOUT)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    return json.loads(message.data)


async def _read_until(ws, seq: int, into: list[dict]) -> None:
    """Append frames to `into` until one carries `seq` or more."""
    while not any(frame["seq"] >= seq for frame in into if frame["type"] != "snapshot"):
        into.append(await _frame(ws))


def _events(frames: list[dict]) -> list[tuple]:
    """(seq, type, amount) of each event, the first copy of each seq (a resync may repeat some)."""
    seen: dict[int, tuple] = {}
    for frame in frames:
        if frame["type"] in ("snapshot", "error", "bid_result"):
            continue
        seen.setdefault(frame["seq"], (frame["seq"], frame["type"], frame.get("amount")))
    return list(seen.values())


def test_watcher_survives_its_server_dying_and_resyncs_to_the_same_events(daphnes, live_lot, bidders):
    lot = live_lot()
    users = bidders(3)
    tokens = [Token.objects.create(user=user).key for user in users]
    a_bids = [(0, "2300.00", None), (1, "2350.00", None), (0, "2400.00", "2600.00")]
    # After the crash: a proxy answer (2 events), a proxy duel (3 events), another answer.
    b_bids = [(1, "2450.00", None), (2, "2550.00", "3000.00"), (1, "2700.00", None)]
    server_a, server_b = daphnes(2)

    async def scenario():
        async with aiohttp.ClientSession() as session:

            async def bid(who: int, amount: str, ceiling: str | None) -> dict:
                body = {"amount": amount} | ({"max_amount": ceiling} if ceiling else {})
                async with session.post(
                    server_b.url(f"/api/v1/lots/{lot.pk}/bids/"),
                    json=body,
                    headers={"Authorization": f"Token {tokens[who]}"},
                ) as response:
                    assert response.status == 201, await response.text()
                    return await response.json()

            watcher, first = await _connect(session, server_a, lot.pk)
            steady, steady_first = await _connect(session, server_b, lot.pk)
            assert first["seq"] == steady_first["seq"]
            start = first["seq"]

            # Bids through B reach the watcher on A: the Redis channel layer joins the processes.
            for who, amount, ceiling in a_bids:
                placed = await bid(who, amount, ceiling)
            on_a: list[dict] = []
            await _read_until(watcher, placed["lot"]["seq"], on_a)
            assert [(f["type"], f["amount"]) for f in on_a] == [("bid", amount) for _, amount, _ in a_bids]
            last_seen = max(f["seq"] for f in on_a)

            server_a.kill()
            gone = await watcher.receive(timeout=TIMEOUT)
            assert gone.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)

            for who, amount, ceiling in b_bids:
                placed = await bid(who, amount, ceiling)
            final = placed["lot"]["seq"]

            # Reconnect to B and ask for everything after the last event seen on A.
            again, snapshot = await _connect(session, server_b, lot.pk)
            assert snapshot["seq"] == final
            await again.send_json({"type": "resync", "after_seq": last_seen})
            on_b: list[dict] = []
            await _read_until(again, final, on_b)
            assert [f["seq"] for f in on_b] == list(range(last_seen + 1, final + 1))  # the replay

            steady_frames: list[dict] = []
            await _read_until(steady, final, steady_frames)
            assert await _quiet(steady) and await _quiet(again)
            for ws in (again, steady):
                await ws.close()
            return start, final, on_a + on_b, steady_frames

    start, final, watcher_frames, steady_frames = asyncio.run(scenario())

    watched, steady = _events(watcher_frames), _events(steady_frames)
    assert [seq for seq, _, _ in steady] == list(range(start + 1, final + 1))
    assert [f["seq"] for f in steady_frames] == list(range(start + 1, final + 1))  # no repeats live
    assert watched == steady
    rows = LotEvent.objects.filter(lot=lot, seq__gt=start).order_by("seq")
    stored = [(e.seq, e.type, e.payload.get("amount")) for e in rows]
    assert steady == stored
    assert [amount for _, kind, amount in steady if kind == "bid"] == [
        "2300.00",
        "2350.00",
        "2400.00",
        "2450.00",
        "2500.00",  # 0's proxy answers
        "2550.00",
        "2600.00",  # 0's proxy at its ceiling
        "2650.00",  # 2 leads one increment over it
        "2700.00",
        "2750.00",  # 2's proxy answers
    ]


async def _quiet(ws, seconds: float = 0.3) -> bool:
    """Nothing more arrives (no stray or duplicated live frame)."""
    try:
        message = await asyncio.wait_for(ws.receive(), seconds)
    except TimeoutError:
        return True
    raise AssertionError(f"unexpected frame {message!r}")


def test_a_watcher_of_a_quiet_lot_stays_connected(daphnes, live_lot, bidders):
    # Longer than redis-py 8's 5 s socket timeout: with the list-based core layer, whose
    # blocking receive also lasted 5 s, a quiet process dropped one watcher with 1011 every
    # ~5 s. The Pub/Sub layer's reads have a timeout of their own.
    lot = live_lot()
    (user,) = bidders(1)
    token = Token.objects.create(user=user).key
    (server,) = daphnes(1)

    async def scenario():
        async with aiohttp.ClientSession() as session:
            ws, first = await _connect(session, server, lot.pk)
            try:  # no event at all for longer than the socket timeout
                message = await asyncio.wait_for(ws.receive(), 8)
            except TimeoutError:
                pass
            else:
                raise AssertionError(f"a quiet watcher was dropped: {message!r}, close code {ws.close_code}")
            async with session.post(
                server.url(f"/api/v1/lots/{lot.pk}/bids/"),
                json={"amount": "2300.00"},
                headers={"Authorization": f"Token {token}"},
            ) as response:
                assert response.status == 201, await response.text()
            frame = await _frame(ws)
            assert (frame["type"], frame["seq"], frame["amount"]) == ("bid", first["seq"] + 1, "2300.00")
            await ws.close()

    asyncio.run(scenario())
