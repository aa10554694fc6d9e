"""Every write of the logistics domain: fleets, quotes, bookings and their steps, weighing.

Locks come in one order: the lot (recycling.services.lock_lot), then the booking, then
vehicles. Each booking status change and each weighing step appends a `logistics` event to
the lot's hash chain (auctions.events.append_event) under the lot's lock, so the chain of
custody lives in the same tamper-evident ledger as the auction. Event payloads never carry
personal data: no names, phones, addresses, positions or plates.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps, UnidentifiedImageError

from accounts.models import Company, CompanyDocument, User
from accounts.services import require_cooperative_admin, require_verified_company
from auctions.events import append_event
from core.districts import District
from core.errors import DomainError, conflict, forbidden, invalid, not_found
from core.files import JPEG, PNG, validate_document
from core.services import audit_record, notify
from logistics import geo
from logistics.models import Booking, BookingStep, BookingVehicle, Deduction, Quote, Vehicle, Weighing
from recycling.models import Lot, Unit
from recycling.services import HEILONGJIANG, lock_lot

log = logging.getLogger(__name__)
EVENT_TYPE = "logistics"
CENT = Decimal("0.01")
GRAM = Decimal("0.001")
RATIO = Decimal("0.0001")
PHOTO_MAX_SIDE = 1600
# Mainland plates: province character, issuing-office letter, 5 characters (6 for new-energy
# vehicles); 挂 ends a trailer's plate. Stored upper-case without spaces or the dot.
PLATE_RE = re.compile(r"^[\u4e00-\u9fff][A-Z][A-Z0-9]{4,5}[A-Z0-9\u6302]$")
Status = Booking.Status


# --- Small helpers --------------------------------------------------------------------


def _decimal(value: Any, *, field: str, places: Decimal, code: str = "validation_error") -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise invalid(code, _("Not a number."), **{field: _("Not a number.")}) from None
    if not number.is_finite() or number >= Decimal("1e9") or number <= Decimal("-1e9"):
        raise invalid(code, _("Not a number."), **{field: _("Not a number.")})
    if number != number.quantize(places, rounding=ROUND_HALF_UP):
        raise invalid(code, _("Too many decimal places."), **{field: _("Too many decimal places.")})
    return number.quantize(places)


def _coordinates(
    lat: Any, lng: Any, *, field: str = "latitude", required: bool = True
) -> tuple[Decimal, Decimal] | None:
    if lat in (None, "") and lng in (None, ""):
        if required:
            raise invalid("validation_error", _("Give the coordinates."), **{field: _("Required.")})
        return None
    if lat in (None, "") or lng in (None, ""):
        raise invalid(
            "validation_error", _("Give both latitude and longitude, or neither."), **{field: _("Incomplete.")}
        )
    try:
        lat_d = Decimal(str(lat)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
        lng_d = Decimal(str(lng)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        raise invalid("validation_error", _("Not a number."), **{field: _("Not a number.")}) from None
    if not (
        HEILONGJIANG["lat"][0] <= lat_d <= HEILONGJIANG["lat"][1]
        and HEILONGJIANG["lng"][0] <= lng_d <= HEILONGJIANG["lng"][1]
    ):
        raise invalid("outside_service_area", _("The coordinates lie outside Heilongjiang."), **{field: _("Outside.")})
    return lat_d, lng_d


def photo_file(upload: Any, *, field: str = "photo") -> ContentFile:
    """A JPEG or PNG by content, re-encoded as a fresh JPEG: no EXIF (no GPS, no phone model)."""
    validate_document(upload, field=field, allowed=(JPEG, PNG))
    upload.seek(0)
    try:
        with Image.open(io.BytesIO(upload.read())) as source:
            source.load()
            image = ImageOps.exif_transpose(source)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise invalid("invalid_image", _("The image could not be read."), **{field: _("Damaged image.")}) from exc
    image = image.convert("RGB")
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)
    return ContentFile(out.getvalue(), name="photo.jpg")


def quantity_in_tonnes(lot: Lot) -> Decimal:
    """What a truck carries: kg ÷ 1000; a lot counted in pieces weighs LOGISTICS_PIECE_WEIGHT_T each."""
    if lot.unit == Unit.KILOGRAM:
        return (lot.quantity / 1000).quantize(GRAM, rounding=ROUND_HALF_UP)
    if lot.unit == Unit.PIECE:
        return (lot.quantity * Decimal(str(settings.LOGISTICS_PIECE_WEIGHT_T))).quantize(GRAM, rounding=ROUND_HALF_UP)
    return lot.quantity


def pickup_point(lot: Lot) -> tuple[Decimal, Decimal]:
    """The lot's coordinates, or its district's centre when the seller gave none."""
    if lot.latitude is not None and lot.longitude is not None:
        return lot.latitude, lot.longitude
    lat, lng = geo.district_centre(lot.district)
    return Decimal(str(lat)), Decimal(str(lng))


def _users_of(*company_ids: int | None) -> list[User]:
    ids = [pk for pk in dict.fromkeys(company_ids) if pk]
    return list(User.objects.filter(company_id__in=ids, is_active=True))


def _admins() -> list[User]:
    return [user for user in User.objects.filter(is_active=True, company__isnull=True) if user.is_cooperative_admin]


def booking_url(booking: Booking) -> str:
    return reverse("logistics:booking_detail", args=[booking.pk])


# --- Fleet ----------------------------------------------------------------------------


def _clean_vehicle(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if values.get("type") not in Vehicle.Type.values:
        raise invalid("validation_error", _("Unknown vehicle type."), type=_("Unknown vehicle type."))
    out["type"] = values["type"]
    capacity = _decimal(values.get("capacity_t"), field="capacity_t", places=CENT)
    if capacity <= 0 or capacity > 100:
        raise invalid(
            "invalid_capacity", _("The capacity must lie between 0 and 100 t."), capacity_t=_("Out of range.")
        )
    out["capacity_t"] = capacity
    plate = re.sub(r"[\s·.\-]", "", str(values.get("plate") or "")).upper()
    if not PLATE_RE.match(plate):
        raise invalid("invalid_plate", _("Not a mainland plate number (黑A12345)."), plate=_("Invalid plate."))
    out["plate"] = plate
    out["hazardous_permit_until"] = values.get("hazardous_permit_until") or None
    districts = values.get("districts")
    if isinstance(districts, str):
        districts = [districts]
    districts = list(dict.fromkeys(districts or []))
    if not districts or any(d not in District.values for d in districts):
        raise invalid(
            "validation_error", _("Choose the districts this vehicle serves."), districts=_("Unknown district.")
        )
    out["districts"] = districts
    rate = _decimal(values.get("rate_per_km"), field="rate_per_km", places=CENT)
    if rate <= 0:
        raise invalid("invalid_price", _("The rate per km must be greater than zero."), rate_per_km=_("Must be > 0."))
    out["rate_per_km"] = rate
    minimum = _decimal(values.get("min_charge", "0") or "0", field="min_charge", places=CENT)
    if minimum < 0:
        raise invalid("invalid_price", _("The minimum charge cannot be negative."), min_charge=_("Must be ≥ 0."))
    out["min_charge"] = minimum
    return out


@transaction.atomic
def vehicle_create(*, actor: Any, **values: Any) -> Vehicle:
    """A verified carrier adds a vehicle to its fleet (plates are unique on the platform)."""
    company = require_verified_company(actor, role=Company.Role.CARRIER)
    fields = _clean_vehicle(values)
    if Vehicle.objects.filter(plate=fields["plate"]).exists():
        raise conflict("duplicate_plate", _("A vehicle with this plate is already registered."))
    vehicle = Vehicle.objects.create(carrier=company, **fields)
    audit_record(
        actor=actor,
        action="vehicle.create",
        target_type="vehicle",
        target_id=vehicle.pk,
        target_label=vehicle.plate,
        after={"type": vehicle.type, "capacity_t": f"{vehicle.capacity_t}", "districts": vehicle.districts},
    )
    return vehicle


@transaction.atomic
def vehicle_update(*, actor: Any, vehicle_id: int, **changes: Any) -> Vehicle:
    """The carrier changes a vehicle's terms; bookings already made keep their price."""
    company = require_verified_company(actor, role=Company.Role.CARRIER)
    vehicle = Vehicle.objects.select_for_update().filter(pk=vehicle_id, carrier=company).first()
    if vehicle is None:
        raise not_found(_("No such vehicle."))
    names = ("type", "capacity_t", "plate", "hazardous_permit_until", "districts", "rate_per_km", "min_charge")
    values = {name: getattr(vehicle, name) for name in names}
    values.update({k: v for k, v in changes.items() if k in names})
    fields = _clean_vehicle(values)
    if Vehicle.objects.filter(plate=fields["plate"]).exclude(pk=vehicle.pk).exists():
        raise conflict("duplicate_plate", _("A vehicle with this plate is already registered."))
    if "active" in changes:
        fields["active"] = bool(changes["active"])
    for key, value in fields.items():
        setattr(vehicle, key, value)
    vehicle.save()
    return vehicle


# --- Quotes ---------------------------------------------------------------------------


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


# --- Bookings -------------------------------------------------------------------------


def _append(lot: Lot, step: str, booking: Booking, **extra: Any) -> int:
    """One `logistics` event on the lot's chain; the caller holds the lot's lock and saves it."""
    payload = {"step": step, "booking": booking.pk, **extra}
    event = append_event(lot, EVENT_TYPE, payload)
    return event.seq


def _step(
    booking: Booking,
    status: str,
    *,
    actor: Any,
    seq: int | None,
    position: tuple[Decimal, Decimal] | None = None,
    photo: ContentFile | None = None,
    note: str = "",
) -> BookingStep:
    step = BookingStep(
        booking=booking,
        status=status,
        actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        company_id=getattr(actor, "company_id", None),
        latitude=position[0] if position else None,
        longitude=position[1] if position else None,
        note=note,
        event_seq=seq,
    )
    if photo is not None:
        step.photo.save("photo.jpg", photo, save=False)
    step.save()
    return step


def _save_lot(lot: Lot) -> None:
    lot.save(update_fields=["seq", "ledger_head", "updated_at"])


STEP_TITLES = {
    Status.REQUESTED: gettext_lazy("Pickup of %(code)s requested"),
    Status.ACCEPTED: gettext_lazy("Pickup of %(code)s accepted by the carrier"),
    Status.DECLINED: gettext_lazy("Pickup of %(code)s declined by the carrier"),
    Status.PICKED_UP: gettext_lazy("%(code)s picked up"),
    Status.IN_TRANSIT: gettext_lazy("%(code)s in transit"),
    Status.DELIVERED: gettext_lazy("%(code)s delivered"),
    Status.WEIGHED: gettext_lazy("%(code)s weighed"),
    Status.CANCELLED: gettext_lazy("Pickup of %(code)s cancelled"),
}


def _notify_parties(booking: Booking, lot: Lot, status: str, *, actor: Any, body: Any = "") -> None:
    """Everyone on the booking except the company that made the step."""
    acting = getattr(actor, "company_id", None)
    companies = [
        c for c in (booking.requester_id, booking.carrier_id, lot.seller_id, booking.receiver_id) if c != acting
    ]
    title = STEP_TITLES.get(status, gettext_lazy("%(code)s: logistics update"))
    notify(
        users=_users_of(*companies),
        kind=f"booking_{status}",
        title=_lazy_format(title, {"code": lot.code}),
        body=body,
        url=booking_url(booking),
    )


class _lazy_format:
    """A lazy message formatted in the language `notify` renders it in."""

    def __init__(self, message: Any, values: dict[str, Any]):
        self.message, self.values = message, values

    def __str__(self) -> str:
        return str(self.message) % self.values


@transaction.atomic
def booking_create(
    *,
    actor: Any,
    lot_id: int,
    quote_id: Any,
    slot_start: dt.datetime,
    slot_end: dt.datetime,
    deliver_address: str,
    deliver_lat: Any,
    deliver_lng: Any,
) -> Booking:
    """The requester books the carrier of a quote; the quote's vehicles are held for the slot
    (a vehicle already held in an overlapping slot: 409 slot_taken)."""
    _visible_lot(actor, lot_id)
    lot = lock_lot(lot_id)
    company = _requester_company(actor, lot)
    now = timezone.now()
    quote = Quote.objects.select_for_update().filter(pk=quote_id, lot=lot, requester=company).first()
    if quote is None:
        raise DomainError("quote_not_found", _("No such quote for this lot."), status=404)
    if quote.used_at is not None:
        raise conflict("quote_used", _("This quote was already booked."))
    if quote.expires_at <= now:
        raise conflict("quote_expired", _("The quote has expired: ask for new quotes."))
    lat, lng = _coordinates(deliver_lat, deliver_lng, field="deliver_to.latitude")
    if (slot_start, slot_end) != (quote.slot_start, quote.slot_end) or (lat, lng) != (
        quote.deliver_lat,
        quote.deliver_lng,
    ):
        raise invalid(
            "quote_mismatch", _("The slot and destination must be those of the quote."), quote_id=_("Mismatch.")
        )
    _clean_slot(lot, slot_start, slot_end, now=now)
    address = (deliver_address or "").strip()
    if not address:
        raise invalid(
            "validation_error", _("The delivery address is required."), **{"deliver_to.address": _("Required.")}
        )
    if Booking.objects.filter(lot=lot, status__in=Booking.ACTIVE).exists():
        raise conflict("booking_exists", _("This lot already has a pickup booking."))
    ids = [int(load["vehicle"]) for load in quote.loads]
    # Vehicle rows locked in id order, after the lot: two bookings racing for one truck
    # serialise here, and the second sees the first one's assignment.
    vehicles = {v.pk: v for v in Vehicle.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    if len(vehicles) != len(ids) or any(not v.active for v in vehicles.values()):
        raise conflict("quote_expired", _("A vehicle of this quote is no longer in service: ask for new quotes."))
    if _busy_vehicle_ids(ids, slot_start, slot_end):
        raise conflict("slot_taken", _("A vehicle of this quote is already booked in an overlapping slot."))
    pickup_lat, pickup_lng = pickup_point(lot)
    booking = Booking.objects.create(
        lot=lot,
        quote=quote,
        requester=company,
        requested_by=actor,
        carrier_id=quote.carrier_id,
        receiver_id=lot.winner_id,
        vehicle_type=quote.vehicle_type,
        trips=quote.trips,
        quantity_t=quote.quantity_t,
        distance_km=quote.distance_km,
        price=quote.price,
        slot_start=slot_start,
        slot_end=slot_end,
        pickup_lat=pickup_lat,
        pickup_lng=pickup_lng,
        deliver_address=address[:200],
        deliver_lat=lat,
        deliver_lng=lng,
        status=Status.REQUESTED,
    )
    BookingVehicle.objects.bulk_create(
        [
            BookingVehicle(
                booking=booking,
                vehicle_id=int(load["vehicle"]),
                trips=load["trips"],
                slot_start=slot_start,
                slot_end=slot_end,
            )
            for load in quote.loads
        ]
    )
    quote.used_at = now
    quote.save(update_fields=["used_at"])
    seq = _append(lot, Status.REQUESTED, booking, trips=booking.trips, distance_km=f"{booking.distance_km}")
    _save_lot(lot)
    _step(booking, Status.REQUESTED, actor=actor, seq=seq)
    audit_record(
        actor=actor,
        action="booking.create",
        target_type="booking",
        target_id=booking.pk,
        target_label=lot.code or "",
        after={"status": booking.status, "carrier": booking.carrier_id, "price": f"{booking.price:.2f}"},
    )
    _notify_parties(booking, lot, Status.REQUESTED, actor=actor)
    return booking


def _lock_booking(booking_id: int, actor: Any) -> tuple[Lot, Booking]:
    """Lock the booking's lot, then the booking. Not a party (nor an admin): 404."""
    lot_id = Booking.objects.filter(pk=booking_id).values_list("lot_id", flat=True).first()
    if lot_id is None:
        raise not_found(_("No such booking."))
    lot = lock_lot(lot_id)
    booking = Booking.objects.select_for_update().get(pk=booking_id)
    if not parties_of(actor, booking, lot):
        raise not_found(_("No such booking."))
    return lot, booking


def parties_of(actor: Any, booking: Booking, lot: Lot | None = None) -> set[str]:
    """The roles `actor` plays on this booking: requester, carrier, receiver, seller, admin."""
    if actor is None or not actor.is_authenticated:
        return set()
    roles = set()
    if actor.is_cooperative_admin:
        roles.add("admin")
    company_id = actor.company_id
    if company_id:
        seller_id = lot.seller_id if lot is not None else booking.lot.seller_id
        for role, owner in (
            ("requester", booking.requester_id),
            ("carrier", booking.carrier_id),
            ("receiver", booking.receiver_id),
            ("seller", seller_id),
        ):
            if company_id == owner:
                roles.add(role)
    return roles


def _require(actor: Any, booking: Booking, lot: Lot, role: str) -> None:
    if role not in parties_of(actor, booking, lot):
        messages = {
            "carrier": _("Only the booked carrier takes this step."),
            "receiver": _("Only the receiving processor records the weighing."),
            "seller": _("Only the seller takes this step."),
            "requester": _("Only the company that booked the pickup takes this step."),
        }
        raise forbidden("not_your_step", messages.get(role, _("You may not take this step.")))
    if role != "admin":
        require_verified_company(actor)


def _bad_transition(booking: Booking, target: str) -> DomainError:
    return conflict(
        "bad_transition",
        _("A %(status)s booking cannot become %(target)s.")
        % {
            "status": booking.get_status_display(),
            "target": Status(target).label if target in Status.values else target,
        },
    )


def _move(
    lot: Lot,
    booking: Booking,
    target: str,
    *,
    actor: Any,
    position: tuple[Decimal, Decimal] | None = None,
    photo: ContentFile | None = None,
    reason: str = "",
    extra: dict[str, Any] | None = None,
) -> Booking:
    before = booking.status
    booking.status = target
    if reason:
        booking.status_reason = reason
    booking.save(update_fields=["status", "status_reason", "updated_at"])
    if target in Booking.CLOSED:
        booking.assignments.update(released=True)
    seq = _append(lot, target, booking, **(extra or {}))
    _save_lot(lot)
    _step(booking, target, actor=actor, seq=seq, position=position, photo=photo, note=reason)
    audit_record(
        actor=actor,
        action=f"booking.{target}",
        target_type="booking",
        target_id=booking.pk,
        target_label=lot.code or "",
        before={"status": before},
        after={"status": target},
        reason=reason,
    )
    _notify_parties(booking, lot, target, actor=actor, body=reason)
    return booking


@transaction.atomic
def booking_accept(*, actor: Any, booking_id: int) -> Booking:
    lot, booking = _lock_booking(booking_id, actor)
    _require(actor, booking, lot, "carrier")
    if booking.status != Status.REQUESTED:
        raise _bad_transition(booking, Status.ACCEPTED)
    return _move(lot, booking, Status.ACCEPTED, actor=actor)


@transaction.atomic
def booking_decline(*, actor: Any, booking_id: int, reason: str = "") -> Booking:
    lot, booking = _lock_booking(booking_id, actor)
    _require(actor, booking, lot, "carrier")
    if booking.status != Status.REQUESTED:
        raise _bad_transition(booking, Status.DECLINED)
    return _move(lot, booking, Status.DECLINED, actor=actor, reason=(reason or "").strip())


@transaction.atomic
def booking_advance(
    *,
    actor: Any,
    booking_id: int,
    status: str,
    latitude: Any = None,
    longitude: Any = None,
    photo: Any = None,
) -> Booking:
    """accepted → picked_up → in_transit → delivered, one step at a time, by its carrier."""
    lot, booking = _lock_booking(booking_id, actor)
    _require(actor, booking, lot, "carrier")
    if status not in Status.values:
        raise invalid("validation_error", _("Unknown status."), status=_("Unknown status."))
    order = [Status.ACCEPTED, *Booking.ROAD]
    if (
        status not in Booking.ROAD
        or booking.status not in order
        or order.index(status) != order.index(booking.status) + 1
    ):
        raise _bad_transition(booking, status)
    position = _coordinates(latitude, longitude, required=False)
    image = photo_file(photo) if photo else None
    return _move(lot, booking, status, actor=actor, position=position, photo=image)


@transaction.atomic
def booking_cancel(*, actor: Any, booking_id: int, reason: str) -> Booking:
    """The requester (before pickup), the carrier (accepted, not yet picked up) or the
    cooperative (until delivery) cancels, with a reason."""
    lot, booking = _lock_booking(booking_id, actor)
    roles = parties_of(actor, booking, lot)
    reason = (reason or "").strip()
    allowed = set()
    if "requester" in roles:
        allowed |= {Status.REQUESTED, Status.ACCEPTED}
    if "carrier" in roles:
        allowed |= {Status.ACCEPTED}
    if "admin" in roles:
        allowed |= {Status.REQUESTED, Status.ACCEPTED, Status.PICKED_UP, Status.IN_TRANSIT}
    if not roles & {"requester", "carrier", "admin"}:
        raise forbidden("not_your_step", _("Only the requester, the carrier or the cooperative cancels a booking."))
    if "admin" not in roles:
        require_verified_company(actor)
    if booking.status not in allowed:
        raise _bad_transition(booking, Status.CANCELLED)
    if not reason:
        raise invalid("reason_required", _("Say why the booking is cancelled."), reason=_("Required."))
    return _move(lot, booking, Status.CANCELLED, actor=actor, reason=reason)


# --- Weighing -------------------------------------------------------------------------


def _weights(gross: Any, tare: Any, net: Any) -> tuple[Decimal, Decimal, Decimal]:
    g = _decimal(gross, field="gross", places=GRAM, code="invalid_weight")
    t = _decimal(tare, field="tare", places=GRAM, code="invalid_weight")
    n = _decimal(net, field="net", places=GRAM, code="invalid_weight")
    if g <= 0 or t < 0 or n <= 0:
        raise invalid("invalid_weight", _("Weights must be positive."), net=_("Must be > 0."))
    if g - t != n:
        raise invalid(
            "weights_inconsistent", _("The net weight must be the gross less the tare."), net=_("Gross − tare ≠ net.")
        )
    return g, t, n


def _deduction_quantity(weighing: Weighing, *, percent: Any, quantity: Any) -> tuple[Decimal | None, Decimal]:
    if percent not in (None, "") and quantity not in (None, ""):
        raise invalid("validation_error", _("Give a percentage or a quantity, not both."), percent=_("Both given."))
    if percent not in (None, ""):
        share = _decimal(percent, field="percent", places=CENT)
        if share <= 0 or share >= 100:
            raise invalid("invalid_deduction", _("A percentage lies between 0 and 100."), percent=_("Out of range."))
        return share, (weighing.net * share / 100).quantize(GRAM, rounding=ROUND_HALF_UP)
    if quantity in (None, ""):
        raise invalid("validation_error", _("Give a percentage or a quantity."), quantity=_("Required."))
    amount = _decimal(quantity, field="quantity", places=GRAM, code="invalid_deduction")
    if amount <= 0:
        raise invalid("invalid_deduction", _("A deduction must be greater than zero."), quantity=_("Must be > 0."))
    return None, amount


def _add_deduction(
    weighing: Weighing, *, actor: Any, kind: str, percent: Any, quantity: Any, note: str, photo: Any
) -> Deduction:
    if kind not in Deduction.Kind.values:
        raise invalid("validation_error", _("Unknown deduction kind."), kind=_("Unknown kind."))
    share, amount = _deduction_quantity(weighing, percent=percent, quantity=quantity)
    if weighing.deductions_total + amount >= weighing.net:
        raise invalid("deduction_too_large", _("Deductions must leave a net weight."), quantity=_("Too large."))
    deduction = Deduction(
        weighing=weighing, kind=kind, percent=share, quantity=amount, note=(note or "").strip()[:200], created_by=actor
    )
    if photo:
        deduction.photo.save("photo.jpg", photo_file(photo), save=False)
    deduction.save()
    return deduction


@transaction.atomic
def weighing_record(
    *,
    actor: Any,
    booking_id: int,
    ticket_no: str,
    gross: Any,
    tare: Any,
    net: Any,
    photo: Any = None,
    deductions: Iterable[dict[str, Any]] = (),
) -> Weighing:
    """The receiving processor records the weighbridge ticket of a delivered booking → weighed.

    Net off the listed quantity by more than LOGISTICS_WEIGHT_TOLERANCE: a review for the
    cooperative; otherwise the seller may dispute within LOGISTICS_DISPUTE_HOURS."""
    lot, booking = _lock_booking(booking_id, actor)
    _require(actor, booking, lot, "receiver")
    if booking.status != Status.DELIVERED:
        raise _bad_transition(booking, Status.WEIGHED)
    ticket = (ticket_no or "").strip()
    if not ticket:
        raise invalid("validation_error", _("The ticket number is required."), ticket_no=_("Required."))
    g, t, n = _weights(gross, tare, net)
    now = timezone.now()
    tolerance = Decimal(str(settings.LOGISTICS_WEIGHT_TOLERANCE))
    deviation = (abs(n - lot.quantity) / lot.quantity).quantize(RATIO, rounding=ROUND_HALF_UP)
    # Compared exactly, not on the rounded share: 28.499 t of 30 t listed is outside 5 %.
    within = abs(n - lot.quantity) <= lot.quantity * tolerance
    weighing = Weighing(
        booking=booking,
        ticket_no=ticket[:40],
        gross=g,
        tare=t,
        net=n,
        unit=lot.unit,
        listed_quantity=lot.quantity,
        deviation=deviation,
        tolerance=tolerance,
        status=Weighing.Status.OPEN if within else Weighing.Status.REVIEW,
        recorded_by=actor,
        recorded_at=now,
        dispute_until=now + dt.timedelta(hours=settings.LOGISTICS_DISPUTE_HOURS),
    )
    if photo:
        weighing.photo.save("photo.jpg", photo_file(photo), save=False)
    weighing.save()
    for item in deductions:
        _add_deduction(weighing, actor=actor, **_deduction_args(item))
    body = _("Net %(net)s %(unit)s on ticket %(ticket)s; the listing said %(listed)s.") % {
        "net": n.normalize(),
        "unit": lot.get_unit_display(),
        "ticket": ticket,
        "listed": lot.quantity_display,
    }
    _move(
        lot,
        booking,
        Status.WEIGHED,
        actor=actor,
        extra={
            "net": f"{n}",
            "unit": lot.unit,
            "within_tolerance": within,
            "deductions": f"{weighing.deductions_total}",
        },
    )
    if not within:
        notify(
            users=_admins(),
            kind="weighing_review",
            title=_lazy_format(gettext_lazy("Weight of %(code)s off the listing: review it"), {"code": lot.code}),
            body=body,
            url=booking_url(booking),
            email=False,
        )
    return weighing


def _deduction_args(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": item.get("kind"),
        "percent": item.get("percent"),
        "quantity": item.get("quantity"),
        "note": item.get("note") or "",
        "photo": item.get("photo"),
    }


def _lock_weighing(booking_id: int, actor: Any) -> tuple[Lot, Booking, Weighing]:
    lot, booking = _lock_booking(booking_id, actor)
    weighing = Weighing.objects.select_for_update().filter(booking=booking).first()
    if weighing is None:
        raise conflict("not_weighed", _("This booking has no weighing yet."))
    return lot, booking, weighing


@transaction.atomic
def deduction_add(
    *,
    actor: Any,
    booking_id: int,
    kind: str,
    percent: Any = None,
    quantity: Any = None,
    note: str = "",
    photo: Any = None,
) -> Deduction:
    """The processor's inspection deduction (扣杂, 扣水 …); it reopens the seller's dispute window."""
    lot, booking, weighing = _lock_weighing(booking_id, actor)
    _require(actor, booking, lot, "receiver")
    if weighing.status == Weighing.Status.AGREED:
        raise conflict("weighing_closed", _("The weight is already agreed."))
    deduction = _add_deduction(
        weighing, actor=actor, kind=kind, percent=percent, quantity=quantity, note=note, photo=photo
    )
    weighing.dispute_until = max(
        weighing.dispute_until, timezone.now() + dt.timedelta(hours=settings.LOGISTICS_DISPUTE_HOURS)
    )
    weighing.save(update_fields=["dispute_until"])
    _append(lot, "deduction", booking, kind=deduction.kind, quantity=f"{deduction.quantity}", unit=lot.unit)
    _save_lot(lot)
    notify(
        users=_users_of(lot.seller_id),
        kind="weighing_deduction",
        title=_lazy_format(gettext_lazy("Inspection deduction on %(code)s"), {"code": lot.code}),
        body=f"{deduction.get_kind_display()} {deduction.quantity.normalize()} {lot.get_unit_display()}",
        url=booking_url(booking),
    )
    return deduction


def _agree(
    lot: Lot, booking: Booking, weighing: Weighing, *, actor: Any, how: str, net_payable: Decimal, reason: str = ""
) -> Weighing:
    now = timezone.now()
    weighing.status = Weighing.Status.AGREED
    weighing.net_payable = net_payable
    weighing.agreed_at = now
    weighing.agreed_how = how
    if how == "cooperative":
        weighing.decision_reason = reason
        weighing.decided_by = actor
    weighing.save()
    seq = _append(lot, "weight_agreed", booking, net_payable=f"{net_payable}", unit=lot.unit, how=how)
    _save_lot(lot)
    _step(booking, "weight_agreed", actor=actor, seq=seq, note=reason)
    audit_record(
        actor=actor,
        action="weighing.agree",
        target_type="booking",
        target_id=booking.pk,
        target_label=lot.code or "",
        after={"net_payable": f"{net_payable}", "how": how},
        reason=reason,
    )
    notify(
        users=_users_of(lot.seller_id, booking.receiver_id),
        kind="weighing_agreed",
        title=_lazy_format(
            gettext_lazy("Weight of %(code)s agreed: %(qty)s"),
            {"code": lot.code, "qty": f"{net_payable.normalize()} {lot.get_unit_display()}"},
        ),
        body=reason,
        url=booking_url(booking),
    )
    record_settlement_weight(lot_id=lot.pk, net_quantity=net_payable, reference=weighing.ticket_no)
    return weighing


def record_settlement_weight(*, lot_id: int, net_quantity: Decimal, reference: str) -> None:
    """The one seam to payments: the agreed weight triggers final settlement (多退少补).
    payments.services.settlement_record_weight takes actor=None from logistics."""
    from payments.services import settlement_record_weight

    settlement_record_weight(actor=None, lot_id=lot_id, net_quantity=net_quantity, reference=reference)


@transaction.atomic
def weighing_accept(*, actor: Any, booking_id: int) -> Weighing:
    """The seller accepts the weight (and deductions) before its dispute window ends."""
    lot, booking, weighing = _lock_weighing(booking_id, actor)
    _require(actor, booking, lot, "seller")
    if weighing.status != Weighing.Status.OPEN:
        raise conflict("bad_transition", _("Only an open weighing can be accepted."))
    return _agree(lot, booking, weighing, actor=actor, how="seller", net_payable=weighing.provisional_payable)


@transaction.atomic
def weighing_dispute(*, actor: Any, booking_id: int, reason: str) -> Weighing:
    """The seller disputes the weight or a deduction, within its window; the cooperative decides."""
    lot, booking, weighing = _lock_weighing(booking_id, actor)
    _require(actor, booking, lot, "seller")
    if weighing.status not in (Weighing.Status.OPEN, Weighing.Status.REVIEW):
        raise conflict("bad_transition", _("This weighing cannot be disputed now."))
    now = timezone.now()
    if now > weighing.dispute_until:
        raise conflict("dispute_window_closed", _("The time to dispute this weight has passed."))
    reason = (reason or "").strip()
    if not reason:
        raise invalid("reason_required", _("Say what is wrong with the weight."), reason=_("Required."))
    weighing.status = Weighing.Status.DISPUTED
    weighing.dispute_reason = reason
    weighing.disputed_at = now
    weighing.save(update_fields=["status", "dispute_reason", "disputed_at"])
    seq = _append(lot, "weight_disputed", booking)
    _save_lot(lot)
    _step(booking, "weight_disputed", actor=actor, seq=seq, note=reason)
    audit_record(
        actor=actor,
        action="weighing.dispute",
        target_type="booking",
        target_id=booking.pk,
        target_label=lot.code or "",
        reason=reason,
    )
    notify(
        users=_admins() + _users_of(booking.receiver_id),
        kind="weighing_disputed",
        title=_lazy_format(gettext_lazy("The seller disputes the weight of %(code)s"), {"code": lot.code}),
        body=reason,
        url=booking_url(booking),
        email=False,
    )
    return weighing


@transaction.atomic
def weighing_decide(*, actor: Any, booking_id: int, reason: str, net_payable: Any = None) -> Weighing:
    """A cooperative admin settles a review or a dispute: the net payable (default: net less
    deductions) with a reason."""
    require_cooperative_admin(actor)
    lot, booking, weighing = _lock_weighing(booking_id, actor)
    if weighing.status not in (Weighing.Status.REVIEW, Weighing.Status.DISPUTED):
        raise conflict("bad_transition", _("Only a weighing under review or disputed is decided."))
    reason = (reason or "").strip()
    if not reason:
        raise invalid("reason_required", _("Give the reason of the decision."), reason=_("Required."))
    if net_payable in (None, ""):
        payable = weighing.provisional_payable
    else:
        payable = _decimal(net_payable, field="net_payable", places=GRAM, code="invalid_weight")
        if payable <= 0:
            raise invalid("invalid_weight", _("The net payable must be greater than zero."), net_payable=_("> 0."))
    return _agree(lot, booking, weighing, actor=actor, how="cooperative", net_payable=payable, reason=reason)


def weighings_finalize_due(*, now: dt.datetime | None = None) -> list[int]:
    """Open weighings whose dispute window has passed become agreed (one transaction each);
    returns their booking ids. Run by `manage.py run_logistics_clock`."""
    now = now or timezone.now()
    done = []
    due = Weighing.objects.filter(status=Weighing.Status.OPEN, dispute_until__lt=now).values_list(
        "booking_id", flat=True
    )
    for booking_id in list(due):
        try:
            with transaction.atomic():
                lot_id = Booking.objects.filter(pk=booking_id).values_list("lot_id", flat=True).get()
                lot = lock_lot(lot_id)
                booking = Booking.objects.select_for_update().get(pk=booking_id)
                weighing = Weighing.objects.select_for_update().get(booking=booking)
                if weighing.status != Weighing.Status.OPEN or weighing.dispute_until >= now:
                    continue  # accepted or disputed meanwhile
                _agree(lot, booking, weighing, actor=None, how="window", net_payable=weighing.provisional_payable)
            done.append(booking_id)
        except DomainError:
            log.exception("weighing of booking %s not finalised", booking_id)
    return done
