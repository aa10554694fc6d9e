"""Reads of the payments domain: saved cards, a company's deposit for a lot, a lot's
settlement and who may see it, the lot's payment terms, payouts and strikes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from core.times import iso
from payments.models import DepositHold, LedgerEntry, Payout, SavedCard, Settlement, Strike
from payments.services.common import (
    OPEN_FOR_DEPOSITS,
    REGISTRATION_OPENS_BEFORE_END,
    current_card,
    payment_days,
    registration_opens_at,
)
from payments.services.holds import hold_admits_bids
from payments.services.strikes import banned_until
from recycling.models import Lot


def _m(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def cards_of(company_id: int) -> QuerySet[SavedCard]:
    return SavedCard.objects.filter(company_id=company_id, removed_at__isnull=True).order_by("-created_at", "-id")


def card_body(card: SavedCard) -> dict[str, Any]:
    return {
        "id": card.pk,
        "brand": card.brand,
        "last4": card.last4,
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
    }


def deposit_body(*, lot: Lot, hold: DepositHold | None) -> dict[str, Any]:
    """API.md: {status, amount}; `status` is `none` without a hold."""
    return {
        "status": hold.status if hold is not None else "none",
        "amount": _m(hold.amount if hold is not None else lot.deposit),
        "payment_intent": (hold.stripe_payment_intent_id or None) if hold is not None else None,
        "can_bid": lot.deposit == 0 or hold_admits_bids(hold, lot),
        "expires_at": iso(hold.expires_at) if hold is not None else None,
        "failure": (hold.failure_message or hold.failure_code or None) if hold is not None else None,
        "registration_opens_at": timezone.localtime(registration_opens_at(lot)).isoformat(),
    }


@dataclass
class LotTerms:
    deposit: Decimal
    payment_days: int
    payment_deadline: dt.datetime | None
    pickup_until: dt.datetime
    registration_opens_at: dt.datetime
    registration_open: bool


def lot_terms(lot: Lot) -> LotTerms:
    days = payment_days(lot)
    opens = registration_opens_at(lot)
    now = timezone.now()
    return LotTerms(
        deposit=lot.deposit,
        payment_days=days,
        payment_deadline=(lot.closed_at + dt.timedelta(days=days)) if lot.closed_at and lot.winner_id else None,
        pickup_until=lot.pickup_until,
        registration_opens_at=opens,
        registration_open=lot.status in OPEN_FOR_DEPOSITS and opens <= now < lot.ends_at,
    )


def lot_terms_body(lot: Lot) -> dict[str, Any]:
    terms = lot_terms(lot)
    return {
        "deposit": _m(terms.deposit),
        "payment_days": terms.payment_days,
        "payment_deadline": iso(terms.payment_deadline),
        "pickup_deadline": timezone.localtime(terms.pickup_until).isoformat(),
        "registration_opens_at": timezone.localtime(terms.registration_opens_at).isoformat(),
        "registration_open": terms.registration_open,
        "registration_window_days": REGISTRATION_OPENS_BEFORE_END.days,
        "buyer_fee_rate": f"{settings.BUYER_FEE_RATE}",
    }


def settlement_of(lot: Lot) -> Settlement | None:
    """The lot's current settlement (its latest, defaulted or not)."""
    return (
        Settlement.objects.filter(lot=lot)
        .select_related("buyer", "seller", "hold")
        .order_by("-created_at", "-pk")
        .first()
    )


def may_see_settlement(user: Any, lot: Lot, settlement: Settlement | None) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if user.is_cooperative_admin:
        return True
    company_id = user.company_id
    if company_id is None:
        return False
    if company_id == lot.seller_id or company_id == lot.winner_id:
        return True
    return Settlement.objects.filter(lot=lot, buyer_id=company_id).exists()


def settlement_body(*, lot: Lot, settlement: Settlement | None, viewer: Any) -> dict[str, Any]:
    """API.md: {status, unit_price, net_quantity, gross, buyer_fee, deposit_captured,
    balance_due, refunded, seller_net}; a buyer that defaulted sees its own settlement."""
    if settlement is not None and viewer.company_id and settlement.buyer_id != viewer.company_id:
        own = Settlement.objects.filter(lot=lot, buyer_id=viewer.company_id).first()
        if own is not None and viewer.company_id != lot.seller_id:
            settlement = own
    if settlement is None:
        return {
            "status": Settlement.Status.AWAITING_WEIGHT,
            "unit_price": _m(lot.final_price),
            "net_quantity": None,
            "unit": lot.unit,
            "gross": None,
            "buyer_fee": None,
            "deposit_captured": "0.00",
            "balance_due": None,
            "balance_paid": "0.00",
            "refunded": "0.00",
            "seller_net": None,
            "payment_due_at": None,
            "charge_status": "",
        }
    return {
        "status": settlement.status,
        "unit_price": _m(settlement.unit_price),
        "net_quantity": None if settlement.net_quantity is None else f"{settlement.net_quantity:f}",
        "unit": lot.unit,
        "gross": _m(settlement.gross),
        "buyer_fee": _m(settlement.buyer_fee),
        "deposit_captured": _m(settlement.deposit_captured),
        "balance_due": None if settlement.gross is None else _m(settlement.balance_due),
        "balance_paid": _m(settlement.balance_paid),
        "refunded": _m(settlement.refunded),
        "seller_net": _m(settlement.seller_net),
        "payment_due_at": timezone.localtime(settlement.payment_due_at).isoformat(),
        "charge_status": settlement.charge_status,
    }


def ledger_of(lot: Lot) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(lot=lot).select_related("company").order_by("created_at", "id")


def payouts(*, status: str | None = None) -> QuerySet[Payout]:
    qs = Payout.objects.select_related("company", "lot").order_by("status", "-created_at", "-id")
    return qs.filter(status=status) if status else qs


def strikes(*, company_id: int | None = None) -> QuerySet[Strike]:
    qs = Strike.objects.select_related("company", "lot", "reversed_by").order_by("-created_at", "-id")
    return qs.filter(company_id=company_id) if company_id else qs


def strike_body(strike: Strike) -> dict[str, Any]:
    until = banned_until(strike.company_id)
    return {
        "id": strike.pk,
        "company": {"id": strike.company_id, "name": strike.company.name},
        "lot": strike.lot.code if strike.lot_id else None,
        "reason": strike.reason,
        "created_at": iso(strike.created_at),
        "active": strike.reversed_at is None,
        "reversed_at": iso(strike.reversed_at),
        "reversal_reason": strike.reversal_reason,
        "company_banned_until": iso(until),
    }


def payout_body(payout: Payout) -> dict[str, Any]:
    return {
        "id": payout.pk,
        "company": {"id": payout.company_id, "name": payout.company.name},
        "lot": {"id": payout.lot_id, "code": payout.lot.code},
        "kind": payout.kind,
        "amount": _m(payout.amount),
        "status": payout.status,
        "reference": payout.reference,
        "created_at": iso(payout.created_at),
        "paid_at": iso(payout.paid_at),
    }


def viewer_card(user: Any) -> SavedCard | None:
    if user is None or not user.is_authenticated or not user.company_id:
        return None
    return current_card(user.company_id)
