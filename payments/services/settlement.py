"""Settlement on the weighed quantity (多退少补) and payouts to sellers.

gross = unit price × net quantity; the buyer owes gross + buyer fee (BUYER_FEE_RATE); the
captured deposit counts towards it. More owed → the balance is charged to the buyer's saved
card (or paid on a page when the bank asks for authentication); less → the surplus is
refunded from the deposit. settlement_progress records those Stripe steps; charges.py runs
them and records their outcomes. The seller's net (gross − seller fee) becomes a payout due, which
a cooperative admin marks paid (payout_mark_paid: the one payout step).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import require_cooperative_admin
from core.errors import conflict, invalid, not_found
from core.services import audit_record
from payments import stripe_client
from payments.models import DepositHold, LedgerEntry, LotPaymentTerms, PaymentStep, Payout, Settlement
from payments.services.common import (
    ZERO_MONEY,
    ledger_add,
    money,
    notify_company,
    payment_days,
    step_record,
    url_or_empty,
)
from payments.services.steps import steps_run_soon
from recycling.models import Lot
from recycling.services import check_deposit_limit, lock_lot

Status = Settlement.Status
MAX_SETTLED = Decimal("1e12")  # the settlement's money columns: 14 digits, 2 places
Kind = PaymentStep.Kind


def _statement_url(lot_id: int) -> str:
    return url_or_empty("payments:statement", lot_id)


def _lock_lot_of_settlement(settlement_id: int) -> None:
    """Locks in one order everywhere: lot → settlement → hold → step (see holds.py)."""
    lock_lot(Settlement.objects.values_list("lot_id", flat=True).get(pk=settlement_id))


def settlement_ensure(*, lot: Lot) -> Settlement:
    """The open settlement of an awarded lot (created at the close); the caller holds the lot's
    lock."""
    settlement = Settlement.objects.select_for_update().filter(lot=lot).exclude(status=Status.DEFAULTED).first()
    if settlement is not None:
        return settlement
    existing = Settlement.objects.filter(lot=lot, buyer_id=lot.winner_id).first()
    if existing is not None:
        return existing
    hold = DepositHold.objects.filter(lot=lot, company_id=lot.winner_id).first()
    awarded_at = lot.closed_at or timezone.now()
    return Settlement.objects.create(
        lot=lot,
        buyer_id=lot.winner_id,
        seller_id=lot.seller_id,
        hold=hold
        if hold is not None and hold.status in (DepositHold.Status.HELD, DepositHold.Status.CAPTURED)
        else None,
        unit_price=lot.final_price,
        buyer_fee_rate=settings.BUYER_FEE_RATE,
        seller_fee_rate=settings.SELLER_FEE_RATE,
        payment_due_at=awarded_at + dt.timedelta(days=payment_days(lot)),
    )


def _net_quantity(value: Any) -> Decimal:
    try:
        net = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise invalid(
            "invalid_quantity", _("The net weight must be a number."), net_quantity=_("Not a number.")
        ) from None
    # The range first: quantize() raises on a number too large for its context ("1e30").
    if not net.is_finite() or net <= 0 or net >= Decimal("1e9") or net != net.quantize(Decimal("0.001")):
        raise invalid(
            "invalid_quantity",
            _("The net weight must be positive, with at most three decimals."),
            net_quantity=_("Invalid quantity."),
        )
    return net


def settlement_record_weight(*, actor: Any | None, lot_id: int, net_quantity: Any, reference: str = "") -> Settlement:
    """Record the weighbridge's net quantity of an awarded lot (in the lot's unit) and settle.

    Called by a cooperative admin (until the logistics weighing exists) or, with actor None, by
    the logistics service after its own checks. Recorded once (409 weight_already_recorded)."""
    if actor is not None:
        require_cooperative_admin(actor)
    net = _net_quantity(net_quantity)
    with transaction.atomic():
        lot = lock_lot(lot_id)
        if lot.status != Lot.Status.AWARDED or lot.winner_id is None:
            raise conflict("not_awarded", _("Only an awarded lot is settled."))
        settlement = settlement_ensure(lot=lot)
        if settlement.status == Status.DEFAULTED:
            raise conflict("bad_transition", _("The buyer defaulted: re-offer or re-list the lot first."))
        if settlement.weight_recorded_at is not None:
            raise conflict("weight_already_recorded", _("The weight of this lot is already recorded."))
        now = timezone.now()
        gross = money(settlement.unit_price * net)
        if gross * (1 + max(settlement.buyer_fee_rate, settlement.seller_fee_rate)) >= MAX_SETTLED:
            raise invalid(
                "invalid_quantity",
                _("%(net)s at ¥%(price)s comes to more than the platform settles: check the weight and its unit.")
                % {"net": f"{net:,}", "price": f"{settlement.unit_price:,.2f}"},
                net_quantity=_("Too large."),
            )
        settlement.net_quantity, settlement.weighing_ref = net, (reference or "").strip()[:64]
        settlement.gross = gross
        settlement.buyer_fee = money(gross * settlement.buyer_fee_rate)
        settlement.seller_fee = money(gross * settlement.seller_fee_rate)
        settlement.seller_net = gross - settlement.seller_fee
        settlement.weight_recorded_at = now
        settlement.weight_recorded_by = actor if actor is not None and actor.is_authenticated else None
        # The balance is due `payment_days` after the award, and never sooner than that after
        # the weighing: nobody can pay an amount before it is known.
        settlement.payment_due_at = max(settlement.payment_due_at, now + dt.timedelta(days=payment_days(lot)))
        settlement.save()
        ids = settlement_progress(settlement)
        audit_record(
            actor=actor,
            action="payments.weight_recorded",
            target_type="lot",
            target_id=lot.pk,
            target_label=lot.code or "",
            after={
                "net_quantity": f"{net}",
                "gross": f"{gross:.2f}",
                "total": f"{settlement.total_due:.2f}",
                "reference": settlement.weighing_ref,
            },
        )
    transaction.on_commit(lambda: steps_run_soon(ids))
    return settlement


def settlement_progress(settlement: Settlement) -> list[int]:
    """Move a settlement on from what is known (the caller holds its lock): work out the
    balance or the refund, record the Stripe step that is missing, or close the books. Returns
    the steps to run after commit."""
    if settlement.status in (Status.DEFAULTED, Status.SETTLED) or settlement.gross is None:
        return []
    hold = DepositHold.objects.select_for_update().filter(pk=settlement.hold_id).first()
    if hold is not None and hold.status == DepositHold.Status.HELD:
        # The deposit's capture is still on its way: the rest waits for its outcome.
        settlement.status = Status.AWAITING_PAYMENT
        settlement.save(update_fields=["status", "updated_at"])
        return []
    captured = hold.captured_amount if hold is not None and hold.status == DepositHold.Status.CAPTURED else ZERO_MONEY
    total = settlement.total_due
    settlement.deposit_captured = captured
    settlement.balance_due = max(total - captured, ZERO_MONEY)
    settlement.refund_due = max(captured - total, ZERO_MONEY)
    in_flight = settlement.steps.filter(
        status=PaymentStep.Status.PENDING, kind__in=(Kind.CHARGE_CREATE, Kind.REFUND_CREATE)
    ).exists()
    ids: list[int] = []
    to_charge = settlement.balance_due - settlement.balance_paid
    to_refund = settlement.refund_due - settlement.refunded
    if to_charge > 0:
        settlement.status = Status.AWAITING_PAYMENT
        # A charge that succeeded with more still to pay was an instalment: Stripe takes at most
        # MAX_AMOUNT in one payment, so a larger balance is charged in several.
        if not in_flight and settlement.charge_status in ("", "canceled", "succeeded"):
            settlement.charge_attempt += 1
            settlement.charge_status = "pending"
            ids.append(
                step_record(
                    kind=Kind.CHARGE_CREATE,
                    key=f"settlement-charge-{settlement.pk}-v{settlement.charge_attempt}",
                    settlement=settlement,
                    amount=min(to_charge, stripe_client.MAX_AMOUNT),
                    attempt=settlement.charge_attempt,
                ).pk
            )
    elif to_refund > 0:
        settlement.status = Status.REFUND_PENDING
        if not in_flight:
            number = settlement.steps.filter(kind=Kind.REFUND_CREATE).count() + 1
            ids.append(
                step_record(
                    kind=Kind.REFUND_CREATE,
                    key=f"settlement-refund-{settlement.pk}-{number}",
                    settlement=settlement,
                    hold=hold,
                    amount=to_refund,
                    payment_intent_id=hold.stripe_payment_intent_id,
                ).pk
            )
    elif not in_flight:
        settlement.status, settlement.settled_at = Status.SETTLED, timezone.now()
        _close_books(settlement)
    settlement.save()
    return ids


def _close_books(settlement: Settlement) -> None:
    lot_id = settlement.lot_id
    ledger_add(
        key=f"buyer-fee:{settlement.pk}",
        kind=LedgerEntry.Kind.BUYER_FEE,
        lot_id=lot_id,
        company_id=settlement.buyer_id,
        amount=settlement.buyer_fee,
    )
    ledger_add(
        key=f"seller-fee:{settlement.pk}",
        kind=LedgerEntry.Kind.SELLER_FEE,
        lot_id=lot_id,
        company_id=settlement.seller_id,
        amount=settlement.seller_fee,
    )
    payout_due(settlement=settlement, kind=Payout.Kind.SALE, amount=settlement.seller_net)
    url = _statement_url(lot_id)
    lot = settlement.lot
    notify_company(
        settlement.buyer_id,
        kind="settlement_settled",
        title=_("%(code)s is settled") % {"code": lot.code},
        body=_("Total ¥%(total)s for %(qty)s %(unit)s.")
        % {"total": f"{settlement.total_due:,.2f}", "qty": settlement.net_quantity, "unit": lot.get_unit_display()},
        url=url,
    )
    notify_company(
        settlement.seller_id,
        kind="settlement_settled",
        title=_("%(code)s is settled: ¥%(net)s is due to you")
        % {"code": lot.code, "net": f"{settlement.seller_net:,.2f}"},
        url=url,
    )


def payout_due(*, settlement: Settlement, kind: str, amount: Decimal) -> Payout | None:
    if amount is None or amount <= 0:
        return None
    payout, _created = Payout.objects.get_or_create(
        settlement=settlement,
        kind=kind,
        defaults={"company_id": settlement.seller_id, "lot_id": settlement.lot_id, "amount": amount},
    )
    ledger_add(
        key=f"payout-due:{payout.pk}",
        kind=LedgerEntry.Kind.PAYOUT_DUE,
        lot_id=settlement.lot_id,
        company_id=settlement.seller_id,
        amount=payout.amount,
        note=kind,
    )
    return payout


@transaction.atomic
def payout_mark_paid(*, actor: Any, payout_id: int, reference: str) -> Payout:
    """The one payout step: a cooperative admin records the bank transfer to the seller."""
    require_cooperative_admin(actor)
    reference = (reference or "").strip()
    if not reference:
        raise invalid("reference_required", _("Give the bank transfer's reference."), reference=_("Required."))
    payout = Payout.objects.select_for_update().select_related("lot", "company").filter(pk=payout_id).first()
    if payout is None:
        raise not_found(_("No such payout."))
    if payout.status != Payout.Status.DUE:
        raise conflict("already_paid", _("This payout is already marked paid."))
    payout.status, payout.paid_at, payout.paid_by, payout.reference = (
        Payout.Status.PAID,
        timezone.now(),
        actor,
        reference,
    )
    payout.save(update_fields=["status", "paid_at", "paid_by", "reference"])
    ledger_add(
        key=f"payout-paid:{payout.pk}",
        kind=LedgerEntry.Kind.PAYOUT_PAID,
        lot_id=payout.lot_id,
        company_id=payout.company_id,
        amount=payout.amount,
        note=reference,
    )
    audit_record(
        actor=actor,
        action="payments.payout_paid",
        target_type="payout",
        target_id=payout.pk,
        target_label=f"{payout.lot.code} · {payout.company.name}",
        before={"status": "due"},
        after={"status": "paid", "amount": f"{payout.amount:.2f}", "reference": reference},
    )
    notify_company(
        payout.company_id,
        kind="payout_paid",
        title=_("¥%(amount)s for %(code)s was transferred to you")
        % {"amount": f"{payout.amount:,.2f}", "code": payout.lot.code},
        body=_("Reference: %(ref)s") % {"ref": reference},
        url=_statement_url(payout.lot_id),
    )
    return payout


# --- Terms ----------------------------------------------------------------------------------------


@transaction.atomic
def lot_payment_terms_set(
    *, actor: Any, lot_id: int, deposit: Decimal | None = None, payment_days: int | None = None
) -> Lot:
    """A cooperative admin adjusts a lot's deposit (only while nobody holds one for it) and its
    payment deadline (days after the award)."""
    require_cooperative_admin(actor)
    lot = lock_lot(lot_id)
    if lot.status in (Lot.Status.AWARDED, Lot.Status.UNSOLD, Lot.Status.WITHDRAWN):
        raise conflict("bad_transition", _("The terms of a closed lot cannot change."))
    before = {"deposit": f"{lot.deposit:.2f}"}
    if deposit is not None:
        if deposit < 0 or deposit != deposit.quantize(Decimal("0.01")):
            raise invalid(
                "invalid_price", _("The deposit must be ≥ 0, in yuan with two decimals."), deposit=_("Invalid.")
            )
        check_deposit_limit(deposit)
        if deposit != lot.deposit and DepositHold.objects.filter(lot=lot, status__in=DepositHold.OPEN).exists():
            raise conflict("deposit_locked", _("Bidders already registered: the deposit can no longer change."))
        lot.deposit = deposit
        lot.save(update_fields=["deposit", "updated_at"])
    if payment_days is not None:
        if not 1 <= payment_days <= 60:
            raise invalid("validation_error", _("Between 1 and 60 days."), payment_days=_("Out of range."))
        LotPaymentTerms.objects.update_or_create(lot=lot, defaults={"payment_days": payment_days})
    audit_record(
        actor=actor,
        action="payments.terms",
        target_type="lot",
        target_id=lot.pk,
        target_label=lot.code or "",
        before=before,
        after={"deposit": f"{lot.deposit:.2f}", "payment_days": payment_days},
    )
    return lot
