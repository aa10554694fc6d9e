"""Settlement on the weighed quantity (多退少补): gross = unit price × net quantity, plus the
buyer's fee; the captured deposit counts towards it; the balance is charged to the saved card
(or paid after the bank's authentication) or the surplus refunded; the seller's net becomes a
payout due, marked paid by a cooperative admin."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from core.models import AuditEntry
from payments import services
from payments.models import LedgerEntry, PaymentStep, Payout
from payments.services import holds as holds_module
from tests import factories
from tests.payments.helpers import (
    AUTH_REQUIRED,
    bid,
    client_for,
    close,
    hold_of,
    intent,
    localstripe_charge_of,
    register,
    save_card,
    settlement_of,
)

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


@pytest.fixture
def won(localstripe, deposit_lot, processors):
    """won(**terms) -> (lot, winner, loser): a lot awarded at 2300.00/t (30 t, deposit 6900.00)."""

    def make(**terms):
        lot = deposit_lot(**terms)
        winner, loser = processors(2)
        for user in (winner, loser):
            save_card(localstripe, user)
            assert register(user, lot).json()["status"] == "held"
        bid(loser, lot, "2300.00")
        bid(winner, lot, "2350.00")
        assert close(lot).winner_id == winner.company_id
        return lot, winner, loser

    return make


def _ledger(lot):
    return sorted(
        LedgerEntry.objects.filter(lot=lot).exclude(kind__in=("hold", "release")).values_list("kind", "amount")
    )


def test_a_lighter_weighing_refunds_the_surplus_of_the_deposit(localstripe, won, coop_admin, collector):
    lot, winner, _loser = won()

    services.settlement_record_weight(actor=coop_admin, lot_id=lot.pk, net_quantity="2.000", reference="WB-0001")

    settlement = settlement_of(lot)
    # 2350.00 × 2 t = 4700.00; fee 2% = 94.00; total 4794.00; deposit 6900.00 → 2106.00 back.
    assert (settlement.gross, settlement.buyer_fee, settlement.total_due) == (D("4700.00"), D("94.00"), D("4794.00"))
    assert (settlement.deposit_captured, settlement.balance_due, settlement.refund_due) == (
        D("6900.00"),
        D("0.00"),
        D("2106.00"),
    )
    assert (settlement.refunded, settlement.status, settlement.seller_net) == (D("2106.00"), "settled", D("4700.00"))
    refunds = localstripe.get(f"refunds?payment_intent={hold_of(winner, lot).stripe_payment_intent_id}")["data"]
    assert [r["amount"] for r in refunds] == [210600]
    assert _ledger(lot) == [
        ("buyer_fee", D("94.00")),
        ("capture", D("6900.00")),
        ("payout_due", D("4700.00")),
        ("refund", D("2106.00")),
    ]
    payout = Payout.objects.get(lot=lot)
    assert (payout.company_id, payout.amount, payout.status, payout.kind) == (
        collector.company_id,
        D("4700.00"),
        "due",
        "sale",
    )
    body = client_for(winner).get(f"/api/v1/lots/{lot.pk}/settlement/").json()
    assert {k: body[k] for k in ("status", "unit_price", "net_quantity", "gross", "buyer_fee")} == {
        "status": "settled",
        "unit_price": "2350.00",
        "net_quantity": "2.000",
        "gross": "4700.00",
        "buyer_fee": "94.00",
    }
    assert {k: body[k] for k in ("deposit_captured", "balance_due", "refunded", "seller_net")} == {
        "deposit_captured": "6900.00",
        "balance_due": "0.00",
        "refunded": "2106.00",
        "seller_net": "4700.00",
    }
    assert client_for(collector).get(f"/api/v1/lots/{lot.pk}/settlement/").json() == body
    assert AuditEntry.objects.filter(action="payments.weight_recorded", target_id=str(lot.pk)).count() == 1


def test_a_weighing_before_the_capture_captures_only_what_is_due(localstripe, won, coop_admin, monkeypatch):
    """Stripe was down at the close, so the capture is still pending when the weight arrives:
    only the total is captured (a partial capture; Stripe releases the rest), nothing refunded."""
    monkeypatch.setattr(holds_module, "steps_run_soon", lambda ids: None)  # the close's steps wait
    lot, winner, loser = won()
    assert hold_of(winner, lot).status == "held"

    services.settlement_record_weight(actor=coop_admin, lot_id=lot.pk, net_quantity="2", reference="WB-2")
    assert settlement_of(lot).status == "awaiting_payment"
    monkeypatch.undo()
    call_command("reconcile_payments")

    hold = hold_of(winner, lot)
    assert (hold.status, hold.captured_amount) == ("captured", D("4794.00"))
    remote = intent(localstripe, hold.stripe_payment_intent_id)
    assert remote["status"] == "succeeded"
    assert localstripe_charge_of(remote)["amount_refunded"] == 690000 - 479400  # the uncaptured part
    settlement = settlement_of(lot)
    assert (settlement.status, settlement.deposit_captured, settlement.refunded) == ("settled", D("4794.00"), D("0.00"))
    assert _ledger(lot) == [("buyer_fee", D("94.00")), ("capture", D("4794.00")), ("payout_due", D("4700.00"))]
    assert LedgerEntry.objects.get(kind="release", company_id=winner.company_id).amount == D("2106.00")
    assert hold_of(loser, lot).status == "released"


def test_a_heavier_weighing_charges_the_balance_to_the_saved_card(localstripe, won, coop_admin):
    lot, winner, _loser = won()

    services.settlement_record_weight(actor=coop_admin, lot_id=lot.pk, net_quantity="31.5")

    settlement = settlement_of(lot)
    # 2350.00 × 31.5 t = 74025.00; fee 1480.50; total 75505.50; deposit 6900.00 → 68605.50 more.
    assert (settlement.gross, settlement.total_due, settlement.balance_due) == (
        D("74025.00"),
        D("75505.50"),
        D("68605.50"),
    )
    assert (settlement.balance_paid, settlement.charge_status, settlement.status) == (
        D("68605.50"),
        "succeeded",
        "settled",
    )
    charge = intent(localstripe, settlement.charge_intent_id)
    assert (charge["status"], charge["amount"], charge["currency"]) == ("succeeded", 6860550, "cny")
    assert charge["metadata"]["step"] == f"settlement-charge-{settlement.pk}-v1"
    assert _ledger(lot) == [
        ("buyer_fee", D("1480.50")),
        ("capture", D("6900.00")),
        ("charge", D("68605.50")),
        ("payout_due", D("74025.00")),
    ]


def test_a_balance_over_stripes_limit_is_charged_in_instalments(localstripe, won, coop_admin):
    """Stripe takes at most ¥999,999.99 in one CNY payment: a larger balance is several."""
    lot, _winner, _loser = won()

    services.settlement_record_weight(actor=coop_admin, lot_id=lot.pk, net_quantity="900")

    settlement = settlement_of(lot)
    # 2350.00 × 900 t = 2,115,000.00; fee 42,300.00; total 2,157,300.00; deposit 6,900.00.
    assert (settlement.total_due, settlement.balance_due) == (D("2157300.00"), D("2150400.00"))
    assert (settlement.balance_paid, settlement.status) == (D("2150400.00"), "settled")
    charges = LedgerEntry.objects.filter(lot=lot, kind="charge").order_by("pk")
    assert [entry.amount for entry in charges] == [D("999999.99"), D("999999.99"), D("150400.02")]
    paid = [intent(localstripe, entry.stripe_id) for entry in charges]
    assert [(p["status"], p["amount"]) for p in paid] == [
        ("succeeded", 99999999),
        ("succeeded", 99999999),
        ("succeeded", 15040002),
    ]
    assert [p["metadata"]["step"] for p in paid] == [f"settlement-charge-{settlement.pk}-v{n}" for n in (1, 2, 3)]
    assert settlement.charge_attempt == 3


def test_the_bank_asks_to_authenticate_the_balance_then_it_is_paid(localstripe, won, coop_admin):
    lot, winner, _loser = won()
    save_card(localstripe, winner, AUTH_REQUIRED)  # the card now in use asks for 3-D Secure

    services.settlement_record_weight(actor=coop_admin, lot_id=lot.pk, net_quantity="31.5")

    settlement = settlement_of(lot)
    assert (settlement.status, settlement.charge_status) == ("awaiting_payment", "requires_action")
    pay = client_for(winner).post(f"/api/v1/lots/{lot.pk}/settlement/pay/").json()
    assert pay["client_secret"].startswith(settlement.charge_intent_id)
    assert pay["settlement"]["status"] == "awaiting_payment"

    localstripe.authenticate(pay["client_secret"])  # confirmCardPayment on the pay page
    after = client_for(winner).post(f"/api/v1/lots/{lot.pk}/settlement/pay/").json()

    assert after["client_secret"] is None
    assert after["settlement"]["status"] == "settled"
    assert settlement_of(lot).balance_paid == D("68605.50")
    assert LedgerEntry.objects.filter(kind="charge").count() == 1


def test_the_weight_is_recorded_once_and_only_by_the_cooperative(localstripe, won, coop_admin):
    lot, winner, _loser = won()
    api = client_for(winner)
    refused = api.post(f"/api/v1/lots/{lot.pk}/settlement/weight/", {"net_quantity": "2"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "not_cooperative_admin")
    admin = client_for(coop_admin)
    for absurd in ("-1", "1e30", "NaN", "999999999"):  # the last: ¥2.3 trillion, more than it settles
        bad = admin.post(f"/api/v1/lots/{lot.pk}/settlement/weight/", {"net_quantity": absurd}, format="json")
        assert (bad.status_code, bad.json()["code"]) == (400, "invalid_quantity")

    ok = admin.post(f"/api/v1/lots/{lot.pk}/settlement/weight/", {"net_quantity": "30"}, format="json")
    again = admin.post(f"/api/v1/lots/{lot.pk}/settlement/weight/", {"net_quantity": "29"}, format="json")

    assert ok.status_code == 200
    assert ok.json()["net_quantity"] == "30.000"
    assert (again.status_code, again.json()["code"]) == (409, "weight_already_recorded")
    assert settlement_of(lot).net_quantity == D("30.000")


def test_who_sees_the_settlement(localstripe, won, coop_admin):
    lot, winner, loser = won()
    assert client_for(winner).get(f"/api/v1/lots/{lot.pk}/settlement/").json()["status"] == "awaiting_weight"
    assert client_for(coop_admin).get(f"/api/v1/lots/{lot.pk}/settlement/").status_code == 200
    assert client_for(loser).get(f"/api/v1/lots/{lot.pk}/settlement/").status_code == 404
    stranger = factories.make_member()
    assert client_for(stranger).get(f"/api/v1/lots/{lot.pk}/settlement/").status_code == 404


def test_a_payout_is_marked_paid_once_by_a_cooperative_admin(localstripe, won, coop_admin, collector):
    lot, _winner, _loser = won()
    services.settlement_record_weight(actor=coop_admin, lot_id=lot.pk, net_quantity="30")
    payout = Payout.objects.get(lot=lot)
    assert (
        client_for(collector).post(f"/api/v1/payments/payouts/{payout.pk}/paid/", {"reference": "x"}).status_code == 403
    )

    response = client_for(coop_admin).post(
        f"/api/v1/payments/payouts/{payout.pk}/paid/", {"reference": "ICBC-2026-0042"}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["reference"]) == ("paid", "ICBC-2026-0042")
    again = client_for(coop_admin).post(f"/api/v1/payments/payouts/{payout.pk}/paid/", {"reference": "y"})
    assert (again.status_code, again.json()["code"]) == (409, "already_paid")
    assert LedgerEntry.objects.filter(kind="payout_paid", amount=D("70500.00")).count() == 1
    assert AuditEntry.objects.filter(action="payments.payout_paid").count() == 1
    listed = client_for(coop_admin).get("/api/v1/payments/payouts/?status=paid").json()
    assert [p["id"] for p in listed] == [payout.pk]
    assert PaymentStep.objects.filter(status="pending").count() == 0
