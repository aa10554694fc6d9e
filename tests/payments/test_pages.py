"""The pages: the lot page's deposit panel (templates/payments/_lot_terms.html), the card page
(Stripe.js from STRIPE_JS_URL), the printable statement and the cooperative's desk."""

from __future__ import annotations

import pytest
from django.template import engines
from django.test import RequestFactory
from django.utils import translation

from payments import services
from tests.payments.helpers import bid, close, register, save_card

pytestmark = pytest.mark.django_db(transaction=True)


def _panel(lot, user) -> str:
    request = RequestFactory().get(f"/lots/{lot.pk}/")
    request.user = user
    template = engines["django"].from_string('{% include "payments/_lot_terms.html" %}')
    return template.render({"lot": lot}, request)


def test_the_terms_are_shown_before_anyone_registers(localstripe, deposit_lot):
    from django.contrib.auth.models import AnonymousUser

    lot = deposit_lot()

    html = _panel(lot, AnonymousUser())

    assert 'data-term="deposit-amount">¥6,900.00<' in html
    assert "成交后 3 天" in html  # zh-Hans, the platform's language
    with translation.override("en"):
        assert "3 days after the award" in _panel(lot, AnonymousUser())
    assert 'data-term="pickup-deadline"' in html
    assert "deposit-register" not in html


def test_a_processor_is_asked_for_a_card_then_to_register_then_told_it_may_bid(localstripe, deposit_lot, processor):
    lot = deposit_lot()
    assert 'data-testid="deposit-save-card"' in _panel(lot, processor)
    save_card(localstripe, processor)
    assert 'data-testid="deposit-register"' in _panel(lot, processor)
    register(processor, lot)
    assert 'data-testid="deposit-held"' in _panel(lot, processor)


def test_the_card_page_loads_stripe_js_from_the_setting(localstripe, client, processor):
    client.force_login(processor)

    html = client.get("/payments/cards/").content.decode()

    assert f'<script src="{localstripe.js_url}"></script>' in html
    assert 'data-key="pk_test_local"' in html
    assert 'data-setup-url="/api/v1/payments/cards/setup/"' in html


def test_the_statement_is_printable_and_private(localstripe, client, deposit_lot, processors, coop_admin, collector):
    lot = deposit_lot()
    winner, loser = processors(2)
    for user in (winner, loser):
        save_card(localstripe, user)
        register(user, lot)
    bid(loser, lot, "2300.00")
    bid(winner, lot, "2350.00")
    close(lot)
    services.settlement_record_weight(actor=coop_admin, lot_id=lot.pk, net_quantity="2")

    for user in (winner, collector, coop_admin):
        client.force_login(user)
        response = client.get(f"/payments/lots/{lot.pk}/statement/")
        html = response.content.decode()
        assert response.status_code == 200
        assert 'href="/static/css/payments.css"' in html
        assert 'data-amount="gross">¥4,700.00<' in html
        assert 'data-amount="refunded">¥2,106.00<' in html
        assert 'data-amount="seller_net">¥4,700.00<' in html
    assert 'data-testid="ledger"' in html  # the cooperative sees the ledger too
    client.force_login(loser)
    assert client.get(f"/payments/lots/{lot.pk}/statement/").status_code == 404


def test_the_desk_is_for_cooperative_admins(localstripe, client, coop_admin, processor):
    client.force_login(processor)
    assert client.get("/payments/desk/").status_code == 403
    client.force_login(coop_admin)
    response = client.get("/payments/desk/")
    assert response.status_code == 200
    assert 'data-testid="desk-payouts"' in response.content.decode()
