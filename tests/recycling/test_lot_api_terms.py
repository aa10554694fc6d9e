"""Lot terms a client that knows only API.md can work with: a lot listed with the contract's
fields alone gets the documented pickup window, and every lot says its next minimum bid and
increment (min_next_bid, current_increment), also under the default ladder."""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Company
from auctions import services as auction_services
from core.errors import DomainError
from core.models import AuditEntry
from recycling import services
from recycling.models import Lot
from tests import factories

pytestmark = pytest.mark.django_db
D = Decimal


def _contract_terms(starts: dt.datetime, ends: dt.datetime, **overrides) -> dict:
    """Every writable lot field API.md lists, and nothing else (no pickup window)."""
    terms = {
        "title": "重废钢 30 吨",
        "category": "steel-heavy",
        "quantity": "30.000",
        "unit": "t",
        "description": "厂区拆除重废，厚度 6mm 以上。",
        "district": "daoli",
        "address": "道里区新发镇工业园 8 号",
        "latitude": "45.756967",
        "longitude": "126.642464",
        "format": "english",
        "start_price": "2300.00",
        "bid_increment": None,
        "deposit": "0.00",
        "starts_at": starts.isoformat(),
        "ends_at": ends.isoformat(),
        "soft_close_seconds": 300,
        "max_extension_seconds": 3600,
        "min_bidders": 1,
    }
    terms.update(overrides)
    return terms


def _schedule() -> tuple[dt.datetime, dt.datetime]:
    starts = timezone.now().replace(microsecond=0) + dt.timedelta(hours=1)
    return starts, starts + dt.timedelta(days=1)


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _figures(api, lot) -> tuple:
    body = api.get(f"/api/v1/lots/{lot.pk}/").json()
    return body["bid_increment"], body["current_increment"], body["min_next_bid"]


# --- The pickup window's default ------------------------------------------------------


@pytest.mark.parametrize(("extension", "until"), [(3600, dt.timedelta(days=10, hours=1)), (0, dt.timedelta(days=10))])
def test_a_lot_with_only_the_contract_fields_gets_the_default_pickup_window(api, collector, extension, until):
    # given
    starts, ends = _schedule()
    terms = _contract_terms(starts, ends, max_extension_seconds=extension)

    # when
    response = api.as_user(collector).post("/api/v1/lots/", terms, format="json")

    # then: from the scheduled end to PAYMENT_DAYS (3) + 7 days after the latest possible close
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert (_when(body["pickup_from"]), _when(body["pickup_until"])) == (ends, ends + until)
    lot = Lot.objects.get()
    assert (lot.pickup_from, lot.pickup_until) == (ends, ends + until)


def test_the_minimal_terms_are_enough_too(api, collector):
    starts, ends = _schedule()
    terms = {"title": "废纸", "category": "paper-occ", "quantity": "12.5", "start_price": "1450.00"}

    response = api.as_user(collector).post(
        "/api/v1/lots/", {**terms, "starts_at": starts.isoformat(), "ends_at": ends.isoformat()}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (_when(body["pickup_from"]), _when(body["pickup_until"])) == (ends, ends + dt.timedelta(days=10, hours=1))
    assert (body["bid_increment"], body["current_increment"], body["min_next_bid"]) == (None, "50.00", "1450.00")


def test_the_default_follows_the_payment_days_setting(api, collector, settings):
    settings.PAYMENT_DAYS = 5
    starts, ends = _schedule()

    response = api.as_user(collector).post("/api/v1/lots/", _contract_terms(starts, ends), format="json")

    assert response.status_code == 201, response.content
    assert _when(response.json()["pickup_until"]) == ends + dt.timedelta(days=12, hours=1)


def test_an_explicit_pickup_window_is_kept(api, collector):
    starts, ends = _schedule()
    window = {"pickup_from": (ends + dt.timedelta(days=1)).isoformat(), "pickup_until": (ends + dt.timedelta(days=4))}
    window["pickup_until"] = window["pickup_until"].isoformat()

    response = api.as_user(collector).post("/api/v1/lots/", _contract_terms(starts, ends, **window), format="json")

    assert response.status_code == 201, response.content
    lot = Lot.objects.get()
    assert (lot.pickup_from, lot.pickup_until) == (ends + dt.timedelta(days=1), ends + dt.timedelta(days=4))


def test_an_explicit_pickup_window_before_the_end_is_still_refused(api, collector):
    # given
    starts, ends = _schedule()
    terms = _contract_terms(starts, ends, pickup_from=(ends - dt.timedelta(minutes=1)).isoformat())

    # when
    response = api.as_user(collector).post("/api/v1/lots/", terms, format="json", HTTP_ACCEPT_LANGUAGE="en")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_pickup_window",
        "detail": "The pickup window must start after the auction ends.",
        "fields": {"pickup_from": ["Before the auction ends."]},
    }
    assert Lot.objects.count() == 0
    assert not AuditEntry.objects.filter(target_type="lot").exists()


def test_a_default_window_follows_a_new_schedule_and_an_explicit_one_stays(api, collector):
    # given: a lot listed without a window, read back whole by its client
    starts, ends = _schedule()
    client = api.as_user(collector)
    lot_id = client.post("/api/v1/lots/", _contract_terms(starts, ends), format="json").json()["id"]
    read = client.get(f"/api/v1/lots/{lot_id}/").json()
    later = ends + dt.timedelta(days=2)

    # when: it moves the end and sends the window it read back unchanged
    echoed = {"ends_at": later.isoformat(), "pickup_from": read["pickup_from"], "pickup_until": read["pickup_until"]}
    moved = client.patch(f"/api/v1/lots/{lot_id}/", echoed, format="json")

    # then: the window moved with the end
    assert moved.status_code == 200, moved.content
    lot = Lot.objects.get(pk=lot_id)
    assert (lot.pickup_from, lot.pickup_until) == (later, later + dt.timedelta(days=10, hours=1))

    # when: a window is set, then the end moves again
    explicit = {"pickup_from": later + dt.timedelta(days=1), "pickup_until": later + dt.timedelta(days=3)}
    services.lot_update(actor=collector, lot_id=lot_id, **explicit)
    services.lot_update(actor=collector, lot_id=lot_id, ends_at=later - dt.timedelta(hours=5))

    # then: the explicit window stays as it was set
    lot.refresh_from_db()
    assert (lot.pickup_from, lot.pickup_until) == (explicit["pickup_from"], explicit["pickup_until"])


def test_a_schedule_moved_past_an_explicit_window_is_refused(api, collector):
    lot = factories.make_lot(seller=collector)  # pickup from end + 1 day to end + 8 days
    before = (lot.ends_at, lot.pickup_from, lot.pickup_until)

    response = api.as_user(collector).patch(
        f"/api/v1/lots/{lot.pk}/", {"ends_at": (lot.ends_at + dt.timedelta(days=2)).isoformat()}, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (400, "invalid_pickup_window")
    lot.refresh_from_db()
    assert (lot.ends_at, lot.pickup_from, lot.pickup_until) == before


# --- min_next_bid and current_increment -----------------------------------------------


@pytest.fixture
def bidders(db):
    def make(n):
        return [factories.make_member(Company.Role.PROCESSOR, username=f"bidder{i}") for i in range(1, n + 1)]

    return make


def _live(collector, **terms) -> Lot:
    return factories.make_live_lot(seller=collector, **{"deposit": D("0.00"), "bid_increment": None, **terms})


def test_a_ladder_lot_before_and_after_bids(api, collector, bidders):
    # given: no increment of its own, start 4,950.00 (the ladder's ¥50 step below ¥5,000)
    a, b = bidders(2)
    draft = factories.make_lot(seller=collector, start_price=D("4950.00"))
    lot = _live(collector, start_price=D("4950.00"))

    # then: before any bid the start price is the minimum
    assert _figures(api.as_user(collector), draft) == (None, "50.00", "4950.00")
    assert _figures(api, lot) == (None, "50.00", "4950.00")

    # when: the first bid at the start price
    auction_services.bid_place(actor=a, lot_id=lot.pk, amount="4950.00")

    # then: one step up
    assert _figures(api, lot) == (None, "50.00", "5000.00")

    # when: the price reaches ¥5,000, where the ladder's step becomes ¥100
    auction_services.bid_place(actor=b, lot_id=lot.pk, amount="5000.00")

    # then: 5,000 + 100 lies off the grid 4,950 + k × 100: the minimum rounds up to it
    assert _figures(api, lot) == (None, "100.00", "5150.00")
    with pytest.raises(DomainError) as refused:
        auction_services.bid_place(actor=a, lot_id=lot.pk, amount="5100.00")
    assert refused.value.code == "bid_too_low"
    assert auction_services.bid_place(actor=a, lot_id=lot.pk, amount="5150.00").leading is True


def test_a_lot_with_its_own_increment(api, collector, bidders):
    (a,) = bidders(1)
    lot = _live(collector, bid_increment=D("30.00"))
    assert _figures(api, lot) == ("30.00", "30.00", "2300.00")

    auction_services.bid_place(actor=a, lot_id=lot.pk, amount="2300.00")

    assert _figures(api, lot) == ("30.00", "30.00", "2330.00")


def test_a_sealed_lot_has_no_grid_and_its_minimum_is_the_start_price(api, collector, bidders):
    # given
    (a,) = bidders(1)
    lot = _live(collector, format="sealed")

    # when
    auction_services.bid_place(actor=a, lot_id=lot.pk, amount="2500.00")

    # then
    assert _figures(api, lot) == (None, None, "2300.00")


@pytest.mark.parametrize("status", ["scheduled", "pending_review"])
def test_a_lot_that_has_not_opened_asks_for_its_start_price(api, collector, coop_admin, status):
    lot = factories.make_lot(seller=collector, status=status, start_price=D("20000.00"))

    assert _figures(api.as_user(coop_admin), lot) == (None, "200.00", "20000.00")


@pytest.mark.parametrize(
    ("status", "lot_format"), [("awarded", "english"), ("unsold", "sealed"), ("withdrawn", "english")]
)
def test_a_closed_lot_takes_no_next_bid(api, collector, coop_admin, status, lot_format):
    lot = factories.make_lot(seller=collector, status=status, format=lot_format)

    assert _figures(api.as_user(coop_admin), lot) == (None, None, None)


def test_the_schema_describes_the_next_bid_fields(api):
    schema = api.get("/api/v1/schema/?format=json").json()

    lot = schema["components"]["schemas"]["Lot"]["properties"]
    for name in ("min_next_bid", "current_increment"):
        assert lot[name]["type"] == "string"
        assert lot[name]["format"] == "decimal"
        assert lot[name]["nullable"] is True
        assert lot[name]["readOnly"] is True
        assert lot[name]["description"]
    request = schema["components"]["schemas"]["LotInputRequest"]
    assert {"pickup_from", "pickup_until"}.isdisjoint(request["required"])
    assert "ends_at + max_extension_seconds" in request["properties"]["pickup_until"]["description"]


def test_the_list_costs_the_same_queries_for_two_lots_or_six(api, collector, coop_admin, bidders):
    # given: published lots of every kind, some with bids
    (a,) = bidders(1)
    reviewer = factories.make_admin()

    def publish(n):
        kinds = [{}, {"bid_increment": D("30.00")}, {"format": "sealed"}]
        for i in range(n):
            factories.make_lot(seller=collector, status="scheduled", reviewer=reviewer, **kinds[i % 3])
        lot = _live(collector)
        auction_services.bid_place(actor=a, lot_id=lot.pk, amount="2300.00")

    def list_queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = api.get("/api/v1/lots/")
        assert response.status_code == 200
        return response.json()["count"], len(queries)

    publish(1)
    two, few = list_queries()

    # when
    publish(3)
    six, many = list_queries()

    # then
    assert (two, six) == (2, 6)
    assert many == few


def test_the_documented_ladder_is_the_engines():
    # given: the table under "The default increment ladder" in docs/lots.md
    text = (Path(__file__).resolve().parents[2] / "docs" / "lots.md").read_text(encoding="utf-8")
    section = text.split("### The default increment ladder", 1)[1]
    rows = [line.strip("|").split("|") for line in section.splitlines() if line.startswith("| ")][2:]

    # when: each row read as (upper bound, or None for the last; step)
    def amounts(cell: str) -> list[Decimal]:
        return [D(number.replace(",", "")) for number in re.findall(r"¥([\d,]+)", cell)]

    documented = [
        (None if price.strip().startswith("from") else amounts(price)[-1], *amounts(step)) for price, step in rows
    ]

    # then
    assert documented == [(below, step) for below, step in auction_services.INCREMENT_LADDER]
