"""POST /api/v1/payments/stripe/webhook/: the signature is checked on the raw body; each event
is stored once (unique event id) with its effect; the object is read again from Stripe before
acting, so a repeated or late event cannot move anything backwards."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from rest_framework.test import APIClient

from payments import stripe_client
from payments.models import LedgerEntry, PaymentStep, StripeEvent
from tests.payments.helpers import bid, close, hold_of, register, save_card, wait_for
from tests.payments.localstripe import WEBHOOK_SECRET

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/v1/payments/stripe/webhook/"


def _signed(event: dict, *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> tuple[bytes, str]:
    body = json.dumps(event).encode()
    stamp = at or int(time.time())
    signature = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={stamp},v1={signature}"


def _deliver(event: dict, **kwargs):
    body, signature = _signed(event, **kwargs)
    return APIClient().generic("POST", URL, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)


def _event(event_id: str, type: str, intent_id: str) -> dict:
    return {"id": event_id, "object": "event", "type": type, "data": {"object": {"id": intent_id}}}


@pytest.fixture
def held(localstripe, deposit_lot, processors):
    """A live lot, a bidder whose deposit is held and who leads."""
    lot = deposit_lot()
    (user,) = processors(1)
    save_card(localstripe, user)
    register(user, lot)
    bid(user, lot, "2300.00")
    return lot, user


def test_a_bad_signature_is_400_and_changes_nothing(localstripe, held):
    lot, user = held
    hold = hold_of(user, lot)
    localstripe.post(f"payment_intents/{hold.stripe_payment_intent_id}/cancel")
    event = _event("evt_forged", "payment_intent.canceled", hold.stripe_payment_intent_id)

    wrong_secret = _deliver(event, secret="whsec_someone_else")
    body, signature = _signed(event)
    tampered = APIClient().generic(
        "POST",
        URL,
        body.replace(b"evt_forged", b"evt_forgeD"),
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )
    unsigned = APIClient().generic("POST", URL, body, content_type="application/json")
    stale = _deliver(event, at=int(time.time()) - 3600)

    for response in (wrong_secret, tampered, unsigned, stale):
        assert (response.status_code, response.json()["code"]) == (400, "invalid_signature")
    assert not StripeEvent.objects.exists()
    assert hold_of(user, lot).status == "held"


def test_the_same_event_delivered_twice_acts_once(localstripe, held):
    lot, user = held
    hold = hold_of(user, lot)
    localstripe.post(f"payment_intents/{hold.stripe_payment_intent_id}/cancel")  # lapsed at the bank
    event = _event("evt_once", "payment_intent.canceled", hold.stripe_payment_intent_id)

    first = _deliver(event)
    second = _deliver(event)

    assert (first.status_code, first.json()["outcome"]) == (200, "hold:released")
    assert (second.status_code, second.json()["outcome"]) == (200, "duplicate")
    assert StripeEvent.objects.filter(event_id="evt_once").count() == 1
    assert hold_of(user, lot).status == "released"
    assert LedgerEntry.objects.filter(kind="release").count() == 1


def test_events_out_of_order_are_read_from_stripe_and_never_move_backwards(localstripe, held, monkeypatch):
    """The capture reached Stripe but our process died before recording it. A late
    `amount_capturable_updated` (older) arrives first, then `succeeded`, then a stale
    `payment_failed`: the first already records the capture, the others change nothing."""
    lot, user = held
    real_capture = stripe_client.intent_capture

    def capture_then_crash(payment_intent_id, *, amount, key):
        real_capture(payment_intent_id, amount=amount, key=key)
        raise RuntimeError("process died before recording")

    monkeypatch.setattr(stripe_client, "intent_capture", capture_then_crash)
    close(lot)
    monkeypatch.undo()
    hold = hold_of(user, lot)
    assert hold.status == "held"
    assert PaymentStep.objects.get(kind="hold_capture").status == "pending"
    pi = hold.stripe_payment_intent_id

    outcomes = [
        _deliver(_event("evt_3", "payment_intent.amount_capturable_updated", pi)).json()["outcome"],
        _deliver(_event("evt_5", "payment_intent.succeeded", pi)).json()["outcome"],
        _deliver(_event("evt_1", "payment_intent.payment_failed", pi)).json()["outcome"],
    ]

    assert outcomes == ["hold:captured", "hold:unchanged", "hold:unchanged"]
    hold.refresh_from_db()
    assert (hold.status, str(hold.captured_amount)) == ("captured", "6900.00")
    assert PaymentStep.objects.get(kind="hold_capture").status == "done"
    assert LedgerEntry.objects.filter(kind="capture").count() == 1
    assert StripeEvent.objects.count() == 3


def test_an_unknown_object_is_recorded_and_ignored(localstripe, db):
    response = _deliver(_event("evt_x", "payment_intent.succeeded", "pi_unknown"))

    assert (response.status_code, response.json()["outcome"]) == (200, "ignored")
    assert StripeEvent.objects.get().event_id == "evt_x"


def test_stripe_unreachable_makes_stripe_deliver_again(localstripe, held):
    lot, user = held
    localstripe.stop()

    response = _deliver(_event("evt_later", "payment_intent.succeeded", hold_of(user, lot).stripe_payment_intent_id))

    assert (response.status_code, response.json()["code"]) == (409, "payment_provider_unavailable")
    assert not StripeEvent.objects.exists()


def test_localstripe_delivers_its_events_to_the_live_server(localstripe, live_server, held):
    lot, user = held
    localstripe.webhook(f"{live_server.url}{URL}")

    close(lot)  # the capture: localstripe sends payment_intent.succeeded a second later

    # (On SQLite the live server shares the test's connection: wait for the whole handling.)
    event = wait_for(lambda: StripeEvent.objects.filter(type="payment_intent.succeeded").exclude(outcome="").first())
    assert event.object_id == hold_of(user, lot).stripe_payment_intent_id
    assert event.outcome == "hold:unchanged"  # our own step had recorded it already
    assert LedgerEntry.objects.filter(kind="capture").count() == 1
