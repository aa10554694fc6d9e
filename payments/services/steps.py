"""Running recorded payment steps: claim, call Stripe outside any lock, record the outcome.

A step is claimed by a compare-and-swap on its row (status pending, claim lapsed, due), so two
runners never call Stripe for it at once; a runner that dies leaves a claim that lapses. When
Stripe is unreachable the step goes back to pending with a growing delay and the rest of the
batch waits for the next round: one timeout, not one per step.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.db import close_old_connections, connections
from django.db.models import F, Q
from django.utils import timezone

from payments.models import PaymentStep
from payments.stripe_client import ProviderUnavailable

log = logging.getLogger("payments.steps")

CLAIM_LEASE = dt.timedelta(minutes=2)
RETRY_FIRST = dt.timedelta(seconds=30)
RETRY_MAX = dt.timedelta(hours=1)


def _runner(kind: str):
    from payments.services import charges, holds

    return {
        PaymentStep.Kind.HOLD_CREATE: holds.run_hold_create,
        PaymentStep.Kind.HOLD_CANCEL: holds.run_hold_cancel,
        PaymentStep.Kind.HOLD_CAPTURE: holds.run_hold_capture,
        PaymentStep.Kind.CHARGE_CREATE: charges.run_charge_create,
        PaymentStep.Kind.CHARGE_CANCEL: charges.run_charge_cancel,
        PaymentStep.Kind.REFUND_CREATE: charges.run_refund_create,
    }[kind]


def step_claim(step_id: int, *, force: bool = False) -> PaymentStep | None:
    now = timezone.now()
    qs = PaymentStep.objects.filter(pk=step_id, status=PaymentStep.Status.PENDING).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )
    if not force:
        qs = qs.filter(next_attempt_at__lte=now)
    if qs.update(claimed_until=now + CLAIM_LEASE, attempts=F("attempts") + 1) != 1:
        return None
    return PaymentStep.objects.select_related("hold", "settlement").get(pk=step_id)


def _defer(step: PaymentStep, error: str) -> None:
    delay = min(RETRY_FIRST * (2 ** max(step.attempts - 1, 0)), RETRY_MAX)
    PaymentStep.objects.filter(pk=step.pk, status=PaymentStep.Status.PENDING).update(
        claimed_until=None, next_attempt_at=timezone.now() + delay, last_error=error[:2000]
    )


def step_run(step_id: int, *, force: bool = False) -> str:
    """Run one step if it is ours to run: "done", "failed", "pending" (deferred), "skipped".
    Raises ProviderUnavailable when Stripe could not be reached (the step is deferred)."""
    step = step_claim(step_id, force=force)
    if step is None:
        return "skipped"
    try:
        _runner(step.kind)(step)
    except ProviderUnavailable as exc:
        log.warning("payment step %s deferred: Stripe unavailable (%s)", step.key, exc)
        _defer(step, f"provider unavailable: {exc}")
        raise
    except Exception as exc:  # a bug or an unexpected answer: keep the step, retry later, say so
        log.exception("payment step %s failed unexpectedly", step.key)
        _defer(step, repr(exc))
        return "pending"
    PaymentStep.objects.filter(pk=step.pk).update(claimed_until=None)
    return PaymentStep.objects.values_list("status", flat=True).get(pk=step.pk)


def steps_run(step_ids: Iterable[int], *, force: bool = False) -> dict[str, int]:
    """Run steps in order; stop at the first sign that Stripe is down (the rest stay due)."""
    counts = {"done": 0, "failed": 0, "pending": 0, "skipped": 0, "unavailable": 0}
    for step_id in step_ids:
        try:
            counts[step_run(step_id, force=force)] += 1
        except ProviderUnavailable:
            counts["unavailable"] += 1
            break
    return counts


def due_step_ids(*, limit: int = 200) -> list[int]:
    now = timezone.now()
    return list(
        PaymentStep.objects.filter(status=PaymentStep.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def _run_in_thread(step_ids: list[int]) -> None:
    try:
        close_old_connections()
        steps_run(step_ids)
    except Exception:
        log.exception("payment steps after commit failed; the clock retries them")
    finally:
        connections.close_all()


_inline = threading.local()


@contextlib.contextmanager
def steps_inline() -> Iterator[None]:
    """Run follow-up steps in this thread (management commands: a daemon thread would die
    with the process)."""
    previous = getattr(_inline, "on", False)
    _inline.on = True
    try:
        yield
    finally:
        _inline.on = previous


def steps_run_soon(step_ids: Iterable[int]) -> None:
    """Run freshly recorded steps now, without making the caller wait on Stripe (a background
    thread) — or inline when PAYMENTS_STEPS_IN_BACKGROUND is off (the tests). Whatever does
    not get done stays pending for the retry loop."""
    ids = list(dict.fromkeys(step_ids))
    if not ids:
        return
    if settings.PAYMENTS_STEPS_IN_BACKGROUND and not getattr(_inline, "on", False):
        threading.Thread(target=_run_in_thread, args=(ids,), name="payment-steps", daemon=True).start()
        return
    try:
        steps_run(ids)
    except Exception:
        log.exception("payment steps after commit failed; the clock retries them")
