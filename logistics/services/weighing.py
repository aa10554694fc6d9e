"""Weighing: the receiver's weighbridge ticket and inspection deductions, then the agreed net
payable (accepted by the seller, decided by the cooperative, or final when the dispute window
passes), handed to payments for final settlement."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.services import require_cooperative_admin
from core.errors import DomainError, conflict, invalid
from core.services import audit_record, notify
from logistics.models import Booking, Deduction, Weighing
from logistics.services.bookings import (
    _append,
    _bad_transition,
    _lazy_format,
    _lock_booking,
    _move,
    _require,
    _save_lot,
    _step,
)
from logistics.services.common import CENT, GRAM, RATIO, Status, _admins, _decimal, _users_of, booking_url, photo_file
from recycling.models import Lot, Unit, format_quantity
from recycling.services import lock_lot

log = logging.getLogger(__name__)

# A ticket is checked for plausibility before anything is written (400 `implausible_weight`).
# A seller's estimate may be off, and the tolerance review is there for that; a net weight
# more than NET_MAX_FACTOR times the listing is no estimate gone wrong but a unit mistake
# (kilograms typed on a lot listed in tonnes is × 1000) or a slip of the keyboard. Ten times
# still lets a badly understated lot through to the cooperative's review, and keeps the
# deviation (net − listed) ÷ listed at most 9. The admin's net payable obeys the same bound.
NET_MAX_FACTOR = Decimal(10)
# A loaded truck is bounded too: the largest common truck scales (SCS-150) stop at 150 t,
# three times the legal maximum gross of 49 t (GB 1589-2016). One ticket may add up the
# booking's trips, so the gross may reach this much per trip.
GROSS_MAX_PER_TRIP_T = Decimal(150)


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


def _in_lot_unit(lot: Lot, tonnes: Decimal) -> Decimal:
    """`tonnes` in the lot's unit: the inverse of quantity_in_tonnes."""
    if lot.unit == Unit.KILOGRAM:
        return tonnes * 1000
    if lot.unit == Unit.PIECE:
        return (tonnes / Decimal(str(settings.LOGISTICS_PIECE_WEIGHT_T))).quantize(GRAM, rounding=ROUND_DOWN)
    return tonnes


def _with_kilograms_hint(detail: str, unit: str, value: Decimal, listed: Decimal) -> str:
    """On a lot in tonnes, `detail` followed by `value` read as kilograms when that reading lies
    within NET_MAX_FACTOR of the listing either way: the usual mistake, named."""
    tonnes = (value / 1000).quantize(GRAM, rounding=ROUND_HALF_UP)
    if unit != Unit.TONNE or not listed / NET_MAX_FACTOR <= tonnes <= listed * NET_MAX_FACTOR:
        return detail
    hint = _("%(kg)s kg is %(t)s t.") % {"kg": format_quantity(value), "t": format_quantity(tonnes)}
    # Two sentences: a space between them in English, none after a Chinese full stop.
    return _("%(sentence)s %(hint)s") % {"sentence": detail, "hint": hint}


def _unit_label(unit: str) -> str:
    return str(dict(Unit.choices).get(unit, unit))


def _check_net(unit: str, listed: Decimal, value: Decimal, *, field: str) -> None:
    """400 `implausible_weight` for a net (or net payable) above NET_MAX_FACTOR × the listing."""
    limit = listed * NET_MAX_FACTOR
    if value <= limit:
        return
    values = {
        "value": format_quantity(value),
        "factor": format_quantity(NET_MAX_FACTOR),
        "listed": format_quantity(listed),
        "unit": _unit_label(unit),
    }
    if field == "net_payable":
        detail = _(
            "A net payable of %(value)s is more than %(factor)s times the %(listed)s %(unit)s listed: is it in "
            "another unit? Give it in the lot's unit (%(unit)s)."
        )
    else:
        detail = _(
            "A net weight of %(value)s is more than %(factor)s times the %(listed)s %(unit)s listed: is it in "
            "another unit? Enter the weights in the lot's unit (%(unit)s)."
        )
    raise invalid(
        "implausible_weight",
        _with_kilograms_hint(detail % values, unit, value, listed),
        **{field: _("More than %(factor)s × the listed quantity.") % values},
    )


def _check_plausible(lot: Lot, booking: Booking, gross: Decimal, net: Decimal) -> None:
    """The net against the listing, then the gross against what the booking's trucks can weigh."""
    _check_net(lot.unit, lot.quantity, net, field="net")
    trips = max(booking.trips, 1)
    limit = _in_lot_unit(lot, GROSS_MAX_PER_TRIP_T * trips)
    if gross <= limit:
        return
    values = {
        "value": format_quantity(gross),
        "max": format_quantity(limit),
        "unit": _unit_label(lot.unit),
        "trips": trips,
    }
    detail = ngettext(
        "A gross weight of %(value)s is more than a loaded truck weighs: at most %(max)s %(unit)s for "
        "%(trips)d trip. Enter the weights in the lot's unit (%(unit)s).",
        "A gross weight of %(value)s is more than loaded trucks weigh: at most %(max)s %(unit)s for "
        "%(trips)d trips. Enter the weights in the lot's unit (%(unit)s).",
        trips,
    )
    raise invalid(
        "implausible_weight",
        detail % values,
        gross=_("More than %(max)s %(unit)s.") % values,
    )


def _deduction_quantity(weighing: Weighing, *, percent: Any, quantity: Any) -> tuple[Decimal | None, Decimal]:
    if percent not in (None, "") and quantity not in (None, ""):
        raise invalid("validation_error", _("Give a percentage or a quantity, not both."), percent=_("Both given."))
    if percent not in (None, ""):
        share = _decimal(percent, field="percent", places=CENT)
        if share <= 0 or share >= 100:
            raise invalid("invalid_deduction", _("A percentage lies between 0 and 100."), percent=_("Out of range."))
        amount = (weighing.net * share / 100).quantize(GRAM, rounding=ROUND_HALF_UP)
        if amount <= 0:
            # 1 % of 0.040 t is under a kilogram: a zero deduction would break its constraint.
            raise invalid(
                "invalid_deduction",
                _("This percentage of the net weight rounds to zero: give a quantity instead."),
                percent=_("Rounds to zero."),
            )
        return share, amount
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
    _check_plausible(lot, booking, g, n)
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
        _check_net(weighing.unit, weighing.listed_quantity, payable, field="net_payable")
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
