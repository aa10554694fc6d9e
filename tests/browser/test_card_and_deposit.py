"""A processor saves a card through localstripe's Stripe.js card form (confirmCardSetup),
registers for a lot — the deposit is held server-side on the saved card — and can then bid."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Company
from auctions.models import Bid
from payments.models import DepositHold, SavedCard
from recycling import services as lot_services
from tests import factories
from tests.payments.localstripe import localstripe, localstripe_server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What a bid form does: POST the API with the session and the CSRF token of the page.
BID = """async ({url, amount}) => {
  const token = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRFToken": token},
    body: JSON.stringify({amount}),
  });
  return {status: response.status, body: await response.json()};
}"""


def _log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("form.form button[type=submit]")
    expect(page.locator(".nav-user")).to_have_text(username)


def test_a_processor_saves_a_card_registers_and_bids(localstripe, new_page):  # noqa: F811
    collector = factories.make_member(Company.Role.COLLECTOR, username="zhao_collector")
    factories.make_member(Company.Role.PROCESSOR, username="wang_processor")
    now = timezone.now()
    lot = factories.make_lot(
        seller=collector,
        status="pending_review",
        starts_at=now - dt.timedelta(minutes=5),
        ends_at=now + dt.timedelta(hours=2),
        bid_increment=Decimal("50.00"),
    )
    lot_services.lot_review(actor=factories.make_admin(username="coop_li"), lot_id=lot.pk, decision="approve")
    register_url = f"/payments/lots/{lot.pk}/register/"

    page = new_page()
    _log_in(page, "wang_processor")
    page.goto(register_url)
    expect(page.locator("[data-term=deposit-amount]")).to_have_text("¥6,900.00")

    # No card yet: save one with localstripe's Card Element and confirmCardSetup.
    page.click("[data-testid=deposit-save-card]")
    expect(page).to_have_url(re.compile(r"/payments/cards/\?next="))
    card = page.locator("[data-role=card-element]")
    expect(card.locator("input")).to_have_count(5)  # localstripe's fake Card Element
    card.locator("input[placeholder=number]").fill("4242424242424242")
    card.locator("input[placeholder=exp_month]").fill("12")
    card.locator("input[placeholder=exp_year]").fill("34")
    card.locator("input[placeholder=cvc]").fill("123")
    card.locator("input[placeholder=postal_code]").fill("15000")
    page.click("[data-testid=card-save]")

    expect(page).to_have_url(re.compile(rf"{register_url}$"))
    saved = SavedCard.objects.get(company__members__username="wang_processor")
    assert (saved.brand, saved.last4) == ("visa", "4242")

    # Not registered yet: the bid is refused.
    refused = page.evaluate(BID, {"url": f"/api/v1/lots/{lot.pk}/bids/", "amount": "2300.00"})
    assert (refused["status"], refused["body"]["code"]) == (403, "deposit_required")

    page.click("[data-testid=deposit-register]")
    expect(page.locator("[data-testid=deposit-held]")).to_be_visible()
    hold = DepositHold.objects.get(lot=lot)
    assert (hold.status, hold.amount) == ("held", Decimal("6900.00"))
    assert localstripe.get(f"payment_intents/{hold.stripe_payment_intent_id}")["status"] == "requires_capture"

    placed = page.evaluate(BID, {"url": f"/api/v1/lots/{lot.pk}/bids/", "amount": "2300.00"})
    assert placed["status"] == 201, placed
    assert Bid.objects.get(lot=lot).amount == Decimal("2300.00")
