"""Logistics pages: the carrier's fleet and job board (with the day's route plan), booking a
pickup, a booking's timeline with each party's actions, the printable pickup slip, the
cooperative's weighing reviews and the public trace page. Thin: a form, a service, a message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import Company
from accounts.services import require_cooperative_admin, require_verified_company
from core.errors import DomainError
from core.forms import add_domain_error
from logistics import geo, selectors, services
from logistics.forms import (
    AdvanceForm,
    BookForm,
    DecisionForm,
    DeductionForm,
    OptionalReasonForm,
    QuoteForm,
    ReasonForm,
    VehicleForm,
    WeighingForm,
)
from logistics.models import Booking, BookingStep, Deduction, Vehicle, Weighing
from recycling.models import Lot
from recycling.selectors import lot_for


def _requires(check: Callable[[Any], Any]) -> Callable:
    """Log in first; then `check(user)` (a service guard) must pass, else a 403 page saying why.
    What it returns goes to the view as `company`."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                company = check(request.user)
            except DomainError as exc:
                return render(request, "recycling/denied.html", {"detail": exc.detail}, status=403)
            return view(request, *args, company=company, **kwargs)

        return login_required(wrapper)

    return decorator


carrier_required = _requires(lambda user: require_verified_company(user, role=Company.Role.CARRIER))
member_required = _requires(lambda user: require_verified_company(user))
admin_required = _requires(require_cooperative_admin)

NEXT_STEP = {
    Booking.Status.ACCEPTED: Booking.Status.PICKED_UP,
    Booking.Status.PICKED_UP: Booking.Status.IN_TRANSIT,
    Booking.Status.IN_TRANSIT: Booking.Status.DELIVERED,
}


def trace_url(code: str) -> str:
    return f"{settings.SITE_URL}{reverse('trace', args=[code])}"


def qr_svg(url: str) -> str:
    return mark_safe(segno.make(url, error="m").svg_inline(scale=4, dark="#111", omitsize=False))  # noqa: S308


# --- The carrier's fleet and jobs ------------------------------------------------------


@carrier_required
def fleet(request: HttpRequest, company: Company) -> HttpResponse:
    form = VehicleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            vehicle = services.vehicle_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Vehicle %(plate)s added.") % {"plate": vehicle.plate})
            return redirect("logistics:fleet")
    return render(request, "logistics/fleet.html", {"form": form, "vehicles": selectors.fleet_of(company.pk)})


@require_POST
@carrier_required
def vehicle_toggle(request: HttpRequest, vehicle_id: int, company: Company) -> HttpResponse:
    vehicle = selectors.fleet_of(company.pk).filter(pk=vehicle_id).first()
    if vehicle is None:
        raise Http404(_("No such vehicle."))
    try:
        services.vehicle_update(actor=request.user, vehicle_id=vehicle.pk, active=not vehicle.active)
    except DomainError as exc:
        messages.error(request, exc.detail)
    return redirect("logistics:fleet")


@carrier_required
def jobs(request: HttpRequest, company: Company) -> HttpResponse:
    days = selectors.plan_days(company.pk)
    chosen = request.GET.get("date") or (days[0].isoformat() if days else "")
    plan = None
    if chosen:
        try:
            day = dt.date.fromisoformat(chosen)
        except ValueError:
            messages.error(request, _("Use YYYY-MM-DD."))
        else:
            plan = selectors.day_plan(company.pk, day)
    return render(
        request,
        "logistics/jobs.html",
        {"jobs": selectors.jobs_of_carrier(company.pk), "days": days, "chosen": chosen, "plan": plan},
    )


# --- Shipments (processors, collectors, the cooperative) ---------------------------------


@login_required
def shipments(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_cooperative_admin:
        try:
            require_verified_company(user)
        except DomainError as exc:
            return render(request, "recycling/denied.html", {"detail": exc.detail}, status=403)
    bookings = selectors.bookings_visible_to(user).order_by("-created_at", "-id")[:100]
    to_book = []
    if user.company_id:
        awarded = Lot.objects.filter(status=Lot.Status.AWARDED).select_related("category")
        mine = awarded.filter(winner_id=user.company_id, seller_delivers=False) | awarded.filter(
            seller_id=user.company_id, seller_delivers=True
        )
        booked = set(Booking.objects.filter(status__in=Booking.ACTIVE).values_list("lot_id", flat=True))
        to_book = [lot for lot in mine.order_by("pickup_until")[:50] if lot.pk not in booked]
    return render(request, "logistics/shipments.html", {"bookings": bookings, "to_book": to_book})


# --- Booking a pickup -----------------------------------------------------------------


def _quote_initial(company: Company, lot: Lot) -> dict[str, Any]:
    yard = lot.winner if lot.winner_id else company
    lat, lng = geo.district_centre(yard.district)
    start = max(lot.pickup_from, timezone.now() + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    start += dt.timedelta(hours=1)
    return {
        "slot_start": start,
        "slot_end": min(start + dt.timedelta(hours=3), lot.pickup_until),
        "deliver_address": yard.address,
        "deliver_lat": f"{lat:.6f}",
        "deliver_lng": f"{lng:.6f}",
    }


@member_required
def book(request: HttpRequest, lot_id: int, company: Company) -> HttpResponse:
    lot = lot_for(request.user, lot_id)
    if lot is None:
        raise Http404(_("No such lot."))
    existing = selectors.active_booking_for_lot(lot)
    if existing is not None and selectors.booking_for(request.user, existing.pk):
        messages.info(request, _("This lot already has a pickup booking."))
        return redirect("logistics:booking_detail", existing.pk)
    quotes = None
    action = request.POST.get("action")
    if request.method == "POST" and action == "book":
        form = BookForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                booking = services.booking_create(
                    actor=request.user,
                    lot_id=lot.pk,
                    quote_id=data["quote_id"],
                    slot_start=data["slot_start"],
                    slot_end=data["slot_end"],
                    deliver_address=data["deliver_address"],
                    deliver_lat=data["deliver_lat"],
                    deliver_lng=data["deliver_lng"],
                )
            except DomainError as exc:
                messages.error(request, exc.detail)
            else:
                messages.success(request, _("Pickup requested: the carrier will accept or decline it."))
                return redirect("logistics:booking_detail", booking.pk)
        form = QuoteForm(request.POST)
        form.is_valid()
    elif request.method == "POST":
        form = QuoteForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                quotes = services.quotes_request(
                    actor=request.user,
                    lot_id=lot.pk,
                    slot_start=data["slot_start"],
                    slot_end=data["slot_end"],
                    deliver_lat=data["deliver_lat"],
                    deliver_lng=data["deliver_lng"],
                    vehicle_type=data["vehicle_type"] or None,
                )
            except DomainError as exc:
                add_domain_error(form, exc, {"deliver_to_lat": "deliver_lat", "slot_outside_window": "slot_start"})
            else:
                carriers = {c.pk: c for c in Company.objects.filter(pk__in={q.carrier_id for q in quotes})}
                for quote in quotes:
                    quote.carrier = carriers[quote.carrier_id]
    else:
        form = QuoteForm(initial=_quote_initial(company, lot))
    return render(request, "logistics/book.html", {"lot": lot, "form": form, "quotes": quotes})


# --- A booking's page and its actions ---------------------------------------------------


def _booking_or_404(request: HttpRequest, booking_id: int) -> Booking:
    booking = selectors.booking_for(request.user, booking_id)
    if booking is None:
        raise Http404(_("No such booking."))
    return booking


@login_required
def booking_detail(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking = _booking_or_404(request, booking_id)
    roles = services.parties_of(request.user, booking, booking.lot)
    weighing = selectors.weighing_of(booking)
    next_step = NEXT_STEP.get(booking.status)
    now = timezone.now()
    context = {
        "booking": booking,
        "lot": booking.lot,
        "roles": roles,
        "steps": list(booking.steps.all()),
        "weighing": weighing,
        "next_step": next_step,
        "next_step_label": Booking.Status(next_step).label if next_step else "",
        "advance_form": AdvanceForm(initial={"status": next_step}) if next_step else None,
        "reason_form": ReasonForm(),
        "decline_form": OptionalReasonForm(),
        "weighing_form": WeighingForm(),
        "deduction_form": DeductionForm(),
        "decision_form": DecisionForm(),
        "can_accept": "carrier" in roles and booking.status == Booking.Status.REQUESTED,
        "can_advance": "carrier" in roles and next_step is not None,
        "can_cancel": bool(
            ("requester" in roles and booking.status in (Booking.Status.REQUESTED, Booking.Status.ACCEPTED))
            or ("carrier" in roles and booking.status == Booking.Status.ACCEPTED)
            or (
                "admin" in roles
                and booking.status in (Booking.Status.REQUESTED, Booking.Status.ACCEPTED, *Booking.ROAD[:-1])
            )
        ),
        "can_weigh": "receiver" in roles and booking.status == Booking.Status.DELIVERED,
        "can_deduct": "receiver" in roles and weighing is not None and weighing.status != Weighing.Status.AGREED,
        "can_dispute": "seller" in roles
        and weighing is not None
        and weighing.status in (Weighing.Status.OPEN, Weighing.Status.REVIEW)
        and now <= weighing.dispute_until,
        "can_accept_weight": "seller" in roles and weighing is not None and weighing.status == Weighing.Status.OPEN,
        "can_decide": "admin" in roles
        and weighing is not None
        and weighing.status in (Weighing.Status.REVIEW, Weighing.Status.DISPUTED),
        "trace_url": reverse("trace", args=[booking.lot.code]),
    }
    return render(request, "logistics/booking_detail.html", context)


ACTIONS = ("accept", "decline", "advance", "cancel", "weigh", "deduct", "accept_weight", "dispute", "decide")
DONE = {
    "accept": gettext_lazy("Booking accepted."),
    "decline": gettext_lazy("Booking declined."),
    "advance": gettext_lazy("Step recorded."),
    "cancel": gettext_lazy("Booking cancelled."),
    "weigh": gettext_lazy("Weighing recorded."),
    "deduct": gettext_lazy("Deduction recorded."),
    "accept_weight": gettext_lazy("Weight accepted."),
    "dispute": gettext_lazy("Dispute sent to the cooperative."),
    "decide": gettext_lazy("Decision recorded."),
}
EVENT_LABELS = {
    "listed": gettext_lazy("Listed"),
    "approved": gettext_lazy("Approved by the cooperative"),
    "opened": gettext_lazy("Auction opened"),
    "auction_closed": gettext_lazy("Auction closed"),
    "status": gettext_lazy("Status changed"),
    "reoffered": gettext_lazy("Offered to the next bidder"),
    "payment_settled": gettext_lazy("Payment settled"),
    "requested": gettext_lazy("Pickup requested"),
    "accepted": gettext_lazy("Pickup accepted by the carrier"),
    "declined": gettext_lazy("Pickup declined by the carrier"),
    "cancelled": gettext_lazy("Pickup cancelled"),
    "picked_up": gettext_lazy("Picked up"),
    "in_transit": gettext_lazy("In transit"),
    "delivered": gettext_lazy("Delivered to the processor"),
    "weighed": gettext_lazy("Weighed"),
    "deduction": gettext_lazy("Inspection deduction"),
    "weight_disputed": gettext_lazy("Weight disputed by the seller"),
    "weight_agreed": gettext_lazy("Weight agreed"),
}


def _run_action(request: HttpRequest, booking: Booking, action: str) -> str | None:
    """Call the action's service; the error's detail, or None when it worked."""
    user, pk = request.user, booking.pk
    forms_by_action = {
        "decline": OptionalReasonForm,
        "cancel": ReasonForm,
        "dispute": ReasonForm,
        "advance": AdvanceForm,
        "weigh": WeighingForm,
        "deduct": DeductionForm,
        "decide": DecisionForm,
    }
    data: dict[str, Any] = {}
    if action in forms_by_action:
        form = forms_by_action[action](request.POST, request.FILES)
        if not form.is_valid():
            return " ".join(
                f"{form.fields[name].label or name}: {' '.join(errs)}" for name, errs in form.errors.items()
            )
        data = form.cleaned_data
    try:
        if action == "accept":
            services.booking_accept(actor=user, booking_id=pk)
        elif action == "decline":
            services.booking_decline(actor=user, booking_id=pk, reason=data["reason"])
        elif action == "cancel":
            services.booking_cancel(actor=user, booking_id=pk, reason=data["reason"])
        elif action == "advance":
            services.booking_advance(
                actor=user,
                booking_id=pk,
                status=data["status"],
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
                photo=data.get("photo"),
            )
        elif action == "weigh":
            services.weighing_record(
                actor=user,
                booking_id=pk,
                ticket_no=data["ticket_no"],
                gross=data["gross"],
                tare=data["tare"],
                net=data["net"],
                photo=data.get("photo"),
                deductions=form.deductions(),
            )
        elif action == "deduct":
            services.deduction_add(
                actor=user,
                booking_id=pk,
                kind=data["kind"],
                percent=data.get("percent"),
                quantity=data.get("quantity"),
                note=data.get("note") or "",
                photo=data.get("photo"),
            )
        elif action == "accept_weight":
            services.weighing_accept(actor=user, booking_id=pk)
        elif action == "dispute":
            services.weighing_dispute(actor=user, booking_id=pk, reason=data["reason"])
        elif action == "decide":
            services.weighing_decide(
                actor=user, booking_id=pk, reason=data["reason"], net_payable=data.get("net_payable")
            )
    except DomainError as exc:
        return exc.detail
    return None


@require_POST
@login_required
def booking_action(request: HttpRequest, booking_id: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404
    booking = _booking_or_404(request, booking_id)
    with transaction.atomic():
        error = _run_action(request, booking, action)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, DONE[action])
    return redirect("logistics:booking_detail", booking.pk)


@login_required
def booking_slip(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking = _booking_or_404(request, booking_id)
    url = trace_url(booking.lot.code)
    return render(
        request,
        "logistics/slip.html",
        {"booking": booking, "lot": booking.lot, "trace_url": url, "qr": qr_svg(url)},
    )


PHOTO_MODELS = {"step": BookingStep, "weighing": Weighing, "deduction": Deduction}


@login_required
def photo(request: HttpRequest, kind: str, pk: int) -> FileResponse:
    """A logistics photo, for the booking's parties and the cooperative only."""
    model = PHOTO_MODELS.get(kind)
    if model is None:
        raise Http404
    item = model.objects.filter(pk=pk).first()
    if item is None or not item.photo:
        raise Http404
    booking_id = item.weighing.booking_id if kind == "deduction" else item.booking_id
    if not selectors.bookings_visible_to(request.user).filter(pk=booking_id).exists():
        raise Http404
    try:
        response = FileResponse(item.photo.open("rb"), content_type="image/jpeg")
    except FileNotFoundError:
        raise Http404 from None
    response["Cache-Control"] = "private, no-store"
    return response


@admin_required
def reviews(request: HttpRequest, company: Any) -> HttpResponse:
    return render(request, "logistics/reviews.html", {"weighings": selectors.weighings_to_decide()})


# --- Public trace (溯源) ----------------------------------------------------------------


def trace_page(request: HttpRequest, code: str) -> HttpResponse:
    lot = selectors.lot_by_code(code)
    if lot is None:
        raise Http404(_("No such lot."))
    trace = selectors.lot_trace(lot)
    kinds = dict(Deduction.Kind.choices)
    for event in trace["events"]:
        event["label"] = EVENT_LABELS.get(event["type"], event["type"])
        event["when"] = parse_datetime(event["at"])
        if "kind" in event:
            event["kind_label"] = kinds.get(event["kind"], event["kind"])
    return render(
        request,
        "logistics/trace.html",
        {"lot": lot, "trace": trace, "qr": qr_svg(trace_url(lot.code)), "vehicle_types": dict(Vehicle.Type.choices)},
    )
