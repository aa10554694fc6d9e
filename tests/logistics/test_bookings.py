"""Bookings: who may take which step in which status, the road steps in order, overlapping
slots refused, quotes verified, each step on the lot's ledger and notified to the others."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Company
from auctions.models import LotEvent
from auctions.selectors import ledger_verify
from core.errors import DomainError
from core.models import Notification
from logistics import services
from logistics.models import Booking, BookingStep, BookingVehicle, Quote
from tests import factories
from tests.logistics.conftest import ROAD_KM, YARD_AT, advance_to, book, make_awarded_lot, quote, slot_for

pytestmark = pytest.mark.django_db


def _booking_body(lot, q):
    return {
        "quote_id": str(q.pk),
        "slot_start": q.slot_start.isoformat(),
        "slot_end": q.slot_end.isoformat(),
        "deliver_to": {"address": "平房区哈南工业新城星海路18号", "latitude": "45.800000", "longitude": "126.600000"},
    }


def test_the_winner_books_a_quote(api, lot, winner, truck, carrier_user):
    q = quote(winner, lot, slot_for(lot))[0]

    response = api.as_user(winner).post(f"/api/v1/lots/{lot.pk}/bookings/", _booking_body(lot, q), format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["price"], body["distance_km"], body["trips"]) == ("requested", "275.50", "14.5", 2)
    assert body["carrier"] == {"id": carrier_user.company_id, "name": carrier_user.company.name}
    assert body["vehicles"] == [{"type": "truck_9_6", "plate": truck.plate, "capacity_t": "18.00", "trips": 2}]
    booking = Booking.objects.get(pk=body["id"])
    assert (booking.receiver_id, booking.requester_id) == (winner.company_id, winner.company_id)
    assert Quote.objects.get(pk=q.pk).used_at is not None
    event = LotEvent.objects.filter(lot=lot).order_by("-seq").first()
    assert (event.type, event.payload) == (
        "logistics",
        {"step": "requested", "booking": booking.pk, "trips": 2, "distance_km": f"{ROAD_KM}"},
    )
    assert Notification.objects.filter(user=carrier_user, kind="booking_requested").count() == 1
    assert not Notification.objects.filter(user=winner).exists()


def test_a_quote_is_booked_once(lot, winner, truck):
    q = quote(winner, lot, slot_for(lot))[0]
    book(winner, lot, q)

    with pytest.raises(DomainError) as exc:
        book(winner, lot, q)

    assert exc.value.code == "quote_used"
    assert Booking.objects.count() == 1


def test_an_expired_quote_is_refused(lot, winner, truck):
    q = quote(winner, lot, slot_for(lot))[0]
    Quote.objects.filter(pk=q.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    with pytest.raises(DomainError) as exc:
        book(winner, lot, q)

    assert (exc.value.status, exc.value.code) == (409, "quote_expired")
    assert not Booking.objects.exists()


def test_the_slot_and_destination_must_be_the_quotes(api, lot, winner, truck):
    q = quote(winner, lot, slot_for(lot))[0]
    body = _booking_body(lot, q)
    body["slot_end"] = (q.slot_end + dt.timedelta(hours=1)).isoformat()

    response = api.as_user(winner).post(f"/api/v1/lots/{lot.pk}/bookings/", body, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "quote_mismatch")
    assert not Booking.objects.exists()


def test_another_companys_quote_is_404(api, seller, winner, truck):
    lot = make_awarded_lot(seller=seller, winner=winner)
    q = quote(winner, lot, slot_for(lot))[0]
    other = factories.make_member(Company.Role.PROCESSOR)
    other_lot = make_awarded_lot(seller=seller, winner=other)

    response = api.as_user(other).post(f"/api/v1/lots/{other_lot.pk}/bookings/", _booking_body(lot, q), format="json")

    assert (response.status_code, response.json()["code"]) == (404, "quote_not_found")


def test_a_vehicle_double_booked_in_overlapping_slots_is_409_slot_taken(api, seller, winner, truck):
    first = make_awarded_lot(seller=seller, winner=winner)
    second = make_awarded_lot(seller=seller, winner=winner)
    q1 = quote(winner, first, slot_for(first, start_hour=9))[0]
    q2 = quote(winner, second, slot_for(second, start_hour=11))[0]  # quoted while still free
    book(winner, first, q1)
    seq_before = type(second).objects.get(pk=second.pk).seq

    response = api.as_user(winner).post(f"/api/v1/lots/{second.pk}/bookings/", _booking_body(second, q2), format="json")

    assert (response.status_code, response.json()["code"]) == (409, "slot_taken")
    assert Booking.objects.filter(lot=second).count() == 0
    assert Quote.objects.get(pk=q2.pk).used_at is None
    assert type(second).objects.get(pk=second.pk).seq == seq_before


def test_a_declined_booking_frees_the_vehicle_and_the_lot(lot, seller, winner, truck, carrier_user):
    booking = book(winner, lot, quote(winner, lot, slot_for(lot))[0])

    services.booking_decline(actor=carrier_user, booking_id=booking.pk, reason="车辆检修")

    assert Booking.objects.get(pk=booking.pk).status == "declined"
    assert BookingVehicle.objects.get(booking=booking).released
    again = book(winner, lot, quote(winner, lot, slot_for(lot))[0])
    assert again.status == "requested"


def test_one_active_booking_per_lot(lot, winner, truck):
    book(winner, lot, quote(winner, lot, slot_for(lot))[0])
    q = quote(winner, lot, slot_for(lot, day=2))[0]

    with pytest.raises(DomainError) as exc:
        book(winner, lot, q)

    assert exc.value.code == "booking_exists"


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [("winner", 403, "not_your_step"), ("seller", 403, "not_your_step"), ("stranger", 404, "not_found")],
)
def test_only_its_carrier_accepts(api, booked, winner, seller, who, status, code):
    users = {"winner": winner, "seller": seller, "stranger": factories.make_member(Company.Role.CARRIER)}

    response = api.as_user(users[who]).post(f"/api/v1/bookings/{booked.pk}/accept/")

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert Booking.objects.get(pk=booked.pk).status == "requested"


def test_the_carrier_advances_in_order_with_position_and_photo(api, booked, carrier_user, winner, seller):
    client = api.as_user(carrier_user)
    assert client.post(f"/api/v1/bookings/{booked.pk}/accept/").json()["status"] == "accepted"

    skipped = client.post(f"/api/v1/bookings/{booked.pk}/advance/", {"status": "in_transit"}, format="json")
    assert (skipped.status_code, skipped.json()["code"]) == (409, "bad_transition")

    from tests.logistics.test_weighing import jpeg

    response = client.post(
        f"/api/v1/bookings/{booked.pk}/advance/",
        {"status": "picked_up", "latitude": "45.700100", "longitude": "126.600200", "photo": jpeg()},
        format="multipart",
    )
    assert response.status_code == 200
    step = BookingStep.objects.get(booking=booked, status="picked_up")
    assert (step.latitude, step.longitude, bool(step.photo)) == (Decimal("45.700100"), Decimal("126.600200"), True)
    assert step.company_id == carrier_user.company_id
    for status in ("in_transit", "delivered"):
        assert (
            client.post(f"/api/v1/bookings/{booked.pk}/advance/", {"status": status}, format="json").json()["status"]
            == status
        )
    again = client.post(f"/api/v1/bookings/{booked.pk}/advance/", {"status": "delivered"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "bad_transition")
    weighed = client.post(f"/api/v1/bookings/{booked.pk}/advance/", {"status": "weighed"}, format="json")
    assert (weighed.status_code, weighed.json()["code"]) == (409, "bad_transition")

    steps = [s.status for s in BookingStep.objects.filter(booking=booked).order_by("at", "id")]
    assert steps == ["requested", "accepted", "picked_up", "in_transit", "delivered"]
    logistics = LotEvent.objects.filter(lot=booked.lot, type="logistics").order_by("seq")
    assert [e.payload["step"] for e in logistics] == steps
    assert not any({"latitude", "longitude", "plate", "address"} & set(e.payload) for e in logistics)
    assert ledger_verify(lot_id=booked.lot_id) == []
    # Each step notified the other parties, never the actor.
    assert Notification.objects.filter(user=winner, kind="booking_delivered").count() == 1
    assert Notification.objects.filter(user=seller, kind="booking_picked_up").count() == 1
    assert not Notification.objects.filter(user=carrier_user, kind="booking_picked_up").exists()


def test_the_requester_cannot_advance(api, booked, carrier_user, winner):
    services.booking_accept(actor=carrier_user, booking_id=booked.pk)

    response = api.as_user(winner).post(
        f"/api/v1/bookings/{booked.pk}/advance/", {"status": "picked_up"}, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (403, "not_your_step")
    assert Booking.objects.get(pk=booked.pk).status == "accepted"


def test_an_unknown_status_is_400(api, booked, carrier_user):
    services.booking_accept(actor=carrier_user, booking_id=booked.pk)

    response = api.as_user(carrier_user).post(
        f"/api/v1/bookings/{booked.pk}/advance/", {"status": "flying"}, format="json"
    )

    assert response.status_code == 400


def test_a_position_outside_heilongjiang_is_refused(api, booked, carrier_user):
    services.booking_accept(actor=carrier_user, booking_id=booked.pk)

    response = api.as_user(carrier_user).post(
        f"/api/v1/bookings/{booked.pk}/advance/",
        {"status": "picked_up", "latitude": "31.2", "longitude": "121.5"},
        format="json",
    )

    assert (response.status_code, response.json()["code"]) == (400, "outside_service_area")
    assert Booking.objects.get(pk=booked.pk).status == "accepted"


def test_cancel_needs_a_reason_and_the_right_party(api, booked, carrier_user, winner):
    client = api.as_user(winner)
    assert client.post(f"/api/v1/bookings/{booked.pk}/cancel/", {}, format="json").json()["code"] == "reason_required"

    advance_to(booked, carrier_user, "picked_up")
    late = client.post(f"/api/v1/bookings/{booked.pk}/cancel/", {"reason": "改期"}, format="json")
    assert (late.status_code, late.json()["code"]) == (409, "bad_transition")


def test_the_requester_cancels_before_pickup(api, booked, winner, carrier_user):
    response = api.as_user(winner).post(f"/api/v1/bookings/{booked.pk}/cancel/", {"reason": "改期"}, format="json")

    assert (response.json()["status"], response.json()["status_reason"]) == ("cancelled", "改期")
    assert BookingVehicle.objects.get(booking=booked).released
    assert Notification.objects.filter(user=carrier_user, kind="booking_cancelled").exists()


def test_the_cooperative_cancels_on_the_road(api, booked, carrier_user, coop_admin):
    advance_to(booked, carrier_user, "in_transit")

    response = api.as_user(coop_admin).post(
        f"/api/v1/bookings/{booked.pk}/cancel/", {"reason": "车辆事故"}, format="json"
    )

    assert response.json()["status"] == "cancelled"


def test_bookings_are_visible_to_their_parties_only(api, booked, winner, seller, carrier_user, coop_admin):
    for user in (winner, seller, carrier_user, coop_admin):
        assert api.as_user(user).get(f"/api/v1/bookings/{booked.pk}/").status_code == 200
        assert api.as_user(user).get("/api/v1/bookings/").json()["count"] == 1
    stranger = factories.make_member(Company.Role.PROCESSOR)
    assert api.as_user(stranger).get(f"/api/v1/bookings/{booked.pk}/").status_code == 404
    assert api.as_user(stranger).get("/api/v1/bookings/").json()["count"] == 0
    assert api.as_user(stranger).get(f"/api/v1/lots/{booked.lot_id}/bookings/").json()["count"] == 0


def test_fleet_api(api, carrier_user):
    client = api.as_user(carrier_user)

    created = client.post(
        "/api/v1/vehicles/",
        {
            "type": "truck_6_8",
            "capacity_t": "8",
            "plate": "黑A·D1234",
            "hazardous_permit_until": "2027-06-30",
            "districts": ["daowai", "daoli"],
            "rate_per_km": "7.20",
            "min_charge": "150",
        },
        format="json",
    )

    assert created.status_code == 201
    assert (created.json()["plate"], created.json()["capacity_t"], created.json()["min_charge"]) == (
        "黑AD1234",
        "8.00",
        "150.00",
    )
    duplicate = client.post(
        "/api/v1/vehicles/",
        {"type": "van", "capacity_t": "1", "plate": "黑AD1234", "districts": ["daoli"], "rate_per_km": "3"},
        format="json",
    )
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "duplicate_plate")
    bad = client.post(
        "/api/v1/vehicles/",
        {"type": "van", "capacity_t": "1", "plate": "ABC", "districts": ["daoli"], "rate_per_km": "3"},
        format="json",
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_plate")
    assert client.get("/api/v1/vehicles/").json()["count"] == 1
    vehicle_id = created.json()["id"]
    assert client.patch(f"/api/v1/vehicles/{vehicle_id}/", {"active": False}, format="json").json()["active"] is False


def test_only_carriers_keep_a_fleet(api, winner):
    response = api.as_user(winner).post(
        "/api/v1/vehicles/",
        {"type": "van", "capacity_t": "1", "plate": "黑A12345", "districts": ["daoli"], "rate_per_km": "3"},
        format="json",
    )

    assert (response.status_code, response.json()["code"]) == (403, "wrong_role")


def test_quote_then_book_through_the_api(api, lot, winner, truck):
    start, end = slot_for(lot)
    client = api.as_user(winner)
    [offer] = client.get(
        f"/api/v1/lots/{lot.pk}/quotes/",
        {
            "slot_start": start.isoformat(),
            "slot_end": end.isoformat(),
            "deliver_to_lat": str(YARD_AT[0]),
            "deliver_to_lng": str(YARD_AT[1]),
        },
    ).json()

    response = client.post(
        f"/api/v1/lots/{lot.pk}/bookings/",
        {
            "quote_id": offer["quote_id"],
            "slot_start": start.isoformat(),
            "slot_end": end.isoformat(),
            "deliver_to": {"address": "平房区星海路18号", "latitude": "45.8", "longitude": "126.6"},
        },
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["price"] == offer["price"]
