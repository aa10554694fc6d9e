"""Bookings and their road steps: create, accept, decline, advance (picked up, in transit,
delivered), cancel. Each status change appends a `logistics` event to the lot's chain and
tells the other parties."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.services import require_verified_company
from auctions.events import append_event
from core.errors import DomainError, conflict, forbidden, invalid, not_found
from core.services import audit_record, notify
from logistics.models import Booking, BookingStep, BookingVehicle, Quote, Vehicle
from logistics.services.common import EVENT_TYPE, Status, _coordinates, _users_of, booking_url, photo_file, pickup_point
from logistics.services.quotes import _busy_vehicle_ids, _clean_slot, _requester_company, _visible_lot
from recycling.models import Lot
from recycling.services import lock_lot


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
