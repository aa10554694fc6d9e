"""The payments round the auction clock runs (throttled) and reconcile_payments runs in full:
repair what a crash left unscheduled, renew lapsing holds, retry pending steps, and declare
defaults past the deadline. Reconcile also re-reads every open payment from Stripe."""

from __future__ import annotations

import logging
import threading
import time

from django.db.models import Q

from payments.models import DepositHold, PaymentStep, Settlement
from payments.services.charges import charge_sync
from payments.services.common import CLOSED_LOT
from payments.services.defaults import settlements_default_due
from payments.services.holds import hold_sync, holds_renew_due, lot_money_schedule
from payments.services.steps import due_step_ids, steps_run
from payments.stripe_client import ProviderUnavailable, StripeRejected, intent_retrieve
from recycling.models import Lot

log = logging.getLogger("payments.tick")

CLOCK_EVERY_SECONDS = 30.0
_last_clock_round = 0.0
_clock_lock = threading.Lock()


def _repair() -> list[int]:
    """Money steps a crash between the close's commit and its after-commit hook never
    recorded: closed lots whose holds are still open, awarded lots without a settlement."""
    lots = set(
        DepositHold.objects.filter(status__in=DepositHold.OPEN, lot__status__in=CLOSED_LOT)
        .exclude(stripe_payment_intent_id="")
        .values_list("lot_id", flat=True)
    )
    lots |= set(
        Lot.objects.filter(status=Lot.Status.AWARDED, winner__isnull=False, final_price__isnull=False)
        .exclude(pk__in=Settlement.objects.values("lot_id"))
        .values_list("pk", flat=True)
    )
    ids: list[int] = []
    for lot_id in sorted(lots):
        ids += lot_money_schedule(lot_id=lot_id)
    return ids


def payments_tick() -> dict[str, int]:
    """One round: repair, renew, retry what is due, defaults."""
    _repair()
    holds_renew_due()
    counts = steps_run(due_step_ids())
    counts["defaulted"] = len(settlements_default_due())
    return counts


def payments_clock_tick() -> dict[str, int] | None:
    """Called by run_auction_clock on every tick; does a round at most every 30 seconds and
    never raises into the clock."""
    global _last_clock_round
    now = time.monotonic()
    with _clock_lock:
        if now - _last_clock_round < CLOCK_EVERY_SECONDS:
            return None
        _last_clock_round = now
    try:
        return payments_tick()
    except Exception:
        log.exception("payments round failed; the next one retries")
        return None


def payments_reconcile() -> dict[str, int]:
    """Compare every open payment with Stripe and repair local state; then run every pending
    step now. Raises ProviderUnavailable when Stripe cannot be reached."""
    counts = {"holds_checked": 0, "charges_checked": 0, "changed": 0}
    _repair()
    holds = DepositHold.objects.filter(status__in=DepositHold.OPEN).exclude(stripe_payment_intent_id="")
    for pk, pi in holds.values_list("pk", "stripe_payment_intent_id"):
        counts["holds_checked"] += 1
        try:
            outcome = hold_sync(intent_retrieve(pi))
        except StripeRejected as exc:
            log.warning("hold %s: Stripe does not know %s (%s)", pk, pi, exc.message)
            continue
        counts["changed"] += outcome != "unchanged"
    # Steps whose PaymentIntent is known but whose outcome is not recorded.
    for pi in (
        PaymentStep.objects.filter(status=PaymentStep.Status.PENDING)
        .exclude(payment_intent_id="")
        .values_list("payment_intent_id", flat=True)
        .distinct()
    ):
        try:
            counts["changed"] += hold_sync(intent_retrieve(pi)) != "unchanged"
        except StripeRejected:
            continue
    charges = Settlement.objects.filter(~Q(charge_intent_id="")).exclude(charge_status__in=("succeeded", "canceled"))
    for pi in charges.values_list("charge_intent_id", flat=True):
        counts["charges_checked"] += 1
        try:
            counts["changed"] += charge_sync(intent_retrieve(pi)) != "unchanged"
        except StripeRejected:
            continue
    holds_renew_due()
    pending = list(
        PaymentStep.objects.filter(status=PaymentStep.Status.PENDING)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)
    )
    result = steps_run(pending, force=True)
    if result["unavailable"]:
        raise ProviderUnavailable("Stripe became unreachable during the reconciliation")
    counts.update({f"steps_{k}": v for k, v in result.items()})
    counts["defaulted"] = len(settlements_default_due())
    return counts
