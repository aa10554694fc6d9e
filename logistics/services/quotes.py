"""Quotes: the vehicles free to move a lot in a slot, the fewest of them that can, and the
price of their loads (quotes_request)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Company, CompanyDocument
from accounts.services import require_verified_company
from core.errors import conflict, forbidden, invalid, not_found
from logistics import geo
from logistics.models import BookingVehicle, Quote, Vehicle
from logistics.services.common import CENT, _coordinates, pickup_point, quantity_in_tonnes
from recycling.models import Lot


@dataclass
class LoadPlan:
    loads: list[tuple[Vehicle, int]]  # (vehicle, trips)
    trips: int
    price: Decimal


def per_trip_price(*, distance_km: Decimal, rate_per_km: Decimal, min_charge: Decimal) -> Decimal:
    return max(min_charge, (distance_km * rate_per_km).quantize(CENT, rounding=ROUND_HALF_UP))


def rounds_in_slot(*, distance_km: Decimal, slot: dt.timedelta) -> int:
    """How many loads one vehicle can start inside the slot: the first at its start, each next
    after a round trip (there and back at LOGISTICS_SPEED_KMH plus loading and unloading)."""
    speed = float(settings.LOGISTICS_SPEED_KMH)
    round_trip_min = 2 * float(distance_km) / speed * 60 + 2 * float(settings.LOGISTICS_SERVICE_MINUTES)
    fit = 1 + int(slot.total_seconds() // 60 // max(round_trip_min, 1))
    return max(1, min(fit, int(settings.LOGISTICS_MAX_TRIPS_PER_VEHICLE)))


def plan_loads(
    vehicles: list[Vehicle], *, quantity_t: Decimal, distance_km: Decimal, max_rounds: int
) -> LoadPlan | None:
    """The fewest vehicles (largest first) that move `quantity_t` in at most `max_rounds` loads
    each; None when even all of them cannot. Each load is priced on its own: the carrier's
    rate × road km, at least its minimum charge."""
    ordered = sorted(vehicles, key=lambda v: (-v.capacity_t, v.pk))
    for count in range(1, len(ordered) + 1):
        chosen = ordered[:count]
        total = sum((v.capacity_t for v in chosen), Decimal(0))
        rounds = math.ceil(quantity_t / total) if total > 0 else max_rounds + 1
        if rounds > max_rounds:
            continue
        trips = dict.fromkeys((v.pk for v in chosen), 0)
        remaining = quantity_t
        while remaining > 0:
            for vehicle in chosen:
                if remaining <= 0:
                    break
                trips[vehicle.pk] += 1
                remaining -= vehicle.capacity_t
        loads = [(v, trips[v.pk]) for v in chosen if trips[v.pk]]
        price = sum(
            (
                n * per_trip_price(distance_km=distance_km, rate_per_km=v.rate_per_km, min_charge=v.min_charge)
                for v, n in loads
            ),
            Decimal("0.00"),
        )
        return LoadPlan(loads=loads, trips=sum(n for _v, n in loads), price=price.quantize(CENT))
    return None


def _requester_company(actor: Any, lot: Lot) -> Company:
    """The company that books this lot's pickup: the winner, or the seller when it delivers."""
    company = require_verified_company(actor)
    if lot.status != Lot.Status.AWARDED or lot.winner_id is None:
        raise conflict("not_awarded", _("A pickup is booked only for an awarded lot."))
    expected = lot.seller_id if lot.seller_delivers else lot.winner_id
    if company.pk != expected:
        if lot.seller_delivers:
            raise forbidden("not_requester", _("The seller delivers this lot: the seller books the transport."))
        raise forbidden("not_requester", _("Only the winner of this lot books its pickup."))
    return company


def _visible_lot(actor: Any, lot_id: int) -> Lot:
    from recycling.selectors import lot_for

    lot = lot_for(actor, lot_id)
    if lot is None:
        raise not_found(_("No such lot."))
    return lot


def _clean_slot(lot: Lot, slot_start: dt.datetime, slot_end: dt.datetime, *, now: dt.datetime) -> None:
    if slot_start is None or slot_end is None:
        raise invalid("invalid_slot", _("Give the slot's start and end."), slot_start=_("Required."))
    if slot_end <= slot_start:
        raise invalid("invalid_slot", _("The slot must end after it starts."), slot_end=_("Before the start."))
    if slot_end - slot_start > dt.timedelta(hours=settings.LOGISTICS_MAX_SLOT_HOURS):
        raise invalid(
            "invalid_slot",
            _("A slot lasts at most %(h)d hours.") % {"h": settings.LOGISTICS_MAX_SLOT_HOURS},
            slot_end=_("Too long."),
        )
    if slot_start < now - dt.timedelta(minutes=5):
        raise invalid("slot_in_past", _("The slot has already started."), slot_start=_("In the past."))
    if slot_start < lot.pickup_from or slot_end > lot.pickup_until:
        raise invalid(
            "slot_outside_window",
            _("The slot must lie inside the lot's pickup window."),
            slot_start=_("Outside the pickup window."),
        )


def _busy_vehicle_ids(vehicle_ids: Iterable[int], slot_start: dt.datetime, slot_end: dt.datetime) -> set[int]:
    """Vehicles held by another live booking in a slot that overlaps [start, end)."""
    return set(
        BookingVehicle.objects.filter(
            vehicle_id__in=list(vehicle_ids), released=False, slot_start__lt=slot_end, slot_end__gt=slot_start
        ).values_list("vehicle_id", flat=True)
    )


def _hazardous_carriers(day: dt.date) -> set[int]:
    """Carriers holding a hazardous-goods transport permit (道路危险货物运输许可) valid on `day`."""
    docs = CompanyDocument.objects.filter(kind=CompanyDocument.Kind.HAZARDOUS_PERMIT, company__role="carrier")
    return {doc.company_id for doc in docs if doc.expires_on is None or doc.expires_on >= day}


def eligible_vehicles(
    *, lot: Lot, slot_start: dt.datetime, slot_end: dt.datetime, vehicle_type: str | None = None
) -> list[Vehicle]:
    """In service, of a verified carrier, serving the lot's district, free in the slot and, for a
    hazardous category, with a permit (vehicle and company) valid on the slot's last day."""
    qs = Vehicle.objects.filter(
        active=True, carrier__role=Company.Role.CARRIER, carrier__status=Company.Status.VERIFIED
    ).select_related("carrier")
    if vehicle_type:
        qs = qs.filter(type=vehicle_type)
    vehicles = [v for v in qs if lot.district in (v.districts or [])]
    if lot.category.licence_required:
        day = timezone.localtime(slot_end).date()
        permitted = _hazardous_carriers(day)
        vehicles = [v for v in vehicles if v.permit_valid_on(day) and v.carrier_id in permitted]
    busy = _busy_vehicle_ids((v.pk for v in vehicles), slot_start, slot_end)
    return [v for v in vehicles if v.pk not in busy]


@transaction.atomic
def quotes_request(
    *,
    actor: Any,
    lot_id: int,
    slot_start: dt.datetime,
    slot_end: dt.datetime,
    deliver_lat: Any,
    deliver_lng: Any,
    vehicle_type: str | None = None,
) -> list[Quote]:
    """One quote per (carrier, vehicle type) able to move the lot in the slot, cheapest first;
    stored for LOGISTICS_QUOTE_MINUTES so that booking by its id takes exactly its price."""
    lot = _visible_lot(actor, lot_id)
    company = _requester_company(actor, lot)
    now = timezone.now()
    _clean_slot(lot, slot_start, slot_end, now=now)
    if vehicle_type and vehicle_type not in Vehicle.Type.values:
        raise invalid("validation_error", _("Unknown vehicle type."), vehicle_type=_("Unknown vehicle type."))
    lat, lng = _coordinates(deliver_lat, deliver_lng, field="deliver_to_lat")
    distance = geo.road_distance(pickup_point(lot), (lat, lng))
    quantity_t = quantity_in_tonnes(lot)
    max_rounds = rounds_in_slot(distance_km=distance, slot=slot_end - slot_start)
    groups: dict[tuple[int, str], list[Vehicle]] = {}
    for vehicle in eligible_vehicles(lot=lot, slot_start=slot_start, slot_end=slot_end, vehicle_type=vehicle_type):
        groups.setdefault((vehicle.carrier_id, vehicle.type), []).append(vehicle)
    Quote.objects.filter(lot=lot, used_at__isnull=True, expires_at__lt=now).delete()
    expires = now + dt.timedelta(minutes=settings.LOGISTICS_QUOTE_MINUTES)
    quotes = []
    for (carrier_id, kind), vehicles in sorted(groups.items()):
        plan = plan_loads(vehicles, quantity_t=quantity_t, distance_km=distance, max_rounds=max_rounds)
        if plan is None:
            continue
        quotes.append(
            Quote(
                lot=lot,
                requester=company,
                carrier_id=carrier_id,
                vehicle_type=kind,
                loads=[
                    {"vehicle": v.pk, "trips": n, "rate_per_km": f"{v.rate_per_km}", "min_charge": f"{v.min_charge}"}
                    for v, n in plan.loads
                ],
                trips=plan.trips,
                quantity_t=quantity_t,
                distance_km=distance,
                price=plan.price,
                slot_start=slot_start,
                slot_end=slot_end,
                deliver_lat=lat,
                deliver_lng=lng,
                created_at=now,
                expires_at=expires,
            )
        )
    Quote.objects.bulk_create(quotes)
    return sorted(quotes, key=lambda q: (q.price, q.trips, str(q.carrier_id)))
