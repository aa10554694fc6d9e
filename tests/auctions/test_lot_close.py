"""lot_open / lot_close: on time, exactly once, with the award rules; the clock command."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from auctions import services
from auctions.models import LotEvent
from core.models import Notification
from recycling.models import Lot
from tests import factories

pytestmark = pytest.mark.django_db
D = Decimal


def _end_now(lot):
    Lot.objects.filter(pk=lot.pk).update(ends_at=timezone.now() - dt.timedelta(milliseconds=1))


def _types(lot):
    return list(LotEvent.objects.filter(lot=lot).order_by("seq").values_list("type", flat=True))


def test_highest_bid_wins_and_everyone_is_told(live_lot, bidders, collector):
    lot = live_lot()
    a, b = bidders(2)
    services.bid_place(actor=a, lot_id=lot.pk, amount="2300.00")
    services.bid_place(actor=b, lot_id=lot.pk, amount="2350.00")
    _end_now(lot)
    closed = services.lot_close(lot_id=lot.pk)
    assert (closed.status, closed.winner_id, closed.final_price) == ("awarded", b.company_id, D("2350.00"))
    assert _types(lot)[-1] == "closed"
    event = LotEvent.objects.get(lot=lot, type="closed")
    assert event.payload == {"status": "awarded", "final_price": "2350.00", "winner_no": 2, "bidders": 2, "reason": ""}
    won = Notification.objects.get(user=b)
    assert (won.kind, won.title) == ("auction_won", f"您已以每吨 ¥2,350.00 竞得 {lot.code}")
    assert sorted(Notification.objects.filter(user=a).values_list("kind", flat=True)) == ["auction_lost", "outbid"]
    sold = Notification.objects.get(user=collector, kind="lot_awarded")
    assert sold.title == f"您的标的 {lot.code} 已以每吨 ¥2,350.00 成交"


def test_close_happens_once(live_lot, bidders):
    lot = live_lot()
    (a,) = bidders(1)
    services.bid_place(actor=a, lot_id=lot.pk, amount="2300.00")
    _end_now(lot)
    assert services.lot_close(lot_id=lot.pk) is not None
    assert services.lot_close(lot_id=lot.pk) is None
    assert _types(lot).count("closed") == 1


def test_not_before_its_end(live_lot):
    lot = live_lot()
    assert services.lot_close(lot_id=lot.pk) is None
    assert Lot.objects.get(pk=lot.pk).status == "live"


def test_reserve_not_met_is_unsold(live_lot, bidders, collector):
    lot = live_lot(reserve_price=D("2500.00"))
    (a,) = bidders(1)
    services.bid_place(actor=a, lot_id=lot.pk, amount="2400.00")
    _end_now(lot)
    closed = services.lot_close(lot_id=lot.pk)
    assert (closed.status, closed.winner_id, closed.final_price) == ("unsold", None, None)
    assert LotEvent.objects.get(lot=lot, type="closed").payload["reason"] == "reserve_not_met"
    notice = Notification.objects.get(user=collector, kind="lot_unsold")
    assert notice.body == "最高出价未达到您设定的保留价。"  # why it did not sell


def test_reserve_met_exactly_is_awarded(live_lot, bidders):
    lot = live_lot(reserve_price=D("2400.00"))
    (a,) = bidders(1)
    services.bid_place(actor=a, lot_id=lot.pk, amount="2400.00")
    _end_now(lot)
    assert services.lot_close(lot_id=lot.pk).status == "awarded"


def test_min_bidders_not_met_is_unsold(live_lot, bidders):
    lot = live_lot(min_bidders=2)
    (a,) = bidders(1)
    services.bid_place(actor=a, lot_id=lot.pk, amount="2300.00")
    services.bid_place(actor=a, lot_id=lot.pk, amount="2350.00")
    _end_now(lot)
    closed = services.lot_close(lot_id=lot.pk)
    assert closed.status == "unsold"
    assert LotEvent.objects.get(lot=lot, type="closed").payload["reason"] == "min_bidders_not_met"


def test_no_bids_is_unsold(live_lot):
    lot = live_lot()
    _end_now(lot)
    assert services.lot_close(lot_id=lot.pk).status == "unsold"


def test_sealed_highest_wins_at_its_own_price_and_amounts_appear(live_lot, bidders, api):
    lot = live_lot(format="sealed")
    a, b, c = bidders(3)
    services.bid_place(actor=a, lot_id=lot.pk, amount="2500.00")
    services.bid_place(actor=b, lot_id=lot.pk, amount="2700.00")
    services.bid_place(actor=c, lot_id=lot.pk, amount="2700.00")  # equal, later: loses
    _end_now(lot)
    closed = services.lot_close(lot_id=lot.pk)
    assert (closed.winner_id, closed.final_price) == (b.company_id, D("2700.00"))
    amounts = [row["amount"] for row in api.get(f"/api/v1/lots/{lot.pk}/bids/").json()]
    assert amounts == ["2700.00", "2700.00", "2500.00"]


def test_clock_opens_and_closes_due_lots(collector, live_lot, bidders):
    now = timezone.now()
    scheduled = factories.make_lot(seller=collector, status="scheduled", starts_at=now + dt.timedelta(hours=1))
    Lot.objects.filter(pk=scheduled.pk).update(starts_at=now - dt.timedelta(seconds=1))
    ending = live_lot()
    _end_now(ending)
    call_command("run_auction_clock", "--once")
    assert Lot.objects.get(pk=scheduled.pk).status == "live"
    assert Lot.objects.get(pk=ending.pk).status == "unsold"
    assert _types(scheduled)[-1] == "opened"
