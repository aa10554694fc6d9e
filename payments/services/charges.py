"""The buyer's balance charge and the surplus refund of a settlement: the Stripe steps that
settlement_progress (settlement.py) records, run outside any lock, and their outcomes recorded
under the lot's lock; Stripe's view of a balance charge (webhooks, reconcile, the pay page).

A balance larger than Stripe's maximum for one payment is charged in instalments, one after
the other succeeds. A charge Stripe answers after the buyer was declared in default is
recorded and refunded, or cancelled while it waits for the bank.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Company
from accounts.services import require_verified_company
from core.errors import DomainError, not_found
from payments import stripe_client
from payments.models import LedgerEntry, PaymentProfile, PaymentStep, Settlement
from payments.services.common import (
    current_card,
    ledger_add,
    notify_company,
    provider_unavailable,
    step_record,
    url_or_empty,
)
from payments.services.settlement import _lock_lot_of_settlement, _statement_url, settlement_progress
from payments.services.steps import step_run, steps_run_soon
from payments.stripe_client import Intent, PaymentRefused, ProviderUnavailable, StripeRejected

Status = Settlement.Status
Kind = PaymentStep.Kind

# --- The balance charge ------------------------------------------------------------------------


def run_charge_create(step: PaymentStep) -> None:
    settlement = Settlement.objects.select_related("lot").get(pk=step.settlement_id)
    profile = PaymentProfile.objects.filter(company_id=settlement.buyer_id).exclude(stripe_customer_id="").first()
    if step.attempts > 1 and profile is not None:
        # An earlier call may have reached Stripe although we never heard back: look first,
        # even if the settlement has defaulted since (_apply_charge then gives the money back).
        made = stripe_client.intent_find(customer=profile.stripe_customer_id, step_key=step.key)
        if made is not None:
            _apply_charge(settlement.pk, step.pk, made, None)
            return
    if settlement.status in (Status.DEFAULTED, Status.SETTLED):
        _apply_charge(settlement.pk, step.pk, None, ("not_needed", settlement.status))
        return
    card = current_card(settlement.buyer_id)
    if card is None or profile is None:
        _apply_charge(settlement.pk, step.pk, None, ("card_required", _("No saved card.")))
        return
    try:
        intent, refused = (
            stripe_client.intent_create(
                amount=step.amount,
                customer=profile.stripe_customer_id,
                payment_method=card.stripe_payment_method_id,
                manual_capture=False,
                metadata={"settlement_id": settlement.pk, "lot_id": settlement.lot_id, "attempt": step.attempt},
                key=step.key,
            ),
            None,
        )
    except PaymentRefused as exc:
        intent, refused = exc.payment_intent, (exc.code, exc.message)
    except StripeRejected as exc:
        intent, refused = None, (exc.code, exc.message)
    _apply_charge(settlement.pk, step.pk, intent, refused)


def _apply_charge(
    settlement_id: int, step_id: int | None, intent: Intent | None, refused: tuple[str, str] | None
) -> str:
    ids: list[int] = []
    with transaction.atomic():
        _lock_lot_of_settlement(settlement_id)
        settlement = Settlement.objects.select_for_update().select_related("lot").get(pk=settlement_id)
        step = PaymentStep.objects.select_for_update().get(pk=step_id) if step_id else None
        if step is not None and step.status != PaymentStep.Status.PENDING:
            return "already_recorded"
        # The buyer was declared in default while this charge was on its way to Stripe (an
        # admin's default does not wait for it): record what Stripe did, then undo it.
        defaulted = settlement.status == Status.DEFAULTED
        if refused is not None and refused[0] == "not_needed":
            outcome = "not_needed"
        elif defaulted and intent is not None:
            outcome = _charge_after_default(settlement, intent, ids)
        elif intent is not None and intent.status == "succeeded":
            _record_paid(settlement, intent)
            outcome = "succeeded"
        elif intent is not None and intent.needs_authentication:
            settlement.charge_intent_id, settlement.charge_status = intent.id, "requires_action"
            outcome = "requires_action"
            notify_company(
                settlement.buyer_id,
                kind="settlement_requires_action",
                title=_("Confirm the payment for %(code)s with your bank") % {"code": settlement.lot.code},
                body=_("Pay before %(due)s, or the deposit is forfeited.")
                % {"due": timezone.localtime(settlement.payment_due_at).strftime("%Y-%m-%d %H:%M")},
                url=url_or_empty("payments:settlement_pay", settlement.lot_id),
            )
        elif intent is not None and intent.status == "processing":
            settlement.charge_intent_id, settlement.charge_status = intent.id, "processing"
            outcome = "processing"
        else:
            settlement.charge_intent_id = intent.id if intent is not None else ""
            settlement.charge_status = "failed"
            outcome = "failed"
            reason = refused[1] if refused else (intent.error_message if intent else "")
            notify_company(
                settlement.buyer_id,
                kind="settlement_charge_failed",
                title=_("The payment for %(code)s failed") % {"code": settlement.lot.code},
                body=_("%(reason)s Pay before %(due)s from the statement page, or the deposit is forfeited.")
                % {
                    "reason": reason,
                    "due": timezone.localtime(settlement.payment_due_at).strftime("%Y-%m-%d %H:%M"),
                },
                url=url_or_empty("payments:settlement_pay", settlement.lot_id),
            )
        settlement.save()
        if step is not None:
            step.status, step.outcome, step.done_at = PaymentStep.Status.DONE, outcome, timezone.now()
            step.result_id = intent.id if intent is not None else ""
            step.save(update_fields=["status", "outcome", "done_at", "result_id"])
        ids += settlement_progress(settlement)
    transaction.on_commit(lambda: steps_run_soon(ids))
    return outcome


def _record_paid(settlement: Settlement, intent: Intent) -> None:
    """A balance PaymentIntent that succeeded: counted once, whoever reports it first."""
    key = f"charge:{intent.id}"
    if not LedgerEntry.objects.filter(key=key).exists():
        settlement.balance_paid += intent.amount
        ledger_add(
            key=key,
            kind=LedgerEntry.Kind.CHARGE,
            lot_id=settlement.lot_id,
            company_id=settlement.buyer_id,
            amount=intent.amount,
            stripe_id=intent.id,
        )
    settlement.charge_intent_id, settlement.charge_status = intent.id, "succeeded"


def _charge_after_default(settlement: Settlement, intent: Intent, ids: list[int]) -> str:
    """A charge that Stripe answered after the settlement defaulted (the caller holds its
    lock): money taken is recorded and refunded, a charge waiting for the buyer's bank is
    cancelled, and the buyer is not asked to pay."""
    settlement.charge_intent_id = intent.id
    if intent.status == "succeeded":
        _record_paid(settlement, intent)
        step = step_record(
            kind=Kind.REFUND_CREATE,
            key=f"settlement-default-refund-{settlement.pk}-{intent.id}",  # as settlement_default's
            settlement=settlement,
            amount=intent.amount,
            payment_intent_id=intent.id,
        )
        ids.append(step.pk)
        notify_company(
            settlement.buyer_id,
            kind="settlement_charge_refunded",
            title=_("¥%(amount)s charged for %(code)s after your default is refunded")
            % {"amount": f"{intent.amount:,.2f}", "code": settlement.lot.code},
            body=_("The payment reached us after the deadline was declared missed; it goes back to your card."),
            url=_statement_url(settlement.lot_id),
        )
        return "refunded_after_default"
    if intent.status == "processing":  # cannot be cancelled: its outcome comes back through charge_sync
        settlement.charge_status = "processing"
        return "processing"
    settlement.charge_status = "requires_action" if intent.needs_authentication else "failed"
    if intent.status != "canceled":
        step = step_record(
            kind=Kind.CHARGE_CANCEL,
            key=f"settlement-charge-cancel-{settlement.pk}-{intent.id}",
            settlement=settlement,
            attempt=settlement.charge_attempt,
            payment_intent_id=intent.id,
        )
        ids.append(step.pk)
    return "cancelled_after_default"


def charge_sync(intent: Intent) -> str:
    """A balance PaymentIntent as Stripe now sees it (webhook, reconcile, the browser's return)."""
    settlement = Settlement.objects.filter(charge_intent_id=intent.id).first()
    if settlement is None:
        # Stripe made it but our outcome is not recorded yet: its metadata names our step.
        sid, attempt = intent.metadata.get("settlement_id"), intent.metadata.get("attempt")
        step = PaymentStep.objects.filter(
            key=f"settlement-charge-{sid}-v{attempt}", status=PaymentStep.Status.PENDING
        ).first()
        if step is None or intent.status not in ("succeeded", "requires_action", "requires_payment_method"):
            return "unknown"
        return _apply_charge(step.settlement_id, step.pk, intent, None)
    if intent.status == "succeeded" and settlement.charge_status != "succeeded":
        return _apply_charge(settlement.pk, None, intent, None)
    if intent.status == "canceled" and settlement.charge_status not in ("succeeded", "canceled"):
        with transaction.atomic():
            _lock_lot_of_settlement(settlement.pk)
            Settlement.objects.select_for_update().filter(pk=settlement.pk).update(charge_status="canceled")
        return "canceled"
    if (
        intent.status == "requires_payment_method"
        and not intent.needs_authentication
        and settlement.charge_status in ("requires_action", "pending", "processing")
    ):
        return _apply_charge(settlement.pk, None, intent, (intent.error_code or "failed", intent.error_message))
    return "unchanged"


def run_charge_cancel(step: PaymentStep) -> None:
    pi = step.payment_intent_id
    intent = stripe_client.intent_retrieve(pi)
    if intent.status in ("requires_action", "requires_payment_method", "requires_confirmation", "requires_capture"):
        try:
            intent = stripe_client.intent_cancel(pi, key=step.key)
        except (StripeRejected, PaymentRefused):
            intent = stripe_client.intent_retrieve(pi)
    with transaction.atomic():
        _lock_lot_of_settlement(step.settlement_id)
        settlement = Settlement.objects.select_for_update().get(pk=step.settlement_id)
        step = PaymentStep.objects.select_for_update().get(pk=step.pk)
        if step.status != PaymentStep.Status.PENDING:
            return
        if intent.status == "canceled" and settlement.charge_intent_id == pi:
            settlement.charge_status = "canceled"
            settlement.save(update_fields=["charge_status", "updated_at"])
        step.status = PaymentStep.Status.DONE if intent.status == "canceled" else PaymentStep.Status.FAILED
        step.outcome, step.done_at = intent.status, timezone.now()
        step.save(update_fields=["status", "outcome", "done_at"])


def settlement_pay(*, actor: Any, lot_id: int) -> tuple[Settlement, str, str]:
    """The buyer pays what is outstanding: re-read a charge waiting for the bank's
    authentication (the page calls this again after confirming it), or try the saved card
    again after a failure. Returns the settlement, and the client secret and payment method
    when the browser still has to confirm."""
    company = require_verified_company(actor, role=Company.Role.PROCESSOR)
    settlement = Settlement.objects.filter(lot_id=lot_id, buyer=company).exclude(status=Status.DEFAULTED).first()
    if settlement is None:
        raise not_found(_("No such settlement."))
    try:
        if settlement.charge_status == "requires_action" and settlement.charge_intent_id:
            intent = stripe_client.intent_retrieve(settlement.charge_intent_id)
            charge_sync(intent)
            settlement.refresh_from_db()
            if settlement.charge_status == "requires_action":
                card = current_card(company)
                return (
                    settlement,
                    intent.client_secret,
                    intent.payment_method or (card.stripe_payment_method_id if card else ""),
                )
        elif settlement.status == Status.AWAITING_PAYMENT and settlement.charge_status in ("failed", "canceled"):
            with transaction.atomic():
                _lock_lot_of_settlement(settlement.pk)
                settlement = Settlement.objects.select_for_update().get(pk=settlement.pk)
                if settlement.charge_status in ("failed", "canceled"):
                    settlement.charge_status = ""
                    ids = settlement_progress(settlement)
                else:
                    ids = []
            for step_id in ids:
                step_run(step_id, force=True)
            settlement.refresh_from_db()
            if settlement.charge_status == "requires_action":
                return settlement_pay(actor=actor, lot_id=lot_id)
    except ProviderUnavailable:
        raise provider_unavailable() from None
    except StripeRejected as exc:
        raise DomainError("payment_provider_error", exc.message, status=409) from None
    return settlement, "", ""


# --- The surplus refund ----------------------------------------------------------------------


def run_refund_create(step: PaymentStep) -> None:
    pi = step.payment_intent_id
    found = stripe_client.refund_find(payment_intent=pi, step_key=step.key)
    if found is None:
        refund_id, _status = stripe_client.refund_create(
            payment_intent=pi,
            amount=step.amount,
            metadata={"step": step.key, "settlement_id": step.settlement_id},
            key=step.key,
        )
        amount = step.amount
    else:
        refund_id, amount = found
    ids: list[int] = []
    with transaction.atomic():
        _lock_lot_of_settlement(step.settlement_id)
        settlement = Settlement.objects.select_for_update().select_related("lot").get(pk=step.settlement_id)
        step = PaymentStep.objects.select_for_update().get(pk=step.pk)
        if step.status != PaymentStep.Status.PENDING:
            return
        key = f"refund:{refund_id}"
        if not LedgerEntry.objects.filter(key=key).exists():
            settlement.refunded += amount
            ledger_add(
                key=key,
                kind=LedgerEntry.Kind.REFUND,
                lot_id=settlement.lot_id,
                company_id=settlement.buyer_id,
                amount=amount,
                stripe_id=refund_id,
            )
        settlement.save()
        step.status, step.outcome, step.result_id, step.done_at = (
            PaymentStep.Status.DONE,
            "refunded",
            refund_id,
            timezone.now(),
        )
        step.save(update_fields=["status", "outcome", "result_id", "done_at"])
        ids = settlement_progress(settlement)
    transaction.on_commit(lambda: steps_run_soon(ids))
