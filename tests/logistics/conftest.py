"""Logistics fixtures: an awarded lot with coordinates, a carrier's fleet, quoting and booking
helpers. Distances in these tests are hand-computed: the lot sits 0.1° of latitude south of
the yard on the same meridian, so the great circle is 6371.0088 km × 0.1 × π/180 = 11.1195 km
and the road distance 11.1195 × 1.3 = 14.455 → 14.5 km."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Company, CompanyDocument
from logistics import services
from logistics.models import Vehicle
from recycling.models import Lot
from tests import factories

LOT_AT = (Decimal("45.700000"), Decimal("126.600000"))
YARD_AT = (Decimal("45.800000"), Decimal("126.600000"))
ROAD_KM = Decimal("14.5")


def make_awarded_lot(*, seller, winner, price: str = "2300.00", **overrides) -> Lot:
    terms = {"latitude": LOT_AT[0], "longitude": LOT_AT[1]}
    terms.update(overrides)
    lot = factories.make_lot(seller=seller, status="awarded", **terms)
    Lot.objects.filter(pk=lot.pk).update(
        winner=winner.company, final_price=Decimal(price), current_price=Decimal(price)
    )
    return Lot.objects.get(pk=lot.pk)


def make_vehicle(carrier_user, **fields) -> Vehicle:
    values = {
        "type": Vehicle.Type.TRUCK_9_6,
        "capacity_t": Decimal("18.00"),
        "plate": f"黑A{Vehicle.objects.count() + 10000:05d}",
        "districts": ["daoli", "nangang"],
        "rate_per_km": Decimal("9.50"),
        "min_charge": Decimal("80.00"),
    }
    values.update(fields)
    return services.vehicle_create(actor=carrier_user, **values)


def permit_document(company: Company, *, expires_on=None) -> CompanyDocument:
    return CompanyDocument.objects.create(
        company=company,
        kind=CompanyDocument.Kind.HAZARDOUS_PERMIT,
        file=SimpleUploadedFile("permit.pdf", b"%PDF-1.4\n%%EOF"),
        content_type="application/pdf",
        size=14,
        licence_no="黑交运管许可危字230100001",
        expires_on=expires_on,
    )


def slot_for(lot: Lot, *, day: int = 1, start_hour: int = 9, hours: int = 3) -> tuple[dt.datetime, dt.datetime]:
    """A slot inside the lot's pickup window: `day` days after it opens, at local `start_hour`."""
    base = timezone.localtime(lot.pickup_from).replace(hour=0, minute=0, second=0, microsecond=0)
    start = base + dt.timedelta(days=day, hours=start_hour)
    return start, start + dt.timedelta(hours=hours)


def quote(actor, lot, slot, *, where=YARD_AT, vehicle_type=None):
    return services.quotes_request(
        actor=actor,
        lot_id=lot.pk,
        slot_start=slot[0],
        slot_end=slot[1],
        deliver_lat=where[0],
        deliver_lng=where[1],
        vehicle_type=vehicle_type,
    )


def book(actor, lot, q, *, address="平房区哈南工业新城星海路18号"):
    return services.booking_create(
        actor=actor,
        lot_id=lot.pk,
        quote_id=q.pk,
        slot_start=q.slot_start,
        slot_end=q.slot_end,
        deliver_address=address,
        deliver_lat=q.deliver_lat,
        deliver_lng=q.deliver_lng,
    )


@pytest.fixture
def carrier_user(db):
    return factories.make_member(Company.Role.CARRIER, username="carrier_ma")


@pytest.fixture
def winner(db):
    return factories.make_member(Company.Role.PROCESSOR, username="winner_liu")


@pytest.fixture
def seller(db):
    return factories.make_member(Company.Role.COLLECTOR, username="seller_wang")


@pytest.fixture
def lot(seller, winner):
    return make_awarded_lot(seller=seller, winner=winner)


@pytest.fixture
def truck(carrier_user):
    return make_vehicle(carrier_user)


@pytest.fixture
def booked(lot, winner, truck):
    """A requested booking of `lot` on `truck` (day 1, 09:00–12:00)."""
    q = quote(winner, lot, slot_for(lot))[0]
    return book(winner, lot, q)


def advance_to(booking, carrier_user, status: str):
    order = ["accepted", "picked_up", "in_transit", "delivered"]
    from logistics.models import Booking

    current = Booking.objects.get(pk=booking.pk).status
    for step in order[order.index(current) + 1 if current in order else 0 : order.index(status) + 1]:
        if step == "accepted":
            services.booking_accept(actor=carrier_user, booking_id=booking.pk)
        else:
            services.booking_advance(actor=carrier_user, booking_id=booking.pk, status=step)
    return Booking.objects.get(pk=booking.pk)


@pytest.fixture
def live_lot_awarded(seller, winner):
    """A lot awarded by the real auction engine (its ledger has a `closed` event)."""
    from auctions import services as auction_services
    from recycling import services as lot_services

    now = timezone.now()
    lot = factories.make_lot(
        seller=seller,
        status="pending_review",
        starts_at=now - dt.timedelta(minutes=10),
        ends_at=now + dt.timedelta(hours=1),
        bid_increment=Decimal("50.00"),
        deposit=Decimal("0.00"),
    )
    lot_services.lot_review(actor=factories.make_admin(), lot_id=lot.pk, decision="approve")
    auction_services.bid_place(actor=winner, lot_id=lot.pk, amount=Decimal("2300.00"))
    Lot.objects.filter(pk=lot.pk).update(ends_at=timezone.now() - dt.timedelta(seconds=1))
    auction_services.lot_close(lot_id=lot.pk)
    return Lot.objects.get(pk=lot.pk)
