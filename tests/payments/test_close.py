"""At the close every loser's hold is released at once and the winner's captured; an unsold
or withdrawn lot releases all. The close never waits on Stripe: the steps run after commit,
each recorded once, and what Stripe missed is finished by reconcile_payments."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.models import Notification
from payments import services, stripe_client
from payments.models import DepositHold, LedgerEntry, PaymentStep, Settlement
from recycling import services as lot_services
from recycling.models import Lot
from tests.payments.helpers import bid, client_for, close, hold_of, intent, register, save_card

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def _registered(localstripe, lot, users):
    for user in users:
        save_card(localstripe, user)
        assert register(user, lot).json()["status"] == "held"


def _ledger(lot):
    return sorted(LedgerEntry.objects.filter(lot=lot).values_list("kind", "company_id", "amount"))


def test_close_captures_the_winner_and_releases_the_losers(localstripe, deposit_lot, processors):
    lot = deposit_lot()
    a, b, c = processors(3)
    _registered(localstripe, lot, [a, b, c])
    bid(a, lot, "2300.00")
    bid(b, lot, "2350.00")
    bid(c, lot, "2400.00")

    closed = close(lot)

    assert (closed.status, closed.winner_id) == ("awarded", c.company_id)
    for loser in (a, b):
        hold = hold_of(loser, lot)
        assert hold.status == "released"
        assert intent(localstripe, hold.stripe_payment_intent_id)["status"] == "canceled"
        assert client_for(loser).get(f"/api/v1/lots/{lot.pk}/deposit/").json()["status"] == "released"
    winner = hold_of(c, lot)
    assert (winner.status, winner.captured_amount) == ("captured", D("6900.00"))
    assert intent(localstripe, winner.stripe_payment_intent_id)["status"] == "succeeded"
    assert client_for(c).get(f"/api/v1/lots/{lot.pk}/deposit/").json()["status"] == "captured"
    assert _ledger(lot) == sorted(
        [
            ("hold", a.company_id, D("6900.00")),
            ("hold", b.company_id, D("6900.00")),
            ("hold", c.company_id, D("6900.00")),
            ("release", a.company_id, D("6900.00")),
            ("release", b.company_id, D("6900.00")),
            ("capture", c.company_id, D("6900.00")),
        ]
    )
    settlement = Settlement.objects.get(lot=lot)
    assert (settlement.status, settlement.buyer_id, settlement.unit_price) == (
        "awaiting_weight",
        c.company_id,
        D("2400.00"),
    )
    assert set(PaymentStep.objects.values_list("status", flat=True)) == {"done"}

    # Exactly once: scheduling again, a tick and a reconciliation find nothing to do.
    assert services.lot_money_schedule(lot_id=lot.pk) == []
    services.payments_tick()
    call_command("reconcile_payments")
    assert PaymentStep.objects.filter(kind__in=("hold_cancel", "hold_capture")).count() == 3
    assert _ledger(lot) == sorted(
        [
            ("hold", a.company_id, D("6900.00")),
            ("hold", b.company_id, D("6900.00")),
            ("hold", c.company_id, D("6900.00")),
            ("release", a.company_id, D("6900.00")),
            ("release", b.company_id, D("6900.00")),
            ("capture", c.company_id, D("6900.00")),
        ]
    )


def test_an_unsold_lot_releases_every_hold(localstripe, deposit_lot, processors):
    lot = deposit_lot(reserve_price=D("3000.00"))
    a, b = processors(2)
    _registered(localstripe, lot, [a, b])
    bid(a, lot, "2300.00")

    assert close(lot).status == "unsold"

    for user in (a, b):  # b registered but never bid: released too
        hold = hold_of(user, lot)
        assert hold.status == "released"
        assert intent(localstripe, hold.stripe_payment_intent_id)["status"] == "canceled"
    assert not Settlement.objects.exists()
    assert [k for k, *_ in _ledger(lot)].count("release") == 2


def test_a_withdrawn_lot_releases_every_hold(localstripe, deposit_lot, processors, coop_admin):
    lot = deposit_lot()
    (a,) = processors(1)
    _registered(localstripe, lot, [a])
    bid(a, lot, "2300.00")

    lot_services.lot_withdraw(actor=coop_admin, lot_id=lot.pk, reason="来源不明")

    hold = hold_of(a, lot)
    assert hold.status == "released"
    assert intent(localstripe, hold.stripe_payment_intent_id)["status"] == "canceled"


def test_localstripe_stopped_in_the_middle_of_a_close_then_reconcile_sets_every_amount_right(
    localstripe, deposit_lot, processors, monkeypatch
):
    lot = deposit_lot()
    a, b, c = processors(3)
    _registered(localstripe, lot, [a, b, c])
    bid(a, lot, "2300.00")
    bid(b, lot, "2350.00")
    bid(c, lot, "2400.00")
    real_cancel = stripe_client.intent_cancel
    calls = []

    def cancel_then_stripe_goes_down(payment_intent_id, *, key):
        result = real_cancel(payment_intent_id, key=key)
        calls.append(payment_intent_id)
        localstripe.stop()  # after the first release Stripe stops answering
        return result

    monkeypatch.setattr(stripe_client, "intent_cancel", cancel_then_stripe_goes_down)

    closed = close(lot)

    # The close itself is done; one release went through, the rest is recorded and pending.
    assert (closed.status, closed.winner_id) == ("awarded", c.company_id)
    assert Lot.objects.get(pk=lot.pk).status == "awarded"
    statuses = {user.username: hold_of(user, lot).status for user in (a, b, c)}
    assert sorted(statuses.values()) == ["held", "held", "released"]
    pending = PaymentStep.objects.filter(status="pending")
    assert sorted(pending.values_list("kind", flat=True)) == ["hold_cancel", "hold_capture"]
    assert pending.filter(last_error__startswith="provider unavailable").count() == 1
    assert LedgerEntry.objects.filter(kind__in=("release", "capture")).count() == 1

    localstripe.resume()
    monkeypatch.setattr(stripe_client, "intent_cancel", real_cancel)
    call_command("reconcile_payments")

    for loser in (a, b):
        hold = hold_of(loser, lot)
        assert hold.status == "released"
        assert intent(localstripe, hold.stripe_payment_intent_id)["status"] == "canceled"
    winner = hold_of(c, lot)
    assert (winner.status, winner.captured_amount) == ("captured", D("6900.00"))
    assert intent(localstripe, winner.stripe_payment_intent_id)["status"] == "succeeded"
    assert intent(localstripe, winner.stripe_payment_intent_id)["amount"] == 690000
    assert _ledger(lot) == sorted(
        [
            ("hold", a.company_id, D("6900.00")),
            ("hold", b.company_id, D("6900.00")),
            ("hold", c.company_id, D("6900.00")),
            ("release", a.company_id, D("6900.00")),
            ("release", b.company_id, D("6900.00")),
            ("capture", c.company_id, D("6900.00")),
        ]
    )
    assert not PaymentStep.objects.filter(status="pending").exists()
    assert len(calls) == 1


def test_reconcile_with_stripe_still_down_fails_loudly_and_loses_nothing(localstripe, deposit_lot, processors):
    lot = deposit_lot()
    (a,) = processors(1)
    _registered(localstripe, lot, [a])
    bid(a, lot, "2300.00")
    localstripe.stop()
    close(lot)

    with pytest.raises(Exception, match="Stripe is unreachable"):
        call_command("reconcile_payments")

    assert hold_of(a, lot).status == "held"
    assert PaymentStep.objects.get(kind="hold_capture").status == "pending"
    localstripe.resume()
    call_command("reconcile_payments")
    assert hold_of(a, lot).status == "captured"


def test_the_clock_retries_a_step_left_pending(localstripe, deposit_lot, processors):
    lot = deposit_lot()
    a, b = processors(2)
    _registered(localstripe, lot, [a, b])
    bid(a, lot, "2300.00")
    bid(b, lot, "2350.00")
    localstripe.stop()
    close(lot)
    localstripe.resume()
    PaymentStep.objects.filter(status="pending").update(next_attempt_at=timezone.now())

    services.payments_tick()

    assert hold_of(a, lot).status == "released"
    assert hold_of(b, lot).status == "captured"
    assert Notification.objects.filter(user=b, kind="auction_won").count() == 1


def test_a_hold_whose_call_timed_out_is_found_and_released_after_the_close(localstripe, deposit_lot, processors):
    """Stripe frozen mid-registration: our call times out, but Stripe made the hold once it woke
    up. The retry asks Stripe for what that call made before anything else, and the close's
    release covers it: no card is left blocked."""
    lot = deposit_lot()
    (a,) = processors(1)
    save_card(localstripe, a)
    localstripe.stop()
    assert register(a, lot).json()["code"] == "payment_provider_unavailable"
    close(lot)  # no bids: unsold
    localstripe.resume()

    call_command("reconcile_payments")

    hold = DepositHold.objects.get(company=a.company)
    made = localstripe.get("payment_intents")["data"]
    assert [(pi["id"], pi["status"]) for pi in made] == [(hold.stripe_payment_intent_id, "canceled")]
    assert hold.status == "released"
    assert sorted(LedgerEntry.objects.values_list("kind", flat=True)) == ["hold", "release"]


@pytest.mark.postgres  # threads writing at once: SQLite's in-memory test database refuses them
def test_a_frozen_stripe_does_not_delay_the_clocks_closes(localstripe, deposit_lot, processors, settings, monkeypatch):
    """The clock's payments round waits on Stripe, up to STRIPE_TIMEOUT per call, on a thread
    of its own: meanwhile the clock closes the next lot on time."""
    import datetime as dt
    import threading
    import time

    from auctions.management.commands.run_auction_clock import run_clock
    from payments.services import tick

    first = deposit_lot()
    a, b = processors(2)
    _registered(localstripe, first, [a, b])
    bid(a, first, "2300.00")
    bid(b, first, "2350.00")
    second = deposit_lot()
    localstripe.stop()
    close(first)  # its release and capture stay pending: Stripe is frozen
    PaymentStep.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    settings.STRIPE_TIMEOUT = 8.0
    monkeypatch.setattr(tick, "_last_clock_round", 0.0)  # a payments round is due at once

    stop = threading.Event()
    clock = threading.Thread(target=run_clock, args=(stop, 0.1))
    clock.start()
    try:
        deadline = time.monotonic() + 5
        while not _waiting_on_stripe("payments-round") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _waiting_on_stripe("payments-round"), "the payments round never called Stripe"
        ends_at = timezone.now() + dt.timedelta(seconds=0.5)
        Lot.objects.filter(pk=second.pk).update(ends_at=ends_at, scheduled_end=ends_at)
        deadline = time.monotonic() + 5
        while Lot.objects.get(pk=second.pk).status == "live" and time.monotonic() < deadline:
            time.sleep(0.02)
        still_waiting = _waiting_on_stripe("payments-round")
    finally:
        localstripe.resume()
        stop.set()
        clock.join(20)
    assert not clock.is_alive()
    second.refresh_from_db()
    assert second.status == "unsold"
    assert second.closed_at - ends_at < dt.timedelta(seconds=1)
    assert still_waiting  # the close did not wait for the round


def _waiting_on_stripe(thread_name: str) -> bool:
    """Whether the named thread is inside a call of stripe-python's right now."""
    import sys
    import threading

    thread = next((t for t in threading.enumerate() if t.name == thread_name), None)
    frame = sys._current_frames().get(thread.ident) if thread else None
    while frame is not None:
        if "/stripe/" in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False
