"""Races on PostgreSQL, for real (each thread its own connection): the same registration sent
five times at once places one hold; three runners of one step call Stripe once; the same
webhook event delivered by three threads at once acts once; the close and a reconcile racing
over the close's steps record each release and capture once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from payments import services, stripe_client
from payments.models import DepositHold, LedgerEntry, PaymentStep, StripeEvent
from tests.auctions.helpers_live import run_in_threads
from tests.payments.helpers import bid, close, hold_of, intent, register, save_card
from tests.payments.test_webhooks import _deliver, _event

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = Decimal


def test_five_registrations_at_once_place_one_hold(localstripe, deposit_lot, processor):
    lot = deposit_lot()
    save_card(localstripe, processor)

    results = run_in_threads(lambda: register(processor, lot).status_code, [()] * 5)

    assert set(results) <= {200, 409}
    hold = DepositHold.objects.get()
    assert hold.status == "held"
    assert PaymentStep.objects.filter(kind="hold_create").count() == 1
    assert [pi["id"] for pi in localstripe.get("payment_intents")["data"]] == [hold.stripe_payment_intent_id]
    assert LedgerEntry.objects.filter(kind="hold").count() == 1


def test_three_runners_of_one_step_call_stripe_once(localstripe, deposit_lot, processors, monkeypatch):
    lot = deposit_lot()
    a, b = processors(2)
    for user in (a, b):
        save_card(localstripe, user)
        register(user, lot)
    bid(a, lot, "2300.00")
    bid(b, lot, "2350.00")
    monkeypatch.setattr(services.holds, "steps_run_soon", lambda ids: None)
    close(lot)
    monkeypatch.undo()
    cancels = []
    real_cancel = stripe_client.intent_cancel

    def counting_cancel(payment_intent_id, *, key):
        cancels.append(key)
        return real_cancel(payment_intent_id, key=key)

    monkeypatch.setattr(stripe_client, "intent_cancel", counting_cancel)
    step = PaymentStep.objects.get(kind="hold_cancel")

    outcomes = run_in_threads(lambda: services.step_run(step.pk, force=True), [()] * 3)

    assert sorted(outcomes) == ["done", "skipped", "skipped"]
    assert cancels == [step.key]
    assert hold_of(a, lot).status == "released"
    call_command("reconcile_payments")
    assert hold_of(b, lot).status == "captured"
    assert LedgerEntry.objects.filter(kind="release").count() == 1
    assert LedgerEntry.objects.filter(kind="capture").count() == 1


def test_one_event_delivered_by_three_threads_at_once_acts_once(localstripe, deposit_lot, processor):
    lot = deposit_lot()
    save_card(localstripe, processor)
    register(processor, lot)
    hold = hold_of(processor, lot)
    localstripe.post(f"payment_intents/{hold.stripe_payment_intent_id}/cancel")
    event = _event("evt_race", "payment_intent.canceled", hold.stripe_payment_intent_id)

    outcomes = run_in_threads(lambda: _deliver(event).json()["outcome"], [()] * 3)

    assert sorted(outcomes) == ["duplicate", "duplicate", "hold:released"]
    assert StripeEvent.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="release").count() == 1


def test_the_close_and_a_reconcile_racing_record_each_step_once(localstripe, deposit_lot, processors):
    lot = deposit_lot()
    users = processors(3)
    for user in users:
        save_card(localstripe, user)
        register(user, lot)
    for user, amount in zip(users, ("2300.00", "2350.00", "2400.00"), strict=True):
        bid(user, lot, amount)

    def reconcile():
        call_command("reconcile_payments")

    run_in_threads(lambda job: job(), [(lambda: close(lot),), (reconcile,), (reconcile,)])
    call_command("reconcile_payments")

    kinds = sorted(LedgerEntry.objects.exclude(kind="hold").values_list("kind", "company_id"))
    assert kinds == sorted(
        [("release", users[0].company_id), ("release", users[1].company_id), ("capture", users[2].company_id)]
    )
    for user in users[:2]:
        assert intent(localstripe, hold_of(user, lot).stripe_payment_intent_id)["status"] == "canceled"
    assert hold_of(users[2], lot).captured_amount == D("6900.00")
