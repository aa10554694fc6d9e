"""bid_place: English rules, proxy vectors, sealed bids, soft close; failures change nothing."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Company, CompanyDocument
from auctions import services
from auctions.models import Bid, LotEvent
from auctions.services import bidding
from core.errors import DomainError
from recycling.models import Category, Lot
from tests import factories
from tests.mail import sent_mail

pytestmark = pytest.mark.django_db
D = Decimal


def _place(user, lot, amount, max_amount=None):
    return services.bid_place(actor=user, lot_id=lot.pk, amount=amount, max_amount=max_amount)


def _visible(lot):
    return [(b.bidder_no, str(b.amount), b.is_proxy) for b in Bid.objects.filter(lot=lot).order_by("seq")]


def _state(lot):
    lot.refresh_from_db()
    return (lot.current_price, lot.bid_count, lot.seq, lot.ends_at, Bid.objects.filter(lot=lot).count())


def _refused(user, lot, amount, code, max_amount=None):
    before = _state(lot)
    with pytest.raises(DomainError) as info:
        _place(user, lot, amount, max_amount)
    assert info.value.code == code
    assert _state(lot) == before
    return info.value


def test_first_bid_at_start_price_then_increments(live_lot, bidders):
    lot = live_lot()
    a, b = bidders(2)
    _place(a, lot, "2300.00")
    _place(b, lot, "2350.00")
    lot.refresh_from_db()
    assert (lot.current_price, lot.bid_count) == (D("2350.00"), 2)
    assert _visible(lot) == [(1, "2300.00", False), (2, "2350.00", False)]
    assert list(LotEvent.objects.filter(lot=lot).values_list("type", flat=True)) == [
        "listed",
        "approved",
        "bid",
        "bid",
    ]
    assert list(Bid.objects.filter(lot=lot).order_by("seq").values_list("seq", flat=True)) == [3, 4]


def test_too_low_names_the_minimum(live_lot, bidders):
    lot = live_lot()
    a, b = bidders(2)
    _refused(a, lot, "2250.00", "bid_too_low")
    _place(a, lot, "2300.00")
    error = _refused(b, lot, "2300.00", "bid_too_low")
    assert (error.detail, error.extra) == ("最低出价为 ¥2,350.00。", {"min_next_bid": "2350.00"})


@pytest.mark.parametrize("amount", ["2325.00", "2300.01", "abc", "-5", "0", "NaN", "1e12", "2350.001"])
def test_off_grid_or_malformed_amounts_are_invalid(live_lot, bidders, amount):
    lot = live_lot()
    (a,) = bidders(1)
    if amount in ("2325.00",):
        _place(a, lot, "2300.00")
        (b,) = [factories.make_member(Company.Role.PROCESSOR)]
        _refused(b, lot, "2375.00", "invalid_amount")
        return
    _refused(a, lot, amount, "invalid_amount")


def test_own_lot_unverified_wrong_role_and_not_live(live_lot, collector, carrier, pending_user, bidders, coop_admin):
    lot = live_lot()
    with pytest.raises(DomainError) as info:
        _place(collector, lot, "2300.00")
    assert info.value.code == "wrong_role"  # a collector is not a buyer at all
    seller_processor = factories.make_user(company=lot.seller)
    Company.objects.filter(pk=lot.seller_id).update(role="processor")
    seller_processor.company.refresh_from_db()
    _refused(seller_processor, lot, "2300.00", "own_lot")
    Company.objects.filter(pk=lot.seller_id).update(role="collector")
    for user, code in (
        (carrier, "wrong_role"),
        (pending_user, "company_not_verified"),
        (coop_admin, "company_not_verified"),
    ):
        with pytest.raises(DomainError) as info:
            _place(user, lot, "2300.00")
        assert info.value.code == code
    (a,) = bidders(1)
    Company.objects.filter(pk=a.company_id).update(status="suspended")
    a.company.refresh_from_db()
    _refused(a, lot, "2300.00", "company_not_verified")
    scheduled = factories.make_lot(seller=lot.seller.members.first(), status="scheduled")
    (b,) = [factories.make_member(Company.Role.PROCESSOR)]
    _refused(b, scheduled, "2300.00", "auction_not_live")
    Lot.objects.filter(pk=lot.pk).update(ends_at=timezone.now() - dt.timedelta(seconds=1))
    _refused(b, lot, "2300.00", "auction_not_live")


def test_licence_required_categories_need_a_covering_unexpired_licence(live_lot, bidders, tmp_path):
    lot = live_lot(category=Category.objects.get(code="battery-lead-acid"))
    (a,) = bidders(1)
    _refused(a, lot, "2300.00", "licence_required")
    doc = CompanyDocument.objects.create(
        company=a.company,
        kind="processing_licence",
        file="x.pdf",
        content_type="application/pdf",
        size=1,
        expires_on=timezone.localdate() - dt.timedelta(days=1),
    )
    doc.categories.set([Category.objects.get(code="batteries")])
    _refused(a, lot, "2300.00", "licence_required")
    CompanyDocument.objects.filter(pk=doc.pk).update(expires_on=timezone.localdate() + dt.timedelta(days=300))
    _place(a, lot, "2300.00")
    assert Bid.objects.filter(lot=lot).count() == 1


# --- Proxy bidding vectors (increment 50) ---------------------------------------------


def test_proxy_outbid_answers_one_increment_over_the_newcomer(live_lot, bidders):
    lot = live_lot()
    a, b = bidders(2)
    _place(a, lot, "2300.00", max_amount="2600.00")
    result = _place(b, lot, "2400.00")
    assert result.leading is False
    lot.refresh_from_db()
    assert lot.current_price == D("2450.00")
    assert _visible(lot) == [(1, "2300.00", False), (2, "2400.00", False), (1, "2450.00", True)]


def test_higher_maximum_wins_at_one_increment_over_the_second(live_lot, bidders):
    lot = live_lot()
    a, b = bidders(2)
    _place(a, lot, "2300.00", max_amount="2600.00")
    result = _place(b, lot, "2350.00", max_amount="3000.00")
    assert result.leading is True
    lot.refresh_from_db()
    assert lot.current_price == D("2650.00")
    assert _visible(lot) == [
        (1, "2300.00", False),
        (2, "2350.00", False),
        (1, "2600.00", True),
        (2, "2650.00", True),
    ]


def test_price_capped_at_the_highest_maximum(live_lot, bidders):
    lot = live_lot()
    a, b = bidders(2)
    _place(a, lot, "2300.00", max_amount="2600.00")
    _place(b, lot, "2350.00", max_amount="2620.00")  # one increment over 2600 would be 2650
    lot.refresh_from_db()
    assert lot.current_price == D("2620.00")
    assert bidding._leader(lot).bidder_id == b.company_id


def test_equal_maxima_the_earlier_stands(live_lot, bidders):
    lot = live_lot()
    a, b = bidders(2)
    _place(a, lot, "2300.00", max_amount="2600.00")
    result = _place(b, lot, "2350.00", max_amount="2600.00")
    assert result.leading is False
    lot.refresh_from_db()
    assert lot.current_price == D("2600.00")
    assert bidding._leader(lot).bidder_id == a.company_id


def test_typed_bid_equal_to_the_leaders_maximum_loses_to_it(live_lot, bidders):
    lot = live_lot()
    a, b = bidders(2)
    _place(a, lot, "2300.00", max_amount="2500.00")
    assert _place(b, lot, "2500.00").leading is False
    lot.refresh_from_db()
    assert lot.current_price == D("2500.00")
    assert bidding._leader(lot).bidder_id == a.company_id


def test_maximum_below_the_next_increment_is_just_a_bid(live_lot, bidders):
    lot = live_lot()
    a, b = bidders(2)
    _place(a, lot, "2300.00")
    _place(b, lot, "2350.00", max_amount="2360.00")  # ceiling less than one increment above
    c = factories.make_member(Company.Role.PROCESSOR)
    assert _place(c, lot, "2400.00").leading is True
    lot.refresh_from_db()
    assert lot.current_price == D("2400.00")


def test_three_maxima(live_lot, bidders):
    lot = live_lot()
    a, b, c = bidders(3)
    _place(a, lot, "2300.00", max_amount="2800.00")
    _place(b, lot, "2350.00", max_amount="2500.00")
    _place(c, lot, "2600.00", max_amount="3100.00")  # price stood at 2550 (a leads)
    lot.refresh_from_db()
    assert lot.current_price == D("2850.00")
    assert bidding._leader(lot).bidder_id == c.company_id


def test_max_below_bid_is_invalid(live_lot, bidders):
    lot = live_lot()
    (a,) = bidders(1)
    _refused(a, lot, "2400.00", "invalid_amount", max_amount="2350.00")


# --- Soft close ---------------------------------------------------------------------


def test_bid_in_the_last_minutes_extends_to_now_plus_window(live_lot, bidders):
    now = timezone.now()
    lot = live_lot(ends_at=now + dt.timedelta(seconds=60), soft_close_seconds=300, max_extension_seconds=3600)
    (a,) = bidders(1)
    _place(a, lot, "2300.00")
    lot.refresh_from_db()
    assert now + dt.timedelta(seconds=299) < lot.ends_at <= timezone.now() + dt.timedelta(seconds=300)
    bid, extended = LotEvent.objects.filter(lot=lot).order_by("-seq")[:2][::-1]
    assert (bid.type, extended.type) == ("bid", "extended")
    # The bid's own event already carries the end it led to (its WebSocket frame shows it).
    assert bid.payload["ends_at"] == extended.payload["ends_at"] == timezone.localtime(lot.ends_at).isoformat()


def test_extension_never_passes_the_cap(live_lot, bidders):
    now = timezone.now()
    lot = live_lot(ends_at=now + dt.timedelta(seconds=30), soft_close_seconds=300, max_extension_seconds=120)
    (a,) = bidders(1)
    _place(a, lot, "2300.00")
    lot.refresh_from_db()
    assert lot.ends_at == lot.scheduled_end + dt.timedelta(seconds=120)


def test_bid_outside_the_window_does_not_extend(live_lot, bidders):
    lot = live_lot()
    ends = lot.ends_at
    (a,) = bidders(1)
    _place(a, lot, "2300.00")
    lot.refresh_from_db()
    assert lot.ends_at == ends


# --- Sealed ----------------------------------------------------------------------------


def test_sealed_bids_hidden_raise_own_bid_only(live_lot, bidders, api):
    lot = live_lot(format="sealed")
    a, b = bidders(2)
    _place(a, lot, "2500.00")
    _place(b, lot, "2400.00")  # below a's bid is fine: bids are secret
    _refused(a, lot, "2500.00", "bid_too_low")
    _place(a, lot, "2550.00")
    lot.refresh_from_db()
    assert lot.current_price is None and lot.bid_count == 3
    body = api.get(f"/api/v1/lots/{lot.pk}/bids/").json()
    assert [row["amount"] for row in body] == [None, None, None]


def _mailed(messages, *users) -> list[list[str]]:
    """The recipients of the e-mails to `users` (the seller hears of its lot's approval too)."""
    addresses = {user.email for user in users}
    return [m.to for m in messages if set(m.to) <= addresses]


def test_outbid_bidder_is_notified_once_per_lost_lead(live_lot, bidders, django_capture_on_commit_callbacks):
    from core.models import Notification

    lot = live_lot()
    a, b = bidders(2)
    _place(a, lot, "2300.00")
    with django_capture_on_commit_callbacks(execute=True):
        _place(b, lot, "2350.00")
    assert list(Notification.objects.filter(kind="outbid").values_list("user__username", flat=True)) == ["bidder1"]
    assert _mailed(sent_mail(), a, b) == [[a.email]]
    _place(b, lot, "2400.00")  # raising one's own lead outbids nobody
    assert Notification.objects.filter(kind="outbid").count() == 1


def test_repeated_outbids_update_the_unread_notice_and_mail_once(live_lot, bidders, django_capture_on_commit_callbacks):
    from core.models import Notification
    from core.services import notification_mark_read

    lot = live_lot()
    other = live_lot()
    a, b = bidders(2)
    with django_capture_on_commit_callbacks(execute=True):
        _place(a, lot, "2300.00")
        _place(b, lot, "2350.00")  # a outbid: a notice and an e-mail
        _place(a, lot, "2400.00")  # b outbid: a notice and an e-mail
        _place(b, lot, "2450.00")  # a outbid again, notice unread: updated, no e-mail
    notices = list(Notification.objects.filter(user=a, kind="outbid"))
    assert len(notices) == 1
    assert notices[0].body == "当前价格为 ¥2,450.00/吨。"
    assert _mailed(sent_mail(), a, b) == [[a.email], [b.email]]

    # Once read, the next outbid is news again; another lot has its own notice.
    notification_mark_read(user=a)
    with django_capture_on_commit_callbacks(execute=True):
        _place(a, lot, "2500.00")
        _place(b, lot, "2550.00")
        _place(a, other, "2300.00")
        _place(b, other, "2350.00")
    assert Notification.objects.filter(user=a, kind="outbid").count() == 3
    assert Notification.objects.filter(user=a, kind="outbid", read_at__isnull=True).count() == 2
    # b never read its notice: updated, no e-mail; a's on each lot is news.
    assert _mailed(sent_mail(), a, b)[2:] == [[a.email], [a.email]]


def test_proxy_defence_does_not_notify_the_defender(live_lot, bidders):
    from core.models import Notification

    lot = live_lot()
    a, b = bidders(2)
    _place(a, lot, "2300.00", max_amount="2600.00")
    _place(b, lot, "2400.00")  # a's proxy answers; a stays leading
    assert not Notification.objects.filter(kind="outbid").exists()


def test_a_stale_bid_is_refused_without_taking_the_lock(live_lot, bidders):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lot = live_lot()
    a, b = bidders(2)
    _place(a, lot, "2300.00")

    with CaptureQueriesContext(connection) as ctx, pytest.raises(DomainError) as refused:
        _place(b, lot, "2300.00")  # the price it heard of is already taken

    assert refused.value.code == "bid_too_low" and refused.value.extra == {"min_next_bid": "2350.00"}
    statements = [q["sql"].upper() for q in ctx.captured_queries]
    assert not any("FOR UPDATE" in sql or sql.startswith(("BEGIN", "SAVEPOINT")) for sql in statements)
    assert len(statements) == 1  # the lot as last committed, with the strike ban


def _stale_pre_check(monkeypatch, lot_id):
    """The pre-check sees the lot one event behind, as a bid that raced another would."""
    real = bidding._lot_for_bid

    def stale(lot_pk, company):
        seen = real(lot_pk, company)
        if lot_pk == lot_id:
            seen.seq -= 1
        return seen

    monkeypatch.setattr(bidding, "_lot_for_bid", stale)


def test_a_bid_whose_lot_moved_since_its_check_is_checked_again(live_lot, bidders, monkeypatch):
    from django.db import transaction

    from recycling.services import lock_lot_at

    lot = live_lot()
    a, b = bidders(2)
    _place(a, lot, "2300.00")
    lot.refresh_from_db()
    with transaction.atomic():
        moved, locked, _ = lock_lot_at(lot.pk, lot.seq - 1, columns=["id", "seq", "current_price"])
        assert (locked, moved.seq, moved.current_price) == (False, lot.seq, D("2300.00"))

    _stale_pre_check(monkeypatch, lot.pk)
    with pytest.raises(DomainError) as refused:
        _place(b, lot, "2300.00")  # checked again on the lot as it is: too low now
    assert refused.value.code == "bid_too_low" and refused.value.extra == {"min_next_bid": "2350.00"}
    result = _place(b, lot, "2350.00")  # still high enough: queued again, and placed
    assert result.leading and result.outbid_company_id == a.company_id
    assert _visible(lot) == [(1, "2300.00", False), (2, "2350.00", False)]


def test_a_bid_that_found_the_lot_moved_too_often_waits_for_the_plain_lock(live_lot, bidders, monkeypatch):
    """After _REQUEUES moves, the bid takes the lock whatever the lot's state and is judged
    under it (here: no requeue at all, the pre-check one event behind)."""
    lot = live_lot()
    a, b = bidders(2)
    _place(a, lot, "2300.00")
    monkeypatch.setattr(bidding, "_REQUEUES", 0)
    _stale_pre_check(monkeypatch, lot.pk)

    with pytest.raises(DomainError) as refused:
        _place(b, lot, "2300.00")
    assert refused.value.code == "bid_too_low" and refused.value.extra == {"min_next_bid": "2350.00"}
    result = _place(b, lot, "2350.00")
    assert result.leading and result.outbid_company_id == a.company_id
    assert _visible(lot) == [(1, "2300.00", False), (2, "2350.00", False)]


def test_an_outbidding_bid_reads_the_lot_twice_and_never_a_deferred_field(live_lot, bidders):
    """The engine reads a few of the lot's columns (before the lock and under it); a deferred
    field touched anywhere on the way (the engine, the notice, the response) would cost a query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from auctions.api import bid_result_body
    from core.models import Notification

    lot = live_lot()
    a, b = bidders(2)
    _place(a, lot, "2300.00")
    _place(b, lot, "2350.00")  # a has an unread outbid notice now

    with CaptureQueriesContext(connection) as ctx:
        result = services.bid_place(actor=a, lot_id=lot.pk, amount="2400.00")
        bid_result_body(result)

    reads = [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    # On PostgreSQL both reads go through database functions (the first read and the lock).
    lot_table = re.compile(r"FROM (recycling_lot\b|recycling_lock_lot_at\(|auctions_lot_for_bid\()")
    lot_reads = [sql for sql in reads if lot_table.search(sql.replace('"', ""))]
    assert len(lot_reads) == 2  # as last committed; under the lock (with the standing bid)
    assert result.outbid_company_id == b.company_id
    assert Notification.objects.filter(kind="outbid", user__company=b.company, read_at__isnull=True).count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "1e30"},
        {"amount": 1e30},
        {"amount": "2300.00", "max_amount": "1e30"},
        {},
        {"amount": "9" * 40},
        {"amount": "2300.00", "max_amount": [1]},
        {"amount": "2300.00", "max_amount": {"x": 1}},
        {"amount": "-1e30"},
    ],
)
def test_absurd_bids_through_the_api_are_invalid_amount_and_change_nothing(live_lot, bidders, api, body):
    lot = live_lot()
    (a,) = bidders(1)
    api.force_authenticate(a)

    response = api.post(f"/api/v1/lots/{lot.pk}/bids/", body, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "invalid_amount")
    lot.refresh_from_db()
    assert (lot.bid_count, lot.seq, lot.current_price) == (0, 2, None)


def test_a_refused_bid_names_the_minimum_for_programs_too(live_lot, bidders, api):
    lot = live_lot()
    a, b = bidders(2)
    _place(a, lot, "2300.00")
    api.force_authenticate(b)

    response = api.post(f"/api/v1/lots/{lot.pk}/bids/", {"amount": "2300.00"}, format="json")

    assert response.status_code == 409
    assert response.json() == {"code": "bid_too_low", "detail": "最低出价为 ¥2,350.00。", "min_next_bid": "2350.00"}


def test_a_bid_that_would_make_the_lot_worth_more_than_one_lot_trades_for_is_invalid(live_lot, bidders):
    """30 t: ¥3,000,000,000/t is ¥90 billion, the most; a ceiling above it is refused too."""
    lot = live_lot()
    a, b = bidders(2)
    _refused(a, lot, "3000000050.00", "invalid_amount")
    _refused(a, lot, "2300.00", "invalid_amount", max_amount="3000000050.00")

    _place(b, lot, "3000000000.00")

    lot.refresh_from_db()
    assert (lot.bid_count, lot.current_price) == (1, D("3000000000.00"))


def test_a_withdrawn_lot_refuses_bids_as_a_closed_auction_and_an_unpublished_one_is_not_found(
    live_lot, bidders, coop_admin, collector
):
    from recycling.services import lot_withdraw

    lot = live_lot()
    never_published = factories.make_lot(seller=collector, status="pending_review")
    for withdrawn in (lot, never_published):
        lot_withdraw(actor=coop_admin, lot_id=withdrawn.pk, reason="重复挂牌")
    (a,) = bidders(1)

    _refused(a, lot, "2300.00", "auction_not_live")  # still on the board, as withdrawn
    _refused(a, never_published, "2300.00", "not_found")
