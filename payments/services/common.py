"""Rules, errors and small writes shared by the payments services.

Locks are always taken in this order: lot (recycling.services.lock_lot) → settlement →
deposit hold → payment step. No Stripe call is made while any of them is held.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from accounts.models import Company, User
from core.errors import DomainError
from core.services import notify
from payments.models import DepositHold, LedgerEntry, LotPaymentTerms, PaymentStep, SavedCard, Settlement
from recycling.models import Lot

CENT = Decimal("0.01")
ZERO_MONEY = Decimal("0.00")
# Card authorisations lapse after about seven days (Stripe, most card networks).
HOLD_VALID = dt.timedelta(days=7)
# So registration opens at most five days before the end: a fresh hold outlives the lot by
# two days, enough for the close's capture.
REGISTRATION_OPENS_BEFORE_END = dt.timedelta(days=5)
# A hold expiring before ends_at + RENEW_MARGIN is renewed from the saved card by the clock;
# one expiring before ends_at + BID_MARGIN no longer admits bids (soft close, reschedule).
RENEW_MARGIN = dt.timedelta(days=1)
BID_MARGIN = dt.timedelta(hours=1)
# Strikes: this many active strikes within the window → a bidding ban of BAN_LENGTH.
STRIKES_FOR_BAN = 2
STRIKE_WINDOW = dt.timedelta(days=365)
BAN_LENGTH = dt.timedelta(days=90)

OPEN_FOR_DEPOSITS = (Lot.Status.SCHEDULED, Lot.Status.LIVE)
CLOSED_LOT = (Lot.Status.AWARDED, Lot.Status.UNSOLD, Lot.Status.WITHDRAWN)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def provider_unavailable() -> DomainError:
    return DomainError(
        "payment_provider_unavailable",
        _(
            "The payment provider cannot be reached right now. Nothing was charged; the step is "
            "recorded and will be retried automatically — you will be notified."
        ),
        status=409,
    )


def payment_days(lot: Lot) -> int:
    terms = LotPaymentTerms.objects.filter(lot=lot).first()
    if terms is not None and terms.payment_days is not None:
        return terms.payment_days
    return settings.PAYMENT_DAYS


def registration_opens_at(lot: Lot) -> dt.datetime:
    return max(lot.ends_at - REGISTRATION_OPENS_BEFORE_END, lot.published_at or lot.starts_at)


def current_card(company: Company | int) -> SavedCard | None:
    company_id = company if isinstance(company, int) else company.pk
    return (
        SavedCard.objects.filter(company_id=company_id, removed_at__isnull=True).order_by("-created_at", "-id").first()
    )


def ledger_add(
    *, key: str, kind: str, lot_id: int, company_id: int, amount: Decimal, stripe_id: str = "", note: str = ""
) -> LedgerEntry | None:
    """One ledger row per `key`, ever: a repeated outcome (a retry, a webhook after our own
    record) finds the row already there."""
    if amount is None or amount <= 0:
        return None
    entry, _created = LedgerEntry.objects.get_or_create(
        key=key,
        defaults={
            "kind": kind,
            "lot_id": lot_id,
            "company_id": company_id,
            "amount": amount,
            "stripe_id": stripe_id,
            "note": note[:200],
        },
    )
    return entry


def step_record(
    *,
    kind: str,
    key: str,
    hold: DepositHold | None = None,
    settlement: Settlement | None = None,
    amount: Decimal | None = None,
    attempt: int = 1,
    payment_intent_id: str = "",
) -> PaymentStep:
    """Record the intent to make one Stripe call (its idempotency key is `key`); a second
    record of the same key is the first one."""
    step, _created = PaymentStep.objects.get_or_create(
        key=key,
        defaults={
            "kind": kind,
            "hold": hold,
            "settlement": settlement,
            "amount": amount,
            "attempt": attempt,
            "payment_intent_id": payment_intent_id,
        },
    )
    return step


def url_or_empty(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def notify_company(company_id: int, *, kind: str, title: Any, body: Any = "", url: str = "") -> None:
    notify(users=User.objects.filter(company_id=company_id), kind=kind, title=title, body=body, url=url)


def notify_admins(*, kind: str, title: Any, body: Any = "", url: str = "") -> None:
    admins = [user for user in User.objects.filter(is_active=True, company__isnull=True) if user.is_cooperative_admin]
    if admins:
        notify(users=admins, kind=kind, title=title, body=body, url=url, email=False)
