"""Registering for a lot holds the deposit (保证金) on the saved card, server-side; bidding
answers 403 deposit_required until the hold is authorised and outlives the lot."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from auctions.models import Bid
from core.models import Notification
from payments import services
from payments.models import DepositHold, LedgerEntry, PaymentStep
from payments.services.common import HOLD_VALID
from tests.payments.helpers import (
    AUTH_REQUIRED,
    CHARGE_DECLINED,
    bid,
    client_for,
    hold_of,
    intent,
    register,
    save_card,
)

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def test_register_holds_the_deposit_and_then_the_bid_is_accepted(localstripe, deposit_lot, processor):
    lot = deposit_lot()
    save_card(localstripe, processor)
    refused = bid(processor, lot, "2300.00")
    assert (refused.status_code, refused.json()["code"]) == (403, "deposit_required")
    assert not Bid.objects.exists()
    assert client_for(processor).get(f"/api/v1/lots/{lot.pk}/deposit/").json()["status"] == "none"

    response = register(processor, lot)

    assert response.status_code == 200
    body = response.json()
    hold = hold_of(processor, lot)
    assert (body["status"], body["amount"], body["payment_intent"]) == (
        "held",
        "6900.00",
        hold.stripe_payment_intent_id,
    )
    remote = intent(localstripe, hold.stripe_payment_intent_id)
    assert (remote["status"], remote["amount"], remote["currency"], remote["capture_method"]) == (
        "requires_capture",
        690000,
        "cny",
        "manual",
    )
    assert hold.expires_at - hold.authorized_at == HOLD_VALID
    assert list(LedgerEntry.objects.values_list("kind", "amount")) == [("hold", D("6900.00"))]
    assert bid(processor, lot, "2300.00").status_code == 201
    # Registering again is the same hold, not a second one.
    assert register(processor, lot).json()["payment_intent"] == hold.stripe_payment_intent_id
    assert DepositHold.objects.count() == 1
    assert len(localstripe.get("payment_intents")["data"]) == 1


def test_no_card_no_registration(localstripe, deposit_lot, processor):
    lot = deposit_lot()

    response = register(processor, lot)

    assert (response.status_code, response.json()["code"]) == (409, "card_required")
    assert not DepositHold.objects.exists()


def test_registration_opens_five_days_before_the_end(localstripe, deposit_lot, processor):
    lot = deposit_lot(ends_at=timezone.now() + dt.timedelta(days=6))
    save_card(localstripe, processor)

    response = register(processor, lot)

    assert (response.status_code, response.json()["code"]) == (409, "registration_closed")
    assert not DepositHold.objects.exists()


def test_a_lot_without_deposit_needs_no_registration(localstripe, deposit_lot, processor):
    lot = deposit_lot(deposit=D("0.00"))

    assert bid(processor, lot, "2300.00").status_code == 201
    response = register(processor, lot)
    assert (response.status_code, response.json()["code"]) == (409, "deposit_not_required")


def test_the_bank_asks_for_authentication_then_the_hold_is_placed(localstripe, deposit_lot, processor):
    lot = deposit_lot()
    save_card(localstripe, processor, AUTH_REQUIRED)

    response = register(processor, lot)

    assert response.json()["status"] == "requires_action"
    assert bid(processor, lot, "2300.00").json()["code"] == "deposit_required"
    assert Notification.objects.filter(user=processor, kind="deposit_requires_action").count() == 1
    hold = hold_of(processor, lot)
    _hold, client_secret, payment_method = services.hold_client_secret(actor=processor, hold_id=hold.pk)
    assert client_secret.startswith(hold.stripe_payment_intent_id)
    assert payment_method == hold.card.stripe_payment_method_id

    localstripe.authenticate(client_secret)  # the browser's confirmCardPayment
    refreshed = register(processor, lot)  # … then the page tells us

    assert refreshed.json()["status"] == "held"
    assert intent(localstripe, hold.stripe_payment_intent_id)["status"] == "requires_capture"
    assert bid(processor, lot, "2300.00").status_code == 201


def test_a_declined_card_fails_and_bidding_stays_closed(localstripe, deposit_lot, processor):
    lot = deposit_lot()
    save_card(localstripe, processor, CHARGE_DECLINED)

    response = register(processor, lot)

    assert response.json()["status"] == "failed"
    assert hold_of(processor, lot).failure_code == "card_declined"
    assert bid(processor, lot, "2300.00").json()["code"] == "deposit_required"
    assert not LedgerEntry.objects.exists()
    # A new card, a new attempt (its own idempotency key).
    save_card(localstripe, processor)
    assert register(processor, lot).json()["status"] == "held"
    assert sorted(PaymentStep.objects.values_list("key", flat=True)) == [
        f"deposit-hold-{hold_of(processor, lot).pk}-v1",
        f"deposit-hold-{hold_of(processor, lot).pk}-v2",
    ]


def test_stripe_down_at_registration_is_a_409_and_the_hold_is_placed_later(localstripe, deposit_lot, processor):
    lot = deposit_lot()
    save_card(localstripe, processor)
    localstripe.stop()

    response = register(processor, lot)

    assert (response.status_code, response.json()["code"]) == (409, "payment_provider_unavailable")
    hold = hold_of(processor, lot)
    assert (hold.status, hold.stripe_payment_intent_id) == ("pending", "")
    step = PaymentStep.objects.get(hold=hold)
    assert (step.status, step.attempts) == ("pending", 1)
    assert step.next_attempt_at > timezone.now()
    assert not LedgerEntry.objects.exists()

    localstripe.resume()
    call_command("reconcile_payments")

    hold.refresh_from_db()
    assert hold.status == "held"
    assert intent(localstripe, hold.stripe_payment_intent_id)["status"] == "requires_capture"
    assert bid(processor, lot, "2300.00").status_code == 201


def test_a_hold_that_would_lapse_before_the_close_is_renewed(localstripe, deposit_lot, processor):
    lot = deposit_lot()
    save_card(localstripe, processor)
    register(processor, lot)
    old = hold_of(processor, lot)
    # Authorised six and a half days ago: it lapses before the lot's end + a day.
    DepositHold.objects.filter(pk=old.pk).update(expires_at=lot.ends_at + dt.timedelta(hours=12))

    services.payments_tick()

    hold = hold_of(processor, lot)
    assert (hold.status, hold.attempt) == ("held", 2)
    assert hold.stripe_payment_intent_id != old.stripe_payment_intent_id
    assert intent(localstripe, hold.stripe_payment_intent_id)["status"] == "requires_capture"
    assert intent(localstripe, old.stripe_payment_intent_id)["status"] == "canceled"
    assert sorted(LedgerEntry.objects.values_list("kind", flat=True)) == ["hold", "hold", "release"]
    assert bid(processor, lot, "2300.00").status_code == 201


def test_a_renewal_refused_by_the_bank_blocks_bidding_and_says_so(localstripe, deposit_lot, processor):
    lot = deposit_lot()
    save_card(localstripe, processor)
    register(processor, lot)
    old = hold_of(processor, lot)
    save_card(localstripe, processor, CHARGE_DECLINED)  # the card now in use declines
    DepositHold.objects.filter(pk=old.pk).update(expires_at=lot.ends_at + dt.timedelta(minutes=30))
    assert bid(processor, lot, "2300.00").json()["code"] == "deposit_required"  # never silently invalid

    services.payments_tick()

    hold = hold_of(processor, lot)
    assert (hold.status, hold.failure_code) == ("failed", "card_declined")
    assert intent(localstripe, old.stripe_payment_intent_id)["status"] == "canceled"
    assert Notification.objects.filter(user=processor, kind="deposit_failed").count() == 1
    assert bid(processor, lot, "2300.00").json()["code"] == "deposit_required"


def test_a_hold_stripe_cancelled_is_found_by_reconcile(localstripe, deposit_lot, processor):
    lot = deposit_lot()
    save_card(localstripe, processor)
    register(processor, lot)
    hold = hold_of(processor, lot)
    localstripe.post(f"payment_intents/{hold.stripe_payment_intent_id}/cancel")  # lapsed at the bank

    call_command("reconcile_payments")

    hold.refresh_from_db()
    assert hold.status == "released"
    assert Notification.objects.filter(user=processor, kind="deposit_lapsed").count() == 1
    assert bid(processor, lot, "2300.00").json()["code"] == "deposit_required"
    assert register(processor, lot).json()["status"] == "held"  # registering again works


def test_a_cooperative_admin_adjusts_the_terms_until_someone_registers(localstripe, deposit_lot, processor, coop_admin):
    lot = deposit_lot()
    url = f"/api/v1/lots/{lot.pk}/payment-terms/"
    assert client_for(processor).patch(url, {"deposit": "5000.00"}, format="json").status_code == 403

    response = client_for(coop_admin).patch(url, {"deposit": "5000.00", "payment_days": 5}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["deposit"], response.json()["payment_days"]) == ("5000.00", 5)
    too_big = client_for(coop_admin).patch(url, {"deposit": "1000000.00"}, format="json")
    assert (too_big.status_code, too_big.json()["code"]) == (400, "invalid_price")  # over one card payment
    assert "deposit" in too_big.json()["fields"]
    save_card(localstripe, processor)
    assert register(processor, lot).json()["status"] == "held"
    locked = client_for(coop_admin).patch(url, {"deposit": "6000.00"}, format="json")
    assert (locked.status_code, locked.json()["code"]) == (409, "deposit_locked")
    lot.refresh_from_db()
    assert lot.deposit == D("5000.00")
    assert client_for(processor).get(url).json()["deposit"] == "5000.00"
