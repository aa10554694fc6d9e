"""Deposit holds (保证金): registration, the bidding gate, renewal, and release or capture at
the close.

A hold is a manual-capture PaymentIntent on the company's saved card, created server-side
(confirm=true, off_session=true). Each Stripe call is a recorded PaymentStep; the outcome of
a step, of a webhook and of reconcile_payments goes through the same `_apply_*` functions,
under the hold's row lock, so whichever arrives first records it and the others find it done.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Company
from accounts.services import require_verified_company
from core.errors import DomainError, conflict, forbidden, not_found
from core.services import audit_record
from payments import stripe_client
from payments.models import DepositHold, LedgerEntry, PaymentProfile, PaymentStep, Settlement
from payments.services.common import (
    BID_MARGIN,
    CLOSED_LOT,
    HOLD_VALID,
    OPEN_FOR_DEPOSITS,
    RENEW_MARGIN,
    current_card,
    ledger_add,
    notify_admins,
    notify_company,
    provider_unavailable,
    registration_opens_at,
    step_record,
    url_or_empty,
)
from payments.services.steps import step_run, steps_run_soon
from payments.services.strikes import bidding_ban_check
from payments.stripe_client import Intent, PaymentRefused, ProviderUnavailable, StripeRejected
from recycling.models import Lot
from recycling.services import lock_lot

log = logging.getLogger("payments.holds")
Status = DepositHold.Status
Kind = PaymentStep.Kind


def _lot_url(lot_id: int) -> str:
    return url_or_empty("recycling:lot_detail", lot_id)


def _hold_key(hold: DepositHold, attempt: int) -> str:
    return f"deposit-hold-{hold.pk}-v{attempt}"


def _release_key(hold: DepositHold, attempt: int) -> str:
    return f"deposit-release-{hold.pk}-v{attempt}"


def _capture_key(hold: DepositHold, attempt: int) -> str:
    return f"deposit-capture-{hold.pk}-v{attempt}"


def _lock_lot_of_hold(hold_id: int) -> None:
    """Every outcome takes the lot's lock first (lot → settlement → hold → step): its ledger
    rows reference the lot, and a close or a registration holding the lot while waiting for
    the hold would otherwise deadlock with it."""
    lock_lot(DepositHold.objects.values_list("lot_id", flat=True).get(pk=hold_id))


# --- The gate ---------------------------------------------------------------------------------


def hold_admits_bids(hold: DepositHold | None, lot: Lot) -> bool:
    return bool(
        hold is not None
        and hold.status == Status.HELD
        and hold.amount >= lot.deposit
        and hold.expires_at is not None
        and hold.expires_at > lot.ends_at + BID_MARGIN
    )


def deposit_hold_check(*, company: Company, lot: Lot) -> None:
    """Called by auctions.services.bid_place under the lot's lock (hold writes take that lock
    first): 403 `deposit_required` unless the lot needs no deposit or the company's hold is
    authorised (requires_capture) and outlives the lot's end."""
    if lot.deposit == 0:
        return
    hold = DepositHold.objects.filter(lot_id=lot.pk, company_id=company.pk).first()
    if hold_admits_bids(hold, lot):
        return
    if hold is not None and hold.status == Status.REQUIRES_ACTION:
        detail = _("Your bank asks you to confirm the deposit hold first: open the lot page and confirm it.")
    elif hold is not None and hold.status == Status.HELD:
        detail = _("Your deposit hold expires before this auction ends; it is being renewed from your saved card.")
    else:
        detail = _("A deposit of ¥%(amount)s must be held on your card before you bid: register for this lot.") % {
            "amount": f"{lot.deposit:,.2f}"
        }
    raise forbidden("deposit_required", detail)


# --- Registration -------------------------------------------------------------------------------


def deposit_register(*, actor: Any, lot_id: int) -> DepositHold:
    """Register the actor's processor company for a lot: place (or return) its deposit hold.

    One hold per (lot, company). A hold that failed or was released is tried again as a new
    attempt; a hold waiting for the bank's authentication is re-read from Stripe (the browser
    calls this again after confirming)."""
    from recycling.selectors import lots_visible_to

    company = require_verified_company(actor, role=Company.Role.PROCESSOR)
    bidding_ban_check(company)
    if not lots_visible_to(actor).filter(pk=lot_id, status__in=Lot.PUBLISHED).exists():
        raise not_found(_("No such lot."))
    refresh, step = "", None
    with transaction.atomic():
        lot = lock_lot(lot_id)
        now = timezone.now()
        if lot.seller_id == company.pk:
            raise conflict("own_lot", _("You cannot register for your own lot."))
        if lot.deposit == 0:
            raise conflict("deposit_not_required", _("This lot needs no deposit: you may bid directly."))
        hold = DepositHold.objects.select_for_update().filter(lot=lot, company=company).first()
        if hold is not None and hold.status in (Status.HELD, Status.CAPTURED, Status.FORFEITED):
            return hold
        if lot.status not in OPEN_FOR_DEPOSITS or now >= lot.ends_at:
            raise conflict("registration_closed", _("Registration for this lot is closed."))
        opens = registration_opens_at(lot)
        if now < opens:
            raise conflict(
                "registration_closed",
                _("Registration opens %(when)s (card holds last about 7 days).")
                % {"when": timezone.localtime(opens).strftime("%Y-%m-%d %H:%M")},
            )
        card = current_card(company)
        if card is None or not PaymentProfile.objects.filter(company=company).exclude(stripe_customer_id="").exists():
            raise conflict("card_required", _("Save a card first: the deposit is held on it."))
        if hold is not None and hold.status == Status.REQUIRES_ACTION:
            refresh = hold.stripe_payment_intent_id
        elif hold is not None and hold.status == Status.PENDING:
            step = PaymentStep.objects.filter(hold=hold, kind=Kind.HOLD_CREATE, status=PaymentStep.Status.PENDING)
            step = step.order_by("-attempt").first()
        else:
            if hold is None:
                hold = DepositHold.objects.create(
                    lot=lot, company=company, created_by=actor, amount=lot.deposit, card=card
                )
            else:
                hold.attempt += 1
                hold.status, hold.amount, hold.card = Status.PENDING, lot.deposit, card
                hold.stripe_payment_intent_id, hold.failure_code, hold.failure_message = "", "", ""
                hold.authorized_at = hold.expires_at = None
                hold.save()
            step = step_record(
                kind=Kind.HOLD_CREATE,
                key=_hold_key(hold, hold.attempt),
                hold=hold,
                amount=hold.amount,
                attempt=hold.attempt,
            )
            audit_record(
                actor=actor,
                action="payments.deposit_register",
                target_type="lot",
                target_id=lot.pk,
                target_label=lot.code or "",
                after={"company": company.pk, "amount": f"{hold.amount:.2f}", "attempt": hold.attempt},
            )
    try:
        if refresh:
            hold_sync(stripe_client.intent_retrieve(refresh))
        elif step is not None:
            step_run(step.pk, force=True)
    except ProviderUnavailable:
        raise provider_unavailable() from None
    hold.refresh_from_db()
    return hold


# --- Placing and renewing (step runner) -------------------------------------------------------


def run_hold_create(step: PaymentStep) -> None:
    hold = DepositHold.objects.select_related("lot", "company").get(pk=step.hold_id)
    lot = hold.lot
    renewal = bool(hold.stripe_payment_intent_id) and step.attempt > hold.attempt
    first = hold.status == Status.PENDING and step.attempt == hold.attempt
    if not (renewal or first):
        _finish(step, outcome="superseded")
        return
    profile = PaymentProfile.objects.filter(company_id=hold.company_id).first()
    if step.attempts > 1 and profile is not None and profile.stripe_customer_id:
        # An earlier call may have reached Stripe although we never heard back: look first.
        made = stripe_client.intent_find(customer=profile.stripe_customer_id, step_key=step.key)
        if made is not None:
            _apply_created(step.hold_id, step.pk, made, None)
            return
    if lot.status not in OPEN_FOR_DEPOSITS or timezone.now() >= lot.ends_at:
        _apply_created(step.hold_id, step.pk, None, ("registration_closed", _("The lot closed first.")))
        return
    card = current_card(hold.company_id) if renewal else hold.card
    if card is None or card.removed_at is not None or profile is None or not profile.stripe_customer_id:
        _apply_created(step.hold_id, step.pk, None, ("card_required", _("No saved card.")))
        return
    refused = None
    try:
        intent = stripe_client.intent_create(
            amount=hold.amount,
            customer=profile.stripe_customer_id,
            payment_method=card.stripe_payment_method_id,
            manual_capture=True,
            metadata={"hold_id": hold.pk, "lot_id": lot.pk, "company_id": hold.company_id, "attempt": step.attempt},
            key=step.key,
        )
    except PaymentRefused as exc:
        intent, refused = exc.payment_intent, (exc.code, exc.message)
    except StripeRejected as exc:
        intent, refused = None, (exc.code, exc.message)
    _apply_created(step.hold_id, step.pk, intent, refused, card_id=card.pk)


def _finish(step: PaymentStep, *, outcome: str, status: str = PaymentStep.Status.DONE, result_id: str = "") -> None:
    PaymentStep.objects.filter(pk=step.pk, status=PaymentStep.Status.PENDING).update(
        status=status, outcome=outcome[:64], result_id=result_id, done_at=timezone.now(), claimed_until=None
    )


def _mark_held(hold: DepositHold, intent: Intent, attempt: int) -> None:
    now = timezone.now()
    hold.status, hold.stripe_payment_intent_id, hold.attempt = Status.HELD, intent.id, attempt
    hold.authorized_at, hold.expires_at = now, now + HOLD_VALID
    hold.failure_code = hold.failure_message = ""
    ledger_add(
        key=f"hold:{intent.id}",
        kind=LedgerEntry.Kind.HOLD,
        lot_id=hold.lot_id,
        company_id=hold.company_id,
        amount=hold.amount,
        stripe_id=intent.id,
    )


def _apply_created(
    hold_id: int,
    step_id: int | None,
    intent: Intent | None,
    refused: tuple[str, str] | None,
    *,
    card_id: int | None = None,
) -> str:
    """The outcome of placing a hold (first attempt or renewal), recorded once."""
    follow: list[int] = []
    with transaction.atomic():
        _lock_lot_of_hold(hold_id)
        hold = DepositHold.objects.select_for_update().select_related("lot").get(pk=hold_id)
        step = PaymentStep.objects.select_for_update().get(pk=step_id) if step_id else None
        if step is not None and step.status != PaymentStep.Status.PENDING:
            return "already_recorded"
        attempt = step.attempt if step is not None else hold.attempt
        renewal = bool(hold.stripe_payment_intent_id) and attempt > hold.attempt
        old_pi, old_attempt = hold.stripe_payment_intent_id, hold.attempt
        lot = hold.lot
        lot_open = lot.status in OPEN_FOR_DEPOSITS
        if renewal and not lot_open:
            # The lot closed while the new hold was being placed: keep the old one (the close
            # captures or releases it) and give the new one back.
            if intent is not None:
                follow.append(
                    step_record(
                        kind=Kind.HOLD_CANCEL,
                        key=_release_key(hold, attempt),
                        hold=hold,
                        amount=hold.amount,
                        attempt=attempt,
                        payment_intent_id=intent.id,
                    ).pk
                )
            outcome = "lot_closed"
        elif intent is not None and intent.status == "requires_capture":
            _mark_held(hold, intent, attempt)
            outcome = "held"
        elif intent is not None and intent.needs_authentication:
            hold.status, hold.stripe_payment_intent_id, hold.attempt = Status.REQUIRES_ACTION, intent.id, attempt
            hold.authorized_at = hold.expires_at = None
            hold.failure_code, hold.failure_message = "authentication_required", ""
            outcome = "requires_action"
        else:
            code, message = refused or (intent.error_code or intent.status, intent.error_message)
            hold.status, hold.attempt = Status.FAILED, attempt
            hold.stripe_payment_intent_id = intent.id if intent is not None else ""
            hold.authorized_at = hold.expires_at = None
            hold.failure_code, hold.failure_message = (code or "failed")[:64], (message or "")[:300]
            outcome = "failed"
        if renewal and lot_open and old_pi:
            follow.append(
                step_record(
                    kind=Kind.HOLD_CANCEL,
                    key=_release_key(hold, old_attempt),
                    hold=hold,
                    amount=hold.amount,
                    attempt=old_attempt,
                    payment_intent_id=old_pi,
                ).pk
            )
        if card_id and outcome != "lot_closed":
            hold.card_id = card_id
        hold.save()
        if step is not None:
            step.status, step.outcome, step.done_at = PaymentStep.Status.DONE, outcome, timezone.now()
            step.result_id = intent.id if intent is not None else ""
            step.save(update_fields=["status", "outcome", "done_at", "result_id"])
        _tell_bidder(hold, outcome, renewal=renewal)
        if outcome != "lot_closed" and lot.status in CLOSED_LOT:
            # Placed while the lot was closing: the close's release covers it too.
            transaction.on_commit(lambda: lot_money_after_close(lot_id=lot.pk))
    transaction.on_commit(lambda: steps_run_soon(follow))
    return outcome


def _tell_bidder(hold: DepositHold, outcome: str, *, renewal: bool) -> None:
    lot = hold.lot
    url = _lot_url(lot.pk)
    if outcome == "requires_action":
        notify_company(
            hold.company_id,
            kind="deposit_requires_action",
            title=_("Confirm the deposit for %(code)s with your bank") % {"code": lot.code},
            body=_("Your bank asks for authentication before the deposit can be held. Until then you cannot bid."),
            url=url_or_empty("payments:deposit_confirm", lot.pk) or url,
        )
    elif outcome == "failed":
        notify_company(
            hold.company_id,
            kind="deposit_failed",
            title=(
                _("Your deposit hold for %(code)s could not be renewed")
                if renewal
                else _("Deposit for %(code)s failed")
            )
            % {"code": lot.code},
            body=_(
                "The card was refused (%(reason)s). You cannot bid until a deposit is held: "
                "save another card and register again."
            )
            % {"reason": hold.failure_message or hold.failure_code},
            url=url,
        )
    elif outcome == "held" and renewal:
        notify_company(
            hold.company_id,
            kind="deposit_renewed",
            title=_("Your deposit hold for %(code)s was renewed") % {"code": lot.code},
            url=url,
            body="",
        )


def holds_renew_due(*, limit: int = 100) -> list[int]:
    """Record a renewal for every held deposit that would lapse before its lot can close."""
    ids: list[int] = []
    candidates = DepositHold.objects.filter(status=Status.HELD, lot__status__in=OPEN_FOR_DEPOSITS).select_related("lot")
    for hold in candidates.order_by("expires_at")[: limit * 5]:
        if hold.expires_at is not None and hold.expires_at > hold.lot.ends_at + RENEW_MARGIN:
            continue
        with transaction.atomic():
            hold = DepositHold.objects.select_for_update().get(pk=hold.pk)
            if hold.status != Status.HELD:
                continue
            step = step_record(
                kind=Kind.HOLD_CREATE,
                key=_hold_key(hold, hold.attempt + 1),
                hold=hold,
                amount=hold.amount,
                attempt=hold.attempt + 1,
            )
        if step.status == PaymentStep.Status.PENDING:
            ids.append(step.pk)
        if len(ids) >= limit:
            break
    return ids


# --- Release and capture --------------------------------------------------------------------


def lot_money_schedule(*, lot_id: int) -> list[int]:
    """After a lot closed (awarded, unsold) or was withdrawn: record a release for every
    loser's hold and a capture of the winner's, and open the winner's settlement. Idempotent:
    the steps' keys are unique, so a second call records nothing new."""
    from payments.services.settlement import settlement_ensure

    ids: list[int] = []
    with transaction.atomic():
        lot = lock_lot(lot_id)
        if lot.status not in CLOSED_LOT:
            return []
        settlement = settlement_ensure(lot=lot) if lot.status == Lot.Status.AWARDED else None
        holds = DepositHold.objects.select_for_update().filter(lot=lot, status__in=DepositHold.OPEN).order_by("pk")
        for hold in holds:
            if not hold.stripe_payment_intent_id:
                continue  # never reached Stripe: its own step finds the lot closed
            winner = settlement is not None and hold.company_id == settlement.buyer_id and hold.status == Status.HELD
            if winner:
                step = step_record(
                    kind=Kind.HOLD_CAPTURE,
                    key=_capture_key(hold, hold.attempt),
                    hold=hold,
                    settlement=settlement,
                    amount=hold.amount,
                    attempt=hold.attempt,
                    payment_intent_id=hold.stripe_payment_intent_id,
                )
                if settlement.hold_id is None:
                    Settlement.objects.filter(pk=settlement.pk).update(hold=hold)
            else:
                step = step_record(
                    kind=Kind.HOLD_CANCEL,
                    key=_release_key(hold, hold.attempt),
                    hold=hold,
                    amount=hold.amount,
                    attempt=hold.attempt,
                    payment_intent_id=hold.stripe_payment_intent_id,
                )
            if step.status == PaymentStep.Status.PENDING:
                ids.append(step.pk)
    # Releases first: a loser's money comes back before anything else is tried.
    kinds = dict(PaymentStep.objects.filter(pk__in=ids).values_list("pk", "kind"))
    return sorted(ids, key=lambda pk: (kinds[pk] != Kind.HOLD_CANCEL, pk))


def lot_money_after_close(*, lot_id: int) -> None:
    """The after-commit hook of auctions.services.lot_close and recycling.services.lot_withdraw.
    Records the money steps and starts them; never raises into the close."""
    try:
        steps_run_soon(lot_money_schedule(lot_id=lot_id))
    except Exception:
        log.exception("scheduling the money steps of lot %s failed; the clock repairs it", lot_id)


def run_hold_cancel(step: PaymentStep) -> None:
    pi = step.payment_intent_id
    intent = stripe_client.intent_retrieve(pi)
    if intent.status in ("requires_capture", "requires_action", "requires_payment_method", "requires_confirmation"):
        try:
            intent = stripe_client.intent_cancel(pi, key=step.key)
        except (StripeRejected, PaymentRefused):
            intent = stripe_client.intent_retrieve(pi)
    _apply_cancelled(step.hold_id, step.pk, intent)


def _apply_cancelled(hold_id: int, step_id: int | None, intent: Intent) -> str:
    with transaction.atomic():
        _lock_lot_of_hold(hold_id)
        hold = DepositHold.objects.select_for_update().select_related("lot").get(pk=hold_id)
        step = PaymentStep.objects.select_for_update().get(pk=step_id) if step_id else None
        if step is not None and step.status != PaymentStep.Status.PENDING:
            return "already_recorded"
        if intent.status == "canceled":
            if LedgerEntry.objects.filter(key=f"hold:{intent.id}").exists():
                ledger_add(
                    key=f"release:{intent.id}",
                    kind=LedgerEntry.Kind.RELEASE,
                    lot_id=hold.lot_id,
                    company_id=hold.company_id,
                    amount=hold.amount,
                    stripe_id=intent.id,
                )
            lapsed = step is None and hold.status in DepositHold.OPEN and hold.stripe_payment_intent_id == intent.id
            if hold.stripe_payment_intent_id == intent.id and hold.status in DepositHold.OPEN:
                hold.status = Status.RELEASED
                hold.save(update_fields=["status", "updated_at"])
            if lapsed and hold.lot.status in OPEN_FOR_DEPOSITS:
                notify_company(
                    hold.company_id,
                    kind="deposit_lapsed",
                    title=_("Your deposit hold for %(code)s lapsed") % {"code": hold.lot.code},
                    body=_("Register again to keep bidding."),
                    url=_lot_url(hold.lot_id),
                )
            outcome = "released"
            if step is not None:
                _finish(step, outcome=outcome, result_id=intent.id)
        else:
            outcome = f"not_cancelled:{intent.status}"
            if step is not None:
                _finish(step, outcome=outcome, status=PaymentStep.Status.FAILED, result_id=intent.id)
                notify_admins(
                    kind="payment_step_failed",
                    title=_("A deposit release failed: %(key)s (%(status)s)")
                    % {"key": step.key, "status": intent.status},
                )
    return outcome


def _capture_amount(step: PaymentStep, hold: DepositHold) -> Decimal:
    """The whole deposit, or less when the weighed total is already known and smaller (a
    partial capture; Stripe releases the rest of the authorisation)."""
    amount = hold.amount
    if step.settlement_id:
        total = Settlement.objects.get(pk=step.settlement_id).total_due
        if total is not None and 0 < total < amount:
            amount = total
    return amount


def run_hold_capture(step: PaymentStep) -> None:
    hold = DepositHold.objects.get(pk=step.hold_id)
    pi = step.payment_intent_id
    intent = stripe_client.intent_retrieve(pi)
    amount = _capture_amount(step, hold)
    if intent.status == "requires_capture":
        try:
            intent = stripe_client.intent_capture(pi, amount=amount, key=step.key)
        except (StripeRejected, PaymentRefused):
            intent = stripe_client.intent_retrieve(pi)
    _apply_captured(step.hold_id, step.pk, intent, amount)


def _apply_captured(hold_id: int, step_id: int | None, intent: Intent, amount: Decimal | None) -> str:
    from payments.services.settlement import settlement_progress

    follow: list[int] = []
    with transaction.atomic():
        _lock_lot_of_hold(hold_id)
        step = PaymentStep.objects.get(pk=step_id) if step_id else None
        settlement = None
        if step is not None and step.settlement_id:
            settlement = Settlement.objects.select_for_update().get(pk=step.settlement_id)
        hold = DepositHold.objects.select_for_update().select_related("lot").get(pk=hold_id)
        if step is not None:
            step = PaymentStep.objects.select_for_update().get(pk=step_id)
            if step.status != PaymentStep.Status.PENDING:
                return "already_recorded"
        if intent.status == "succeeded":
            captured = intent.amount_received if intent.amount_received is not None else (amount or hold.amount)
            captured = min(captured, hold.amount)
            if hold.status not in (Status.CAPTURED, Status.FORFEITED):
                hold.status, hold.captured_amount = Status.CAPTURED, captured
                hold.save(update_fields=["status", "captured_amount", "updated_at"])
            ledger_add(
                key=f"capture:{intent.id}",
                kind=LedgerEntry.Kind.CAPTURE,
                lot_id=hold.lot_id,
                company_id=hold.company_id,
                amount=captured,
                stripe_id=intent.id,
            )
            ledger_add(
                key=f"release:{intent.id}",
                kind=LedgerEntry.Kind.RELEASE,
                lot_id=hold.lot_id,
                company_id=hold.company_id,
                amount=hold.amount - captured,
                stripe_id=intent.id,
                note="uncaptured part of the deposit",
            )
            outcome = "captured"
            if step is not None:
                _finish(step, outcome=outcome, result_id=intent.id)
                PaymentStep.objects.filter(pk=step.pk).update(amount=captured)
        elif intent.status == "canceled":
            # The authorisation lapsed (or was cancelled) before the capture: the winner pays
            # everything at settlement instead.
            if hold.status in DepositHold.OPEN:
                hold.status, hold.failure_code = Status.RELEASED, "authorization_lapsed"
                hold.save(update_fields=["status", "failure_code", "updated_at"])
            outcome = "lapsed"
            if step is not None:
                _finish(step, outcome=outcome, result_id=intent.id)
            notify_admins(
                kind="deposit_lapsed",
                title=_("The winner's deposit for %(code)s lapsed before capture") % {"code": hold.lot.code},
            )
        else:
            outcome = f"not_captured:{intent.status}"
            if step is not None:
                _finish(step, outcome=outcome, status=PaymentStep.Status.FAILED, result_id=intent.id)
            notify_admins(
                kind="payment_step_failed",
                title=_("The winner's deposit for %(code)s could not be captured (%(status)s)")
                % {"code": hold.lot.code, "status": intent.status},
            )
        if settlement is None:
            settlement = Settlement.objects.select_for_update().filter(hold=hold).exclude(status="defaulted").first()
        if settlement is not None:
            follow = settlement_progress(settlement)
    transaction.on_commit(lambda: steps_run_soon(follow))
    return outcome


# --- Stripe's view of a hold (webhooks, reconcile, the browser's return) ---------------------


def hold_sync(intent: Intent) -> str:
    """Bring our hold in line with a freshly fetched PaymentIntent. Safe in any order and any
    number of times: only moves forward, and each effect is recorded once."""
    hold = DepositHold.objects.filter(stripe_payment_intent_id=intent.id).first()
    pending = PaymentStep.objects.filter(payment_intent_id=intent.id, status=PaymentStep.Status.PENDING)
    if hold is None and intent.metadata.get("hold_id"):
        # Stripe made it, our outcome is not recorded yet (a crash, a timeout after the fact):
        # its metadata names the step that made it.
        key = f"deposit-hold-{intent.metadata['hold_id']}-v{intent.metadata.get('attempt')}"
        create = PaymentStep.objects.filter(key=key, status=PaymentStep.Status.PENDING).first()
        if create is not None and intent.status in ("requires_capture", "requires_action", "requires_payment_method"):
            return _apply_created(create.hold_id, create.pk, intent, None)
    if intent.status == "canceled":
        step = pending.filter(kind=Kind.HOLD_CANCEL).first()
        if step is not None:
            return _apply_cancelled(step.hold_id, step.pk, intent)
        if hold is not None and hold.status in DepositHold.OPEN:
            capture = pending.filter(kind=Kind.HOLD_CAPTURE).first()
            if capture is not None:
                return _apply_captured(hold.pk, capture.pk, intent, None)
            return _apply_cancelled(hold.pk, None, intent)
        return "unchanged"
    if intent.status == "succeeded":
        step = pending.filter(kind=Kind.HOLD_CAPTURE).first()
        if step is not None:
            return _apply_captured(step.hold_id, step.pk, intent, step.amount)
        if hold is not None and hold.status == Status.HELD:
            return _apply_captured(hold.pk, None, intent, None)
        return "unchanged"
    if hold is None or hold.status not in (Status.PENDING, Status.REQUIRES_ACTION):
        return "unchanged"
    create = (
        PaymentStep.objects.filter(hold=hold, kind=Kind.HOLD_CREATE, status=PaymentStep.Status.PENDING)
        .order_by("-attempt")
        .first()
    )
    if intent.status == "requires_capture":
        return _apply_created(hold.pk, create.pk if create else None, intent, None)
    if intent.needs_authentication:
        if hold.status == Status.REQUIRES_ACTION:
            return "unchanged"
        return _apply_created(hold.pk, create.pk if create else None, intent, None)
    if intent.status == "requires_payment_method":
        return _apply_created(hold.pk, create.pk if create else None, intent, None)
    return "unchanged"


def deposit_for(*, company: Company | None, lot: Lot) -> DepositHold | None:
    if company is None:
        return None
    return DepositHold.objects.filter(lot=lot, company=company).first()


def hold_client_secret(*, actor: Any, hold_id: int) -> tuple[DepositHold, str, str]:
    """For the page where the bank's authentication is completed: the hold, its PaymentIntent's
    client secret and the card's payment method."""
    company = require_verified_company(actor, role=Company.Role.PROCESSOR)
    hold = DepositHold.objects.select_related("lot", "card").filter(pk=hold_id, company=company).first()
    if hold is None:
        raise not_found(_("No such deposit."))
    if hold.status != Status.REQUIRES_ACTION:
        return hold, "", ""
    try:
        intent = stripe_client.intent_retrieve(hold.stripe_payment_intent_id)
    except ProviderUnavailable:
        raise provider_unavailable() from None
    except StripeRejected as exc:
        raise DomainError("payment_provider_error", exc.message, status=409) from None
    return (
        hold,
        intent.client_secret,
        intent.payment_method or (hold.card.stripe_payment_method_id if hold.card else ""),
    )
