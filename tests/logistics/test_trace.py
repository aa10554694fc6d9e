"""The public trace (溯源): the chain of custody by lot code, from the ledger, with no personal
data; and the pages of each party."""

from __future__ import annotations

import json
import re

import pytest

from accounts.models import Company
from logistics import services
from tests import factories
from tests.logistics.conftest import advance_to
from tests.logistics.test_weighing import weigh

pytestmark = pytest.mark.django_db


@pytest.fixture
def weighed(booked, carrier_user, winner):
    services.booking_accept(actor=carrier_user, booking_id=booked.pk)
    services.booking_advance(
        actor=carrier_user, booking_id=booked.pk, status="picked_up", latitude="45.700123", longitude="126.600456"
    )
    advance_to(booked, carrier_user, "delivered")
    weigh(winner, booked, "29.600", deductions=[{"kind": "impurities", "percent": "1"}])
    booked.lot.refresh_from_db()
    return booked


def _personal(lot, booking, winner, seller, carrier_user) -> list[str]:
    return [
        seller.company.contact_phone,
        winner.company.contact_phone,
        carrier_user.company.contact_phone,
        lot.address,
        booking.deliver_address,
        "45.700123",
        "126.600456",
        f"{lot.latitude}",
        *(a.vehicle.plate for a in booking.assignments.all()),
        winner.company.name,
        winner.username,
    ]


def test_the_trace_lists_the_chain_of_custody(api, weighed):
    lot = weighed.lot

    response = api.get(f"/api/v1/lots/{lot.code}/trace/")

    assert response.status_code == 200
    body = response.json()
    assert (body["code"], body["category"]["code"], body["ledger_head"], body["ledger_verified"]) == (
        lot.code,
        "steel-heavy",
        lot.ledger_head,
        True,
    )
    types = [event["type"] for event in body["events"]]
    assert types == [
        "listed",
        "approved",
        "requested",
        "accepted",
        "picked_up",
        "in_transit",
        "delivered",
        "weighed",
    ]
    weighed_event = body["events"][-1]
    assert (weighed_event["net"], weighed_event["unit"], weighed_event["deductions"]) == ("29.600", "t", "0.296")
    assert all({"at", "seq", "hash"} <= set(event) for event in body["events"])


def test_the_trace_shows_the_auctions_close_with_the_winners_alias(api, live_lot_awarded):
    lot = live_lot_awarded

    events = api.get(f"/api/v1/lots/{lot.code}/trace/").json()["events"]

    closed = next(e for e in events if e["type"] == "auction_closed")
    assert (closed["status"], closed["final_price"]) == ("awarded", f"{lot.final_price:.2f}")
    assert re.fullmatch(r"\S+ \d+|竞买人 \d+", closed["winner"])
    assert "bid" not in {e["type"] for e in events}


def test_no_personal_data_in_the_trace_api_or_page(api, client, weighed, winner, seller, carrier_user):
    lot = weighed.lot
    api_text = json.dumps(api.get(f"/api/v1/lots/{lot.code}/trace/").json(), ensure_ascii=False)
    page = client.get(f"/trace/{lot.code}/")
    assert page.status_code == 200
    page_text = page.content.decode()

    for secret in _personal(lot, weighed, winner, seller, carrier_user):
        assert secret not in api_text, secret
        assert secret not in page_text, secret
    assert lot.code in page_text
    assert "<svg" in page_text  # the QR code of the page itself


def test_unpublished_or_unknown_lots_have_no_trace(api, client, seller):
    draft = factories.make_lot(seller=seller)

    assert api.get(f"/api/v1/lots/{draft.code}/trace/").status_code == 404
    assert api.get("/api/v1/lots/HRB-2026-999999/trace/").status_code == 404
    assert client.get(f"/trace/{draft.code}/").status_code == 404


def test_the_pickup_slip_carries_the_code_and_a_qr_of_the_trace_page(client, booked, winner):
    client.force_login(winner)

    page = client.get(f"/logistics/bookings/{booked.pk}/slip/")

    assert page.status_code == 200
    text = page.content.decode()
    assert booked.lot.code in text
    assert f"/trace/{booked.lot.code}/" in text
    assert "<svg" in text


@pytest.mark.parametrize("page", ["", "slip/"])
def test_booking_pages_are_for_its_parties(client, booked, page):
    client.force_login(factories.make_member(Company.Role.PROCESSOR))

    assert client.get(f"/logistics/bookings/{booked.pk}/{page}").status_code == 404


def test_each_party_sees_its_actions_on_the_booking_page(client, booked, winner, carrier_user, seller):
    url = f"/logistics/bookings/{booked.pk}/"
    client.force_login(carrier_user)
    assert 'data-action="accept"' in client.get(url).content.decode()
    client.force_login(winner)
    text = client.get(url).content.decode()
    assert 'data-action="accept"' not in text
    assert 'data-action="cancel"' in text
    client.force_login(seller)
    text = client.get(url).content.decode()
    assert 'data-action="cancel"' not in text
    assert 'data-testid="timeline"' in text


def test_the_carrier_accepts_and_advances_through_the_page(client, booked, carrier_user):
    client.force_login(carrier_user)

    client.post(f"/logistics/bookings/{booked.pk}/accept/")
    response = client.post(f"/logistics/bookings/{booked.pk}/advance/", {"status": "picked_up"}, follow=True)

    booked.refresh_from_db()
    assert booked.status == "picked_up"
    assert "Step recorded." in response.content.decode() or "已记录" in response.content.decode()


def test_job_board_fleet_and_shipments_pages(client, booked, carrier_user, winner, coop_admin):
    client.force_login(carrier_user)
    assert client.get("/logistics/jobs/").status_code == 200
    assert client.get("/logistics/fleet/").status_code == 200
    client.force_login(winner)
    assert client.get("/logistics/jobs/").status_code == 403
    assert client.get("/logistics/shipments/").status_code == 200
    client.force_login(coop_admin)
    assert client.get("/logistics/shipments/").status_code == 200
    assert client.get("/logistics/reviews/").status_code == 200


def test_the_winner_gets_quotes_and_books_through_the_page(client, lot, winner, truck):
    client.force_login(winner)
    url = f"/logistics/lots/{lot.pk}/book/"
    form = client.get(url).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data["slot_start"] = form["slot_start"].value().strftime("%Y-%m-%dT%H:%M")
    data["slot_end"] = form["slot_end"].value().strftime("%Y-%m-%dT%H:%M")
    data["vehicle_type"] = ""

    quoted = client.post(url, {**data, "action": "quote"})
    [offer] = quoted.context["quotes"]
    booked = client.post(url, {**data, "action": "book", "quote_id": str(offer.pk)})

    assert booked.status_code == 302
    assert lot.bookings.get().price == offer.price
