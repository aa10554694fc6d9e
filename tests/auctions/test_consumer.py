"""WebSocket /ws/lots/{id}/ through the real ASGI app (origin check, session auth): snapshot,
live events with consecutive seq, resync replay, bids with bid_result, error frames."""

import datetime as dt
import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from auctions import services
from recycling.asgi import application
from recycling.models import Lot

pytestmark = pytest.mark.django_db(transaction=True)


def _headers(user=None, origin=b"http://testserver"):
    headers = [(b"origin", origin), (b"host", b"testserver")]
    if user is not None:
        client = Client()
        client.force_login(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return headers


async def _open(lot_id, headers=None):
    """Connect; `headers` come from _headers(), made outside the event loop (it logs in)."""
    communicator = WebsocketCommunicator(application, f"/ws/lots/{lot_id}/", headers=headers or _headers())
    connected, _ = await communicator.connect()
    return communicator, connected


async def _next(communicator, timeout=3):
    return json.loads(await communicator.receive_from(timeout=timeout))


def _run(coro):
    return async_to_sync(coro)()


def test_snapshot_then_each_bid_with_consecutive_seq(live_lot, bidders):
    lot = live_lot()
    a, b = bidders(2)
    services.bid_place(actor=a, lot_id=lot.pk, amount="2300.00")

    async def scenario():
        ws, connected = await _open(lot.pk)
        assert connected
        snap = await _next(ws)
        assert snap["type"] == "snapshot"
        assert (snap["seq"], snap["status"], snap["current_price"], snap["bid_count"]) == (3, "live", "2300.00", 1)
        assert [row["amount"] for row in snap["bids"]] == ["2300.00"]
        assert snap["min_next_bid"] == "2350.00"
        await database_sync_to_async(services.bid_place)(actor=b, lot_id=lot.pk, amount="2350.00")
        event = await _next(ws)
        assert event["type"] == "bid" and event["seq"] == 4
        assert (event["amount"], event["current_price"], event["bid_count"]) == ("2350.00", "2350.00", 2)
        assert event["bidder"].endswith("2")  # "Bidder 2" / "竞买人 2"
        await ws.disconnect()

    _run(scenario)


def test_resync_replays_missed_events_in_order(live_lot, bidders):
    lot = live_lot()
    a, b = bidders(2)

    async def scenario():
        ws, _ = await _open(lot.pk)
        snap = await _next(ws)
        await ws.disconnect()
        for user, amount in ((a, "2300.00"), (b, "2350.00"), (a, "2400.00")):
            await database_sync_to_async(services.bid_place)(actor=user, lot_id=lot.pk, amount=amount)
        ws, _ = await _open(lot.pk)
        await _next(ws)  # fresh snapshot
        await ws.send_to(text_data=json.dumps({"type": "resync", "after_seq": snap["seq"]}))
        replay = [await _next(ws) for _ in range(3)]
        assert [e["seq"] for e in replay] == [snap["seq"] + 1, snap["seq"] + 2, snap["seq"] + 3]
        assert [e["amount"] for e in replay] == ["2300.00", "2350.00", "2400.00"]
        assert await ws.receive_nothing(timeout=0.2)
        await ws.disconnect()

    _run(scenario)


def test_bid_over_the_socket_needs_login_and_answers_bid_result(live_lot, bidders):
    lot = live_lot()
    (a,) = bidders(1)
    as_a = _headers(a)

    async def scenario():
        anon, _ = await _open(lot.pk)
        await _next(anon)
        await anon.send_to(text_data=json.dumps({"type": "bid", "amount": "2300.00"}))
        assert await _next(anon) == {
            "type": "bid_result",
            "ok": False,
            "code": "not_authenticated",
            "detail": "请登录后出价。",  # no language asked for: the site's default
        }
        ws, _ = await _open(lot.pk, as_a)
        await _next(ws)
        await ws.send_to(text_data=json.dumps({"type": "bid", "amount": "2250.00"}))
        refused = await _next(ws)
        assert (refused["ok"], refused["code"]) == (False, "bid_too_low")
        await ws.send_to(text_data=json.dumps({"type": "bid", "amount": "2300.00"}))
        frames = [await _next(ws), await _next(ws)]
        result = next(f for f in frames if f["type"] == "bid_result")
        event = next(f for f in frames if f["type"] == "bid")
        assert result["ok"] is True and result["lot"]["current_price"] == "2300.00"
        assert event["seq"] == result["seq"]
        await ws.disconnect()
        await anon.disconnect()

    _run(scenario)
    assert Lot.objects.get(pk=lot.pk).bid_count == 1


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        json.dumps({"no": "type"}),
        json.dumps({"type": "dance"}),
        json.dumps({"type": "resync"}),
        json.dumps({"type": "resync", "after_seq": -1}),
        "[" * 1000 + "]" * 1000,  # past Python's recursion limit
    ],
)
def test_malformed_messages_get_an_error_frame_and_the_connection_stays(live_lot, text):
    lot = live_lot()

    async def scenario():
        ws, _ = await _open(lot.pk)
        await _next(ws)
        await ws.send_to(text_data=text)
        frame = await _next(ws)
        assert (frame["type"], frame["code"]) == ("error", "bad_message")
        await ws.send_to(text_data=json.dumps({"type": "resync", "after_seq": 0}))
        assert (await _next(ws))["seq"] == 1  # still connected and served
        await ws.disconnect()

    _run(scenario)


def test_per_connection_bid_rate_limit(live_lot, bidders):
    lot = live_lot()
    (a,) = bidders(1)
    as_a = _headers(a)

    async def scenario():
        ws, _ = await _open(lot.pk, as_a)
        await _next(ws)
        codes = []
        for _ in range(7):
            await ws.send_to(text_data=json.dumps({"type": "bid", "amount": "1"}))
            frame = await _next(ws)
            codes.append(frame.get("code"))
        assert codes == ["bid_too_low"] * 5 + ["rate_limited"] * 2
        await ws.disconnect()

    _run(scenario)


def test_foreign_origin_and_invisible_lot_are_refused(live_lot, collector):
    from tests import factories

    lot = live_lot()
    draft = factories.make_lot(seller=collector)
    evil, as_seller = _headers(origin=b"http://evil.example"), _headers(collector)

    async def scenario():
        _, connected = await _open(lot.pk, evil)
        assert connected is False
        _, connected = await _open(draft.pk)
        assert connected is False
        ws, connected = await _open(draft.pk, as_seller)
        assert connected is True
        await ws.disconnect()

    _run(scenario)


def test_close_and_withdraw_reach_watchers(live_lot, bidders):
    lot = live_lot()
    (a,) = bidders(1)
    services.bid_place(actor=a, lot_id=lot.pk, amount="2300.00")

    async def scenario():
        ws, _ = await _open(lot.pk)
        snap = await _next(ws)
        await database_sync_to_async(
            lambda: Lot.objects.filter(pk=lot.pk).update(ends_at=timezone.now() - dt.timedelta(seconds=1))
        )()
        await database_sync_to_async(services.lot_close)(lot_id=lot.pk)
        closed = await _next(ws)
        assert closed == {
            **closed,
            "type": "closed",
            "seq": snap["seq"] + 1,
            "status": "awarded",
            "final_price": "2300.00",
        }
        await ws.disconnect()

    _run(scenario)


def _bid_frames(amount, **extra):
    return json.dumps({"type": "bid", **({} if amount is None else {"amount": amount}), **extra})


@pytest.mark.parametrize(
    "amount, extra",
    [
        ("1e30", {}),
        (1e30, {}),
        ("2300.00", {"max_amount": "1e30"}),
        ("9" * 40, {}),
        ("2300.00", {"max_amount": [1]}),
        (None, {}),  # no amount at all: as the REST call, invalid_amount
    ],
)
def test_an_absurd_amount_over_the_socket_is_invalid_and_the_connection_stays(live_lot, bidders, amount, extra):
    lot = live_lot()
    (a,) = bidders(1)
    as_a = _headers(a)

    async def scenario():
        ws, _ = await _open(lot.pk, as_a)
        await _next(ws)
        await ws.send_to(text_data=_bid_frames(amount, **extra))
        frame = await _next(ws)
        assert (frame["type"], frame["ok"], frame["code"]) == ("bid_result", False, "invalid_amount")
        await ws.send_to(text_data=_bid_frames("2300.00"))
        frames = [await _next(ws), await _next(ws)]
        assert next(f for f in frames if f["type"] == "bid_result")["ok"] is True
        await ws.disconnect()

    _run(scenario)
    assert Lot.objects.get(pk=lot.pk).bid_count == 1


def test_a_resync_after_a_seq_the_lot_has_not_reached_gets_a_snapshot(live_lot, bidders):
    lot = live_lot()
    a, b = bidders(2)
    services.bid_place(actor=a, lot_id=lot.pk, amount="2300.00")

    async def scenario():
        ws, _ = await _open(lot.pk)
        assert (await _next(ws))["seq"] == 3
        await ws.send_to(text_data=json.dumps({"type": "resync", "after_seq": 1003}))
        snap = await _next(ws)
        assert (snap["type"], snap["seq"]) == ("snapshot", 3)
        await database_sync_to_async(services.bid_place)(actor=b, lot_id=lot.pk, amount="2350.00")
        event = await _next(ws)  # live events keep coming, on the lot's own numbering
        assert (event["type"], event["seq"]) == ("bid", 4)
        await ws.send_to(text_data=json.dumps({"type": "resync", "after_seq": True}))
        assert (await _next(ws))["code"] == "bad_message"
        await ws.disconnect()

    _run(scenario)


def test_a_program_without_an_origin_watches_and_bids_with_its_api_token(live_lot, bidders):
    from rest_framework.authtoken.models import Token

    lot = live_lot()
    (a,) = bidders(1)
    token = Token.objects.create(user=a).key
    no_origin = [(b"host", b"testserver"), (b"authorization", f"Token {token}".encode())]
    wrong = [(b"host", b"testserver"), (b"authorization", b"Token not-a-token")]

    async def scenario():
        ws, connected = await _open(lot.pk, no_origin)
        assert connected
        assert (await _next(ws))["type"] == "snapshot"
        await ws.send_to(text_data=_bid_frames("2300.00"))
        frames = [await _next(ws), await _next(ws)]
        assert next(f for f in frames if f["type"] == "bid_result")["ok"] is True
        stranger, connected = await _open(lot.pk, wrong)  # a wrong token: watches, cannot bid
        assert connected
        await _next(stranger)
        await stranger.send_to(text_data=_bid_frames("2350.00"))
        assert (await _next(stranger))["code"] == "not_authenticated"
        await database_sync_to_async(Token.objects.filter(key=token).delete)()
        await ws.send_to(text_data=_bid_frames("2350.00"))  # the token is gone: so is bidding
        assert (await _next(ws))["code"] == "not_authenticated"
        await ws.disconnect()
        await stranger.disconnect()

    _run(scenario)
    assert Lot.objects.get(pk=lot.pk).bid_count == 1


def test_a_socket_stops_bidding_once_its_session_logs_out(live_lot, bidders):
    from django.contrib.sessions.models import Session

    lot = live_lot()
    (a,) = bidders(1)
    as_a = _headers(a)

    async def scenario():
        ws, _ = await _open(lot.pk, as_a)
        await _next(ws)
        await database_sync_to_async(Session.objects.all().delete)()  # logged out in another tab
        await ws.send_to(text_data=_bid_frames("2300.00"))
        frame = await _next(ws)
        assert (frame["ok"], frame["code"]) == (False, "not_authenticated")
        await ws.disconnect()

    _run(scenario)
    assert Lot.objects.get(pk=lot.pk).bid_count == 0


def test_replies_come_in_the_language_of_the_page(live_lot, bidders):
    lot = live_lot()
    (a,) = bidders(1)
    english_cookie = [*_headers(a)]
    english_cookie[-1] = (b"cookie", english_cookie[-1][1] + b"; django_language=en")
    accept_english = [*_headers(), (b"accept-language", b"en-US,en;q=0.9")]

    async def scenario():
        ws, _ = await _open(lot.pk, english_cookie)
        await _next(ws)
        await ws.send_to(text_data=_bid_frames("2250.00"))
        assert (await _next(ws))["detail"] == "The minimum bid is ¥2,300.00."
        anon, _ = await _open(lot.pk, accept_english)
        await _next(anon)
        await anon.send_to(text_data="nonsense")
        assert (await _next(anon))["detail"] == "Send JSON objects with a type."
        await ws.disconnect()
        await anon.disconnect()

    _run(scenario)
