"""Default: a winner that has not paid by the deadline forfeits its deposit (half credited to
the seller), the lot can be re-offered to the runner-up or re-listed, and the company gets a
strike; two strikes within a year ban it from bidding for 90 days, until an admin reverses one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from auctions.models import LotEvent
from auctions.selectors import ledger_verify
from core.models import AuditEntry, Notification
from payments import services
from payments.models import CompanyStanding, LedgerEntry, Payout, Settlement, Strike
from payments.services.common import BAN_LENGTH
from recycling.models import Lot
from tests.payments.helpers import CHARGE_DECLINED, bid, client_for, close, hold_of, register, save_card, settlement_of

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


@pytest.fixture
def unpaid(localstripe, deposit_lot, processors, coop_admin):
    """unpaid() -> (lot, winner, runner_up): awarded at 2350.00, weighed heavier, and the
    balance refused by the winner's card."""

    def make():
        lot, winner, runner_up = _awarded(localstripe, deposit_lot, processors)
        save_card(localstripe, winner, CHARGE_DECLINED)
        services.settlement_record_weight(actor=coop_admin, lot_id=lot.pk, net_quantity="30")
        settlement = settlement_of(lot)
        assert (settlement.status, settlement.charge_status) == ("awaiting_payment", "failed")
        return lot, winner, runner_up

    return make


def _awarded(localstripe, deposit_lot, processors):
    """(lot, winner, runner_up): both registered with a card, awarded at 2350.00 over 2300.00."""
    lot = deposit_lot()
    winner, runner_up = processors(2)
    for user in (winner, runner_up):
        save_card(localstripe, user)
        register(user, lot)
    bid(runner_up, lot, "2300.00")
    bid(winner, lot, "2350.00")
    close(lot)
    return lot, winner, runner_up


def _past_deadline(lot):
    Settlement.objects.filter(lot=lot).update(payment_due_at=timezone.now() - dt.timedelta(minutes=1))


def test_not_paid_by_the_deadline_forfeits_the_deposit_and_gives_a_strike(unpaid, collector):
    lot, winner, _runner_up = unpaid()
    assert services.payments_tick()["defaulted"] == 0  # not yet: the deadline has not passed
    _past_deadline(lot)

    assert services.payments_tick()["defaulted"] == 1

    settlement = Settlement.objects.get(lot=lot, buyer=winner.company)
    assert settlement.status == "defaulted"
    assert hold_of(winner, lot).status == "forfeited"
    assert client_for(winner).get(f"/api/v1/lots/{lot.pk}/deposit/").json()["status"] == "forfeited"
    assert sorted(LedgerEntry.objects.filter(kind__in=("forfeit", "seller_credit")).values_list("kind", "amount")) == [
        ("forfeit", D("6900.00")),
        ("seller_credit", D("3450.00")),
    ]
    payout = Payout.objects.get(lot=lot)
    assert (payout.kind, payout.amount, payout.company_id) == ("forfeit_share", D("3450.00"), collector.company_id)
    strike = Strike.objects.get(company=winner.company)
    assert strike.lot_id == lot.pk
    assert Notification.objects.filter(user=winner, kind="settlement_defaulted").count() == 1
    assert Notification.objects.filter(user=collector, kind="settlement_defaulted").count() == 1
    assert services.payments_tick()["defaulted"] == 0  # once


def test_the_lot_is_re_offered_to_the_runner_up(unpaid, coop_admin):
    lot, winner, runner_up = unpaid()
    _past_deadline(lot)
    services.payments_tick()

    response = client_for(coop_admin).post(f"/api/v1/lots/{lot.pk}/settlement/reoffer/")

    assert response.status_code == 200
    lot.refresh_from_db()
    assert (lot.status, lot.winner_id, lot.final_price) == ("awarded", runner_up.company_id, D("2300.00"))
    settlement = settlement_of(lot)
    assert (settlement.buyer_id, settlement.unit_price, settlement.status) == (
        runner_up.company_id,
        D("2300.00"),
        "awaiting_weight",
    )
    assert LotEvent.objects.filter(lot=lot).order_by("-seq").first().payload["reoffered"] is True
    assert ledger_verify(lot_id=lot.pk) == []
    assert Notification.objects.filter(user=runner_up, kind="lot_reoffered").count() == 1
    again = client_for(coop_admin).post(f"/api/v1/lots/{lot.pk}/settlement/reoffer/")
    assert (again.status_code, again.json()["code"]) == (409, "not_defaulted")
    # The defaulted buyer still sees its own (defaulted) settlement.
    assert client_for(winner).get(f"/api/v1/lots/{lot.pk}/settlement/").json()["status"] == "defaulted"


def test_the_lot_can_be_re_listed_as_a_new_draft(unpaid, coop_admin, collector):
    lot, _winner, _runner_up = unpaid()
    _past_deadline(lot)
    services.payments_tick()
    starts = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0)

    response = client_for(coop_admin).post(
        f"/api/v1/lots/{lot.pk}/settlement/relist/",
        {"starts_at": starts.isoformat(), "ends_at": (starts + dt.timedelta(days=1)).isoformat()},
        format="json",
    )

    assert response.status_code == 201
    draft = Lot.objects.get(pk=response.json()["id"])
    assert (draft.status, draft.seller_id, draft.title, draft.starts_at) == (
        "draft",
        collector.company_id,
        lot.title,
        starts,
    )


def test_two_strikes_ban_bidding_for_90_days_and_an_admin_can_reverse_one(localstripe, unpaid, deposit_lot, coop_admin):
    first, winner, _ = unpaid()
    _past_deadline(first)
    services.payments_tick()
    assert services.bidding_ban_check(winner.company) is None  # one strike: no ban
    second_lot = deposit_lot()
    register(winner, second_lot)  # the declining card is in use: the hold fails
    strike = services.strike_add(company_id=winner.company_id, lot=second_lot, reason="Did not collect the goods.")

    standing = CompanyStanding.objects.get(company=winner.company)
    assert standing.banned_until == strike.created_at + BAN_LENGTH
    refused = bid(winner, second_lot, "2300.00")
    assert (refused.status_code, refused.json()["code"]) == (403, "bidding_banned")
    assert client_for(winner).post(f"/api/v1/lots/{second_lot.pk}/deposit/").json()["code"] == "bidding_banned"
    listed = client_for(coop_admin).get(f"/api/v1/payments/strikes/?company={winner.company_id}").json()
    assert len(listed) == 2
    assert listed[0]["company_banned_until"] is not None
    no_reason = client_for(coop_admin).post(f"/api/v1/payments/strikes/{strike.pk}/reverse/", {"reason": " "})
    assert (no_reason.status_code, no_reason.json()["code"]) == (400, "reason_required")

    response = client_for(coop_admin).post(
        f"/api/v1/payments/strikes/{strike.pk}/reverse/", {"reason": "承运车辆故障，非买方原因"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["active"] is False
    assert CompanyStanding.objects.get(company=winner.company).banned_until is None
    entry = AuditEntry.objects.get(action="payments.strike_reverse")
    assert (entry.reason, entry.actor_id) == ("承运车辆故障，非买方原因", coop_admin.pk)
    assert bid(winner, second_lot, "2300.00").json()["code"] == "deposit_required"  # banned no more


def test_only_admins_declare_default_and_with_a_reason(unpaid, coop_admin):
    lot, winner, _ = unpaid()
    assert client_for(winner).post(f"/api/v1/lots/{lot.pk}/settlement/default/", {"reason": "x"}).status_code == 403
    blank = client_for(coop_admin).post(f"/api/v1/lots/{lot.pk}/settlement/default/", {"reason": ""})
    assert (blank.status_code, blank.json()["code"]) == (400, "reason_required")

    response = client_for(coop_admin).post(f"/api/v1/lots/{lot.pk}/settlement/default/", {"reason": "拒绝提货"})

    assert (response.status_code, response.json()["status"]) == (200, "defaulted")
    assert Strike.objects.get(company=winner.company).reason == "拒绝提货"


def test_a_default_after_an_instalment_refunds_what_was_paid(
    localstripe, deposit_lot, processors, coop_admin, monkeypatch
):
    """A balance paid in instalments (over Stripe's limit for one payment, made small here):
    the first is paid, the card refuses the second, the deadline passes. The deposit is
    forfeited as always; the instalment goes back to the buyer."""
    from payments import stripe_client
    from payments.services import charges as charges_module

    monkeypatch.setattr(stripe_client, "MAX_AMOUNT", D("50000.00"))
    lot, winner, _runner_up = _awarded(localstripe, deposit_lot, processors)
    real, calls = charges_module.run_charge_create, []

    def second_refused(step):
        calls.append(step.amount)
        if len(calls) == 2:
            save_card(localstripe, winner, CHARGE_DECLINED)  # the card's limit is reached
        real(step)

    monkeypatch.setattr(charges_module, "run_charge_create", second_refused)
    services.settlement_record_weight(actor=coop_admin, lot_id=lot.pk, net_quantity="31.5")  # 68,605.50 due

    settlement = settlement_of(lot)
    assert calls == [D("50000.00"), D("18605.50")]
    assert (settlement.status, settlement.charge_status, settlement.balance_paid) == (
        "awaiting_payment",
        "failed",
        D("50000.00"),
    )
    first = LedgerEntry.objects.get(lot=lot, kind="charge")

    _past_deadline(lot)
    assert services.payments_tick()["defaulted"] == 1

    settlement.refresh_from_db()
    assert (settlement.status, settlement.refunded) == ("defaulted", D("50000.00"))
    assert hold_of(winner, lot).status == "forfeited"
    refund = LedgerEntry.objects.get(lot=lot, kind="refund")
    assert (refund.amount, refund.company_id) == (D("50000.00"), winner.company_id)
    found = stripe_client.refund_find(
        payment_intent=first.stripe_id, step_key=f"settlement-default-refund-{settlement.pk}-{first.stripe_id}"
    )
    assert found == (refund.stripe_id, D("50000.00"))
    notice = Notification.objects.get(user=winner, kind="settlement_defaulted")
    assert "50,000.00" in notice.body
    assert services.payments_tick()["defaulted"] == 0  # once
    assert LedgerEntry.objects.filter(lot=lot, kind="refund").count() == 1


def _default_while_charging(monkeypatch, lot, coop_admin, *, then=None):
    """An admin declares the default while the balance charge is on its way to Stripe: after the
    charge step has read the settlement, before Stripe answers. `then(real, kwargs)` makes the
    call (default: the real one)."""
    from payments import stripe_client

    real = stripe_client.intent_create

    def default_first(**kwargs):
        services.settlement_default(
            settlement_id=Settlement.objects.get(lot=lot).pk, actor=coop_admin, reason="拒绝提货"
        )
        return then(real, kwargs) if then else real(**kwargs)

    monkeypatch.setattr(stripe_client, "intent_create", default_first)


def test_a_charge_that_succeeds_after_an_admin_default_is_refunded(
    localstripe, deposit_lot, processors, coop_admin, monkeypatch
):
    lot, winner, _runner_up = _awarded(localstripe, deposit_lot, processors)
    _default_while_charging(monkeypatch, lot, coop_admin)

    services.settlement_record_weight(actor=coop_admin, lot_id=lot.pk, net_quantity="31.5")  # 68,605.50 due

    settlement = Settlement.objects.get(lot=lot)
    assert (settlement.status, settlement.balance_paid, settlement.refunded) == (
        "defaulted",
        D("68605.50"),
        D("68605.50"),
    )
    charge = LedgerEntry.objects.get(lot=lot, kind="charge")
    refund = LedgerEntry.objects.get(lot=lot, kind="refund")
    assert (charge.amount, refund.amount, refund.company_id) == (D("68605.50"), D("68605.50"), winner.company_id)
    from payments import stripe_client

    assert stripe_client.refund_find(
        payment_intent=charge.stripe_id, step_key=f"settlement-default-refund-{settlement.pk}-{charge.stripe_id}"
    ) == (refund.stripe_id, D("68605.50"))
    assert hold_of(winner, lot).status == "forfeited"  # the default itself stands
    notice = Notification.objects.get(user=winner, kind="settlement_charge_refunded")
    assert "68,605.50" in notice.title


def test_a_charge_waiting_for_the_bank_after_an_admin_default_is_cancelled(
    localstripe, deposit_lot, processors, coop_admin, monkeypatch
):
    from tests.payments.helpers import AUTH_REQUIRED, intent

    lot, winner, _runner_up = _awarded(localstripe, deposit_lot, processors)
    save_card(localstripe, winner, AUTH_REQUIRED)
    _default_while_charging(monkeypatch, lot, coop_admin)

    services.settlement_record_weight(actor=coop_admin, lot_id=lot.pk, net_quantity="31.5")

    settlement = Settlement.objects.get(lot=lot)
    assert (settlement.status, settlement.charge_status, settlement.balance_paid) == (
        "defaulted",
        "canceled",
        D("0.00"),
    )
    assert intent(localstripe, settlement.charge_intent_id)["status"] == "canceled"
    assert not Notification.objects.filter(user=winner, kind="settlement_requires_action").exists()
    assert not LedgerEntry.objects.filter(lot=lot, kind__in=("charge", "refund")).exists()


def test_a_charge_whose_answer_was_lost_before_a_default_is_found_and_refunded(
    localstripe, deposit_lot, processors, coop_admin, monkeypatch
):
    """Stripe took the money but the answer never arrived; the admin defaults the buyer; the
    step's retry looks the charge up instead of calling it not needed."""
    from payments.models import PaymentStep
    from payments.stripe_client import ProviderUnavailable

    lot, winner, _runner_up = _awarded(localstripe, deposit_lot, processors)

    def answer_lost(real, kwargs):
        real(**kwargs)
        raise ProviderUnavailable("read timed out")

    _default_while_charging(monkeypatch, lot, coop_admin, then=answer_lost)
    services.settlement_record_weight(actor=coop_admin, lot_id=lot.pk, net_quantity="31.5")
    step = PaymentStep.objects.get(kind="charge_create")
    assert (step.status, Settlement.objects.get(lot=lot).status) == ("pending", "defaulted")
    assert not LedgerEntry.objects.filter(lot=lot, kind="charge").exists()

    assert services.steps_run([step.pk], force=True)["done"] == 1

    settlement = Settlement.objects.get(lot=lot)
    assert (settlement.balance_paid, settlement.refunded) == (D("68605.50"), D("68605.50"))
    assert LedgerEntry.objects.filter(lot=lot, kind="refund").count() == 1
    step.refresh_from_db()
    assert step.outcome == "refunded_after_default"
