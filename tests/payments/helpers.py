"""Steps the payments tests share: save a card through the API and localstripe, register,
bid, close, and read what localstripe holds."""

from __future__ import annotations

import datetime as dt
import time

from django.utils import timezone
from rest_framework.test import APIClient

from auctions import services as auction_services
from payments.models import DepositHold, Settlement
from recycling.models import Lot

VISA = "4242424242424242"
AUTH_REQUIRED = "4000002760003184"
CHARGE_DECLINED = "4000000000000341"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def save_card(localstripe, user, number: str = VISA) -> dict:
    """What the card page does: SetupIntent from our API, confirmCardSetup, then record it."""
    api = client_for(user)
    setup = api.post("/api/v1/payments/cards/setup/")
    assert setup.status_code == 200, setup.content
    localstripe.confirm_setup(setup.json()["client_secret"], number)
    saved = api.post("/api/v1/payments/cards/", {"setup_intent": setup.json()["setup_intent"]}, format="json")
    assert saved.status_code == 201, saved.content
    return saved.json()


def register(user, lot):
    return client_for(user).post(f"/api/v1/lots/{lot.pk}/deposit/")


def bid(user, lot, amount: str):
    return client_for(user).post(f"/api/v1/lots/{lot.pk}/bids/", {"amount": amount}, format="json")


def close(lot) -> Lot:
    """End the lot now and let the clock's close run (its after-commit money steps included)."""
    Lot.objects.filter(pk=lot.pk).update(ends_at=timezone.now() - dt.timedelta(milliseconds=1))
    closed = auction_services.lot_close(lot_id=lot.pk)
    assert closed is not None
    return closed


def hold_of(user, lot) -> DepositHold:
    return DepositHold.objects.get(lot=lot, company_id=user.company_id)


def settlement_of(lot) -> Settlement:
    return Settlement.objects.exclude(status="defaulted").get(lot=lot)


def intent(localstripe, payment_intent_id: str) -> dict:
    return localstripe.get(f"payment_intents/{payment_intent_id}")


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(interval)


def localstripe_charge_of(payment_intent: dict) -> dict:
    """The charge of a PaymentIntent as localstripe shows it (an object, not an id)."""
    charge = payment_intent["latest_charge"]
    return charge if isinstance(charge, dict) else {}
