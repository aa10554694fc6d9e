"""The lot page's deposit panel: terms for everyone, registration for processors, the
settlement statement for the buyer, the seller and the cooperative."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from accounts.models import Company
from payments import selectors
from payments.models import DepositHold
from payments.services.holds import hold_admits_bids
from payments.services.strikes import banned_until
from recycling.models import Lot

register = template.Library()


@register.inclusion_tag("payments/_lot_terms_panel.html", takes_context=True)
def lot_payment_panel(context: template.Context, lot: Lot | None = None) -> dict[str, Any]:
    lot = lot or context.get("lot")
    request = context.get("request")
    user = getattr(request, "user", None)
    terms = selectors.lot_terms(lot)
    company = getattr(user, "company", None) if user is not None and user.is_authenticated else None
    is_processor = (
        company is not None
        and company.role == Company.Role.PROCESSOR
        and company.status == Company.Status.VERIFIED
        and company.pk != lot.seller_id
    )
    hold = DepositHold.objects.filter(lot=lot, company=company).first() if is_processor else None
    settlement = selectors.settlement_of(lot) if lot.status == Lot.Status.AWARDED else None
    show_statement = lot.status == Lot.Status.AWARDED and selectors.may_see_settlement(user, lot, settlement)
    return {
        "lot": lot,
        "terms": terms,
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "is_processor": is_processor,
        "hold": hold,
        "can_bid": is_processor and (lot.deposit == 0 or hold_admits_bids(hold, lot)),
        "has_card": is_processor and selectors.viewer_card(user) is not None,
        "banned_until": banned_until(company) if is_processor else None,
        "deposit_url": reverse("api:lot-deposit", args=[lot.pk]).rstrip("/") + "/",
        "confirm_url": reverse("payments:deposit_confirm", args=[lot.pk]),
        "cards_url": reverse("payments:cards") + "?" + urlencode({"next": request.path if request else ""}),
        "statement_url": reverse("payments:statement", args=[lot.pk]) if show_statement else "",
    }
