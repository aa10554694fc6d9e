"""Pages of deposits and payments, mounted at /payments/ (namespace "payments"): saving a
card, confirming a deposit or a payment with the bank, the settlement statement (printable),
and the cooperative's settlements desk (weights, defaults, re-offers, payouts, strikes).

The browser talks to Stripe only through Stripe.js from settings.STRIPE_JS_URL; every money
step is a service call (the pages post to the same API the mobile app uses)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Company
from accounts.services import require_cooperative_admin, require_verified_company
from core.errors import DomainError
from payments import selectors, services
from payments.models import DepositHold, Payout, Settlement, Strike
from recycling.models import Lot
from recycling.selectors import lot_for


def _denied(request: HttpRequest, detail: str) -> HttpResponse:
    return render(request, "recycling/denied.html", {"detail": detail}, status=403)


def _stripe_context() -> dict[str, Any]:
    return {"stripe_js_url": settings.STRIPE_JS_URL, "publishable_key": settings.STRIPE_PUBLISHABLE_KEY}


def _api(name: str, *args: Any) -> str:
    return reverse(f"api:{name}", args=args).rstrip("/") + "/"


def _safe_next(request: HttpRequest) -> str:
    target = request.GET.get("next", "")
    ok = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return target if ok and target.startswith("/") else ""


@login_required
def cards(request: HttpRequest) -> HttpResponse:
    """The processor's saved cards and the form that saves one (Stripe.js Card Element)."""
    try:
        company = require_verified_company(request.user, role=Company.Role.PROCESSOR)
    except DomainError as exc:
        return _denied(request, exc.detail)
    return render(
        request,
        "payments/cards.html",
        {
            "cards": list(selectors.cards_of(company.pk)),
            "setup_url": _api("payment-card-setup"),
            "cards_url": _api("payment-cards"),
            "next": _safe_next(request),
            **_stripe_context(),
        },
    )


def register(request: HttpRequest, lot_id: int) -> HttpResponse:
    """Register to bid on a lot: its deposit terms and the registration box (the same panel
    the lot page includes)."""
    lot = lot_for(request.user, lot_id)
    if lot is None or lot.status not in Lot.PUBLISHED:
        raise Http404(_("No such lot."))
    return render(request, "payments/register.html", {"lot": lot})


@login_required
def deposit_confirm(request: HttpRequest, lot_id: int) -> HttpResponse:
    """The bank asked to authenticate the deposit hold: confirm it here with Stripe.js."""
    lot = lot_for(request.user, lot_id)
    if lot is None:
        raise Http404(_("No such lot."))
    hold = DepositHold.objects.filter(lot=lot, company_id=request.user.company_id).first()
    if hold is None:
        raise Http404(_("No such deposit."))
    try:
        hold, client_secret, payment_method = services.hold_client_secret(actor=request.user, hold_id=hold.pk)
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect("recycling:lot_detail", lot.pk)
    if not client_secret:
        return redirect("recycling:lot_detail", lot.pk)
    return render(
        request,
        "payments/confirm.html",
        {
            "lot": lot,
            "what": _("the deposit of ¥%(amount)s for %(code)s") % {"amount": f"{hold.amount:,.2f}", "code": lot.code},
            "client_secret": client_secret,
            "payment_method": payment_method,
            "refresh_url": _api("lot-deposit", lot.pk),
            "next_url": reverse("recycling:lot_detail", args=[lot.pk]),
            **_stripe_context(),
        },
    )


def _settlement_lot(request: HttpRequest, lot_id: int) -> tuple[Lot, Settlement | None]:
    lot = lot_for(request.user, lot_id)
    if lot is None or lot.status != Lot.Status.AWARDED:
        raise Http404(_("No such settlement."))
    settlement = selectors.settlement_of(lot)
    if not selectors.may_see_settlement(request.user, lot, settlement):
        raise Http404(_("No such settlement."))
    return lot, settlement


@login_required
def statement(request: HttpRequest, lot_id: int) -> HttpResponse:
    """The settlement statement of a lot for its buyer, its seller and the cooperative."""
    lot, settlement = _settlement_lot(request, lot_id)
    body = selectors.settlement_body(lot=lot, settlement=settlement, viewer=request.user)
    return render(
        request,
        "payments/statement.html",
        {
            "lot": lot,
            "settlement": settlement,
            "s": body,
            "ledger": list(selectors.ledger_of(lot)) if request.user.is_cooperative_admin else [],
            "is_buyer": settlement is not None and request.user.company_id == settlement.buyer_id,
            "now": timezone.now(),
        },
    )


@login_required
def settlement_pay(request: HttpRequest, lot_id: int) -> HttpResponse:
    """The buyer pays what is outstanding (and authenticates with its bank when asked)."""
    lot, settlement = _settlement_lot(request, lot_id)
    if settlement is None or request.user.company_id != settlement.buyer_id:
        raise Http404(_("No such settlement."))
    client_secret = payment_method = ""
    if settlement.charge_status == "requires_action":
        try:
            settlement, client_secret, payment_method = services.settlement_pay(actor=request.user, lot_id=lot.pk)
        except DomainError as exc:
            messages.error(request, exc.detail)
    return render(
        request,
        "payments/pay.html",
        {
            "lot": lot,
            "settlement": settlement,
            "s": selectors.settlement_body(lot=lot, settlement=settlement, viewer=request.user),
            "client_secret": client_secret,
            "payment_method": payment_method,
            "pay_url": _api("lot-settlement-pay", lot.pk),
            "next_url": reverse("payments:statement", args=[lot.pk]),
            "what": _("the balance for %(code)s") % {"code": lot.code},
            **_stripe_context(),
        },
    )


# --- The cooperative's desk -------------------------------------------------------------------


def _admin_or_denied(request: HttpRequest) -> HttpResponse | None:
    try:
        require_cooperative_admin(request.user)
    except DomainError as exc:
        return _denied(request, exc.detail)
    return None


@login_required
def admin_settlements(request: HttpRequest) -> HttpResponse:
    denied = _admin_or_denied(request)
    if denied:
        return denied
    open_settlements = (
        Settlement.objects.exclude(status=Settlement.Status.SETTLED)
        .select_related("lot", "buyer", "seller")
        .order_by("payment_due_at")[:200]
    )
    return render(
        request,
        "payments/admin.html",
        {
            "settlements": list(open_settlements),
            "payouts": list(selectors.payouts(status=Payout.Status.DUE)[:200]),
            "strikes": list(Strike.objects.select_related("company", "lot").order_by("-created_at")[:200]),
            "now": timezone.now(),
        },
    )


def _back(request: HttpRequest) -> HttpResponse:
    return redirect("payments:admin_settlements")


def _run(request: HttpRequest, action, success: str) -> HttpResponse:
    denied = _admin_or_denied(request)
    if denied:
        return denied
    try:
        action()
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, success)
    return _back(request)


@login_required
@require_POST
def admin_weight(request: HttpRequest, lot_id: int) -> HttpResponse:
    return _run(
        request,
        lambda: services.settlement_record_weight(
            actor=request.user,
            lot_id=lot_id,
            net_quantity=request.POST.get("net_quantity", ""),
            reference=request.POST.get("reference", ""),
        ),
        _("Weight recorded; the settlement is under way."),
    )


@login_required
@require_POST
def admin_default(request: HttpRequest, settlement_id: int) -> HttpResponse:
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, _("Give a reason."))
        return _back(request)
    return _run(
        request,
        lambda: services.settlement_default(settlement_id=settlement_id, actor=request.user, reason=reason),
        _("The buyer is in default."),
    )


@login_required
@require_POST
def admin_reoffer(request: HttpRequest, lot_id: int) -> HttpResponse:
    return _run(
        request,
        lambda: services.settlement_reoffer(actor=request.user, lot_id=lot_id),
        _("The lot is offered to the runner-up."),
    )


@login_required
@require_POST
def admin_relist(request: HttpRequest, lot_id: int) -> HttpResponse:
    starts = parse_datetime(request.POST.get("starts_at", "") or "")
    if starts is None:
        starts = timezone.now() + dt.timedelta(days=1)
    if timezone.is_naive(starts):
        starts = timezone.make_aware(starts)
    return _run(
        request,
        lambda: services.settlement_relist(
            actor=request.user, lot_id=lot_id, starts_at=starts, ends_at=starts + dt.timedelta(days=2)
        ),
        _("A new draft was made for the seller."),
    )


@login_required
@require_POST
def admin_payout_paid(request: HttpRequest, payout_id: int) -> HttpResponse:
    return _run(
        request,
        lambda: services.payout_mark_paid(
            actor=request.user, payout_id=payout_id, reference=request.POST.get("reference", "")
        ),
        _("Payout marked paid."),
    )


@login_required
@require_POST
def admin_strike_reverse(request: HttpRequest, strike_id: int) -> HttpResponse:
    return _run(
        request,
        lambda: services.strike_reverse(actor=request.user, strike_id=strike_id, reason=request.POST.get("reason", "")),
        _("Strike reversed."),
    )
