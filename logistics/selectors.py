"""Reads of the logistics domain: who sees which booking, timelines, the carrier's job board
and the public trace (溯源) of a lot's chain of custody."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from auctions.events import bidder_alias
from auctions.models import LotEvent
from auctions.selectors import ledger_verify
from core.times import iso
from logistics import geo, routing
from logistics.models import Booking, BookingStep, BookingVehicle, Vehicle, Weighing
from recycling.models import Lot

log = logging.getLogger(__name__)


def bookings_visible_to(user: Any) -> QuerySet[Booking]:
    """Bookings where the user's company is the requester, carrier, receiver or seller; all of
    them for cooperative admins; none for anyone else."""
    qs = Booking.objects.select_related("lot", "lot__category", "lot__seller", "carrier", "requester", "receiver")
    if user is None or not user.is_authenticated:
        return qs.none()
    if user.is_cooperative_admin:
        return qs
    if not user.company_id:
        return qs.none()
    company = user.company_id
    return qs.filter(
        Q(requester_id=company) | Q(carrier_id=company) | Q(receiver_id=company) | Q(lot__seller_id=company)
    )


def booking_for(user: Any, booking_id: int) -> Booking | None:
    return (
        bookings_visible_to(user)
        .prefetch_related(
            Prefetch("steps", queryset=BookingStep.objects.select_related("company").order_by("at", "id")),
            Prefetch("assignments", queryset=BookingVehicle.objects.select_related("vehicle")),
        )
        .filter(pk=booking_id)
        .first()
    )


def weighing_of(booking: Booking) -> Weighing | None:
    return Weighing.objects.prefetch_related("deductions").filter(booking=booking).first()


def active_booking_for_lot(lot: Lot) -> Booking | None:
    return Booking.objects.filter(lot=lot, status__in=Booking.ACTIVE).first()


def fleet_of(company_id: int) -> QuerySet[Vehicle]:
    return Vehicle.objects.filter(carrier_id=company_id).order_by("-active", "type", "plate")


def weighings_to_decide() -> QuerySet[Weighing]:
    return (
        Weighing.objects.filter(status__in=[Weighing.Status.REVIEW, Weighing.Status.DISPUTED])
        .select_related("booking", "booking__lot")
        .prefetch_related("deductions")
        .order_by("recorded_at")
    )


# --- The carrier's job board and its route plan -----------------------------------------


def jobs_of_carrier(company_id: int) -> dict[str, list[Booking]]:
    qs = (
        Booking.objects.filter(carrier_id=company_id)
        .select_related("lot", "lot__category")
        .order_by("slot_start", "id")
    )
    return {
        "requested": list(qs.filter(status=Booking.Status.REQUESTED)),
        "scheduled": list(qs.filter(status__in=[Booking.Status.ACCEPTED, *Booking.ROAD[:-1]])),
        "done": list(qs.filter(status__in=[Booking.Status.DELIVERED, Booking.Status.WEIGHED]).reverse()[:20]),
    }


@dataclass
class DayPlan:
    day: dt.date
    bookings: list[Booking]
    naive: routing.Plan
    optimised: routing.Plan | None
    vehicles: dict[int, Vehicle]

    @property
    def saving_km(self) -> float | None:
        if self.optimised is None:
            return None
        return round(self.naive.distance_km - self.optimised.distance_km, 1)

    @property
    def saving_percent(self) -> float | None:
        if self.optimised is None or not self.naive.distance_km:
            return None
        return round(100 * (self.naive.distance_km - self.optimised.distance_km) / self.naive.distance_km, 1)

    @property
    def optimised_rows(self) -> list[dict[str, Any]]:
        return self.steps(self.optimised) if self.optimised else []

    def steps(self, plan: routing.Plan) -> list[dict[str, Any]]:
        """A plan's stops as rows for the page: vehicle, stop number, pickup or drop, lot code."""
        by_id = {b.pk: b for b in self.bookings}
        rows = []
        for vehicle_id, stops in plan.routes.items():
            for number, stop in enumerate(stops, start=1):
                booking = by_id[stop.job.booking_id]
                rows.append(
                    {
                        "vehicle": self.vehicles.get(vehicle_id),
                        "number": number,
                        "kind": stop.kind,
                        "booking": booking,
                        "load_t": stop.job.load_t,
                        "arrive_min": stop.arrive_min,
                        "arrive": None
                        if stop.arrive_min is None
                        else f"{stop.arrive_min // 60:02d}:{stop.arrive_min % 60:02d}",
                    }
                )
        return rows


def _minutes(value: dt.datetime, day: dt.date) -> int:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())
    return max(0, min(int((value - start).total_seconds() // 60), 24 * 60))


def day_problem(company_id: int, day: dt.date) -> tuple[routing.Problem, list[Booking], dict[int, Vehicle]] | None:
    """The carrier's accepted jobs with a slot starting on `day` as a routing problem: one load
    per vehicle trip of each booking, from the lot to the yard, picked up inside the slot, on
    any of the vehicles these jobs hold that is big enough (and permitted when hazardous)."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min), tz)
    bookings = list(
        Booking.objects.filter(
            carrier_id=company_id,
            status=Booking.Status.ACCEPTED,
            slot_start__gte=start,
            slot_start__lt=start + dt.timedelta(days=1),
        )
        .select_related("lot", "lot__category", "carrier")
        .prefetch_related(Prefetch("assignments", queryset=BookingVehicle.objects.select_related("vehicle")))
        .order_by("created_at", "id")
    )
    if not bookings:
        return None
    vehicles: dict[int, Vehicle] = {}
    jobs: list[routing.Job] = []
    for booking in bookings:
        hazardous = booking.lot.category.licence_required
        remaining = float(booking.quantity_t)
        for assignment in booking.assignments.all():
            vehicle = assignment.vehicle
            vehicles[vehicle.pk] = vehicle
            for _trip in range(assignment.trips):
                if remaining <= 0:
                    break
                load = min(float(vehicle.capacity_t), remaining)
                remaining -= load
                jobs.append(
                    routing.Job(
                        booking_id=booking.pk,
                        pickup=(float(booking.pickup_lat), float(booking.pickup_lng)),
                        drop=(float(booking.deliver_lat), float(booking.deliver_lng)),
                        load_t=round(load, 3),
                        window=(_minutes(booking.slot_start, day), _minutes(booking.slot_end, day)),
                        hazardous=hazardous,
                        vehicle_id=vehicle.pk,
                    )
                )
    trucks = [
        routing.Truck(
            vehicle_id=v.pk,
            capacity_t=float(v.capacity_t),
            hazardous_ok=v.permit_valid_on(day),
        )
        for v in sorted(vehicles.values(), key=lambda v: v.pk)
    ]
    depot = geo.district_centre(bookings[0].carrier.district)
    return routing.Problem(depot=depot, trucks=trucks, jobs=jobs), bookings, vehicles


def day_plan(company_id: int, day: dt.date, *, seconds: float | None = None) -> DayPlan | None:
    found = day_problem(company_id, day)
    if found is None:
        return None
    problem, bookings, vehicles = found
    naive = routing.naive_plan(problem)
    optimised = routing.optimise(problem, seconds=seconds)
    return DayPlan(day=day, bookings=bookings, naive=naive, optimised=optimised, vehicles=vehicles)


def plan_days(company_id: int) -> list[dt.date]:
    """Days (local) with at least two accepted jobs of this carrier, from today on."""
    today = timezone.localdate()
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min), timezone.get_current_timezone())
    counts: dict[dt.date, int] = {}
    for slot in Booking.objects.filter(
        carrier_id=company_id, status=Booking.Status.ACCEPTED, slot_start__gte=start
    ).values_list("slot_start", flat=True):
        day = timezone.localtime(slot).date()
        counts[day] = counts.get(day, 0) + 1
    return sorted(day for day, n in counts.items() if n >= 2)


# --- Trace (溯源) -----------------------------------------------------------------------

TRACE_STATUSES = (*Lot.PUBLISHED, Lot.Status.WITHDRAWN)
# The only payload fields of a logistics event a visitor sees (never positions or plates).
PUBLIC_LOGISTICS_FIELDS = (
    "trips",
    "distance_km",
    "net",
    "unit",
    "within_tolerance",
    "deductions",
    "kind",
    "quantity",
    "net_payable",
    "how",
)


def lot_by_code(code: str) -> Lot | None:
    lot = Lot.objects.select_related("category", "category__parent").filter(code=code).first()
    if lot is None or lot.status not in TRACE_STATUSES:
        return None
    if lot.status == Lot.Status.WITHDRAWN and lot.published_at is None:
        return None
    return lot


def _trace_event(event: LotEvent) -> dict[str, Any] | None:
    payload = event.payload or {}
    base = {"at": iso(event.at), "seq": event.seq, "hash": event.hash}
    if event.type in ("listed", "approved", "opened"):
        return {"type": event.type, **base}
    if event.type == "closed":
        awarded = payload.get("status") == Lot.Status.AWARDED
        return {
            "type": "auction_closed",
            **base,
            "status": payload.get("status"),
            "final_price": payload.get("final_price") if awarded else None,
            "winner": bidder_alias(payload.get("winner_no")) if awarded else None,
            "bidders": payload.get("bidders"),
        }
    if event.type == "status":
        row = {"type": "status", **base, "status": payload.get("status")}
        if payload.get("reoffered"):
            row.update(
                type="reoffered", winner=bidder_alias(payload.get("winner_no")), final_price=payload.get("final_price")
            )
        return row
    if event.type == "logistics":
        row = {"type": str(payload.get("step", "logistics")), **base}
        row.update({key: payload[key] for key in PUBLIC_LOGISTICS_FIELDS if key in payload})
        return row
    return None  # bids and extensions: the auction's detail, not the chain of custody


def _settlement_events(lot: Lot) -> list[dict[str, Any]]:
    """Deposit and payment steps from payments, when that app has settled the lot."""
    try:
        from payments.models import Settlement
    except (ImportError, RuntimeError):  # payments not installed
        return []
    try:
        with transaction.atomic():
            rows = list(
                Settlement.objects.filter(lot=lot, settled_at__isnull=False).values_list("settled_at", "status")
            )
    except DatabaseError:
        log.warning("payments tables unavailable; trace of %s without settlement", lot.code)
        return []
    return [{"type": "payment_settled", "at": iso(at)} for at, _status in rows]


def lot_trace(lot: Lot) -> dict[str, Any]:
    """The public chain of custody: listing, approval, the auction's close (final price and the
    winner's alias), settlement, pickup, delivery and weighing, with times and ledger hashes.
    No phones, addresses, positions, plates or names of persons."""
    events = [row for row in map(_trace_event, LotEvent.objects.filter(lot=lot).order_by("seq")) if row]
    events.extend(_settlement_events(lot))
    events.sort(key=lambda row: (row["at"], row.get("seq") or 0))
    category = lot.category
    return {
        "code": lot.code,
        "category": {"code": category.code, "name": str(category)},
        "district": lot.district,
        "quantity": f"{lot.quantity}",
        "unit": lot.unit,
        "status": lot.status,
        "events": events,
        "ledger_head": lot.ledger_head,
        "ledger_verified": not ledger_verify(lot_id=lot.pk),
    }


def decimal_or_none(value: Decimal | None) -> str | None:
    return None if value is None else f"{value}"


def steps_public(steps: Iterable[BookingStep]) -> list[dict[str, Any]]:
    return [{"status": s.status, "at": iso(s.at)} for s in steps]
