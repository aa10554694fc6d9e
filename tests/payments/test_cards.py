"""Saving a card: a SetupIntent (usage=off_session) from our API, confirmed by Stripe.js,
recorded as the company's saved card; only our own SetupIntents count."""

from __future__ import annotations

import pytest

from accounts.models import Company
from core.models import AuditEntry
from payments.models import CardSetup, PaymentProfile, SavedCard
from tests import factories
from tests.payments.helpers import client_for, save_card

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_processor_saves_a_card_once_and_lists_it(localstripe, processor):
    api = client_for(processor)

    setup = api.post("/api/v1/payments/cards/setup/")

    assert setup.status_code == 200
    body = setup.json()
    assert set(body) == {"setup_intent", "client_secret", "publishable_key"}
    assert body["publishable_key"] == "pk_test_local"
    remote = localstripe.get(f"setup_intents/{body['setup_intent']}")
    customer = PaymentProfile.objects.get(company=processor.company).stripe_customer_id
    assert (remote["usage"], remote["customer"]) == ("off_session", customer)

    localstripe.confirm_setup(body["client_secret"])
    saved = api.post("/api/v1/payments/cards/", {"setup_intent": body["setup_intent"]}, format="json")

    assert saved.status_code == 201
    card = SavedCard.objects.get(company=processor.company)
    assert saved.json() == {"id": card.pk, "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2034}
    assert localstripe.get(f"payment_methods/{card.stripe_payment_method_id}")["customer"] == customer
    assert api.get("/api/v1/payments/cards/").json() == [saved.json()]
    assert AuditEntry.objects.filter(action="payments.card_saved", target_id=str(processor.company_id)).count() == 1
    # Recording it again changes nothing.
    again = api.post("/api/v1/payments/cards/", {"setup_intent": body["setup_intent"]}, format="json")
    assert (again.status_code, SavedCard.objects.count()) == (201, 1)


def test_the_second_card_reuses_the_stripe_customer(localstripe, processor):
    save_card(localstripe, processor)
    save_card(localstripe, processor, "5555555555554444")

    assert PaymentProfile.objects.count() == 1
    assert [c["last4"] for c in client_for(processor).get("/api/v1/payments/cards/").json()] == ["4444", "4242"]


def test_another_companys_setup_intent_is_not_found(localstripe, processor):
    other = factories.make_member(Company.Role.PROCESSOR)
    setup = client_for(other).post("/api/v1/payments/cards/setup/").json()
    localstripe.confirm_setup(setup["client_secret"])

    response = client_for(processor).post("/api/v1/payments/cards/", {"setup_intent": setup["setup_intent"]})

    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert not SavedCard.objects.exists()


def test_an_unconfirmed_setup_is_refused(localstripe, processor):
    setup = client_for(processor).post("/api/v1/payments/cards/setup/").json()

    response = client_for(processor).post("/api/v1/payments/cards/", {"setup_intent": setup["setup_intent"]})

    assert (response.status_code, response.json()["code"]) == (409, "card_setup_incomplete")
    assert not SavedCard.objects.exists()


def test_only_verified_processors_save_cards(localstripe, collector, pending_user, api):
    assert client_for(collector).post("/api/v1/payments/cards/setup/").json()["code"] == "wrong_role"
    assert client_for(pending_user).post("/api/v1/payments/cards/setup/").json()["code"] == "company_not_verified"
    assert api.post("/api/v1/payments/cards/setup/").status_code == 401
    assert not CardSetup.objects.exists()


def test_stripe_unreachable_is_a_clear_409(localstripe, processor):
    localstripe.stop()

    response = client_for(processor).post("/api/v1/payments/cards/setup/")

    assert response.status_code == 409
    assert response.json()["code"] == "payment_provider_unavailable"
    assert not SavedCard.objects.exists()
