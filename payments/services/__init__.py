"""Every write of the payments domain. Import from here: `from payments.services import
deposit_hold_check`. The modules: cards (saved cards), holds (deposits), settlement (weighed
settlement and payouts), charges (the balance charge and the surplus refund), defaults
(forfeits, re-offer, re-list), strikes (bans), webhooks, steps (running recorded Stripe calls),
tick (the clock's round and reconcile_payments)."""

from payments.services.cards import card_setup_complete, card_setup_start, payment_profile_ensure
from payments.services.charges import charge_sync, settlement_pay
from payments.services.defaults import (
    settlement_default,
    settlement_relist,
    settlement_reoffer,
    settlements_default_due,
)
from payments.services.holds import (
    deposit_hold_check,
    deposit_register,
    hold_client_secret,
    hold_sync,
    holds_renew_due,
    lot_money_after_close,
    lot_money_schedule,
)
from payments.services.settlement import (
    lot_payment_terms_set,
    payout_mark_paid,
    settlement_progress,
    settlement_record_weight,
)
from payments.services.steps import step_run, steps_inline, steps_run
from payments.services.strikes import STORED_BAN_FIELD, STORED_BAN_SQL, bidding_ban_check, strike_add, strike_reverse
from payments.services.tick import payments_clock_tick, payments_reconcile, payments_tick
from payments.services.webhooks import webhook_receive

__all__ = [
    "STORED_BAN_FIELD",
    "STORED_BAN_SQL",
    "bidding_ban_check",
    "card_setup_complete",
    "card_setup_start",
    "charge_sync",
    "deposit_hold_check",
    "deposit_register",
    "hold_client_secret",
    "hold_sync",
    "holds_renew_due",
    "lot_money_after_close",
    "lot_money_schedule",
    "lot_payment_terms_set",
    "payment_profile_ensure",
    "payments_clock_tick",
    "payments_reconcile",
    "payments_tick",
    "payout_mark_paid",
    "settlement_default",
    "settlement_pay",
    "settlement_progress",
    "settlement_record_weight",
    "settlement_reoffer",
    "settlement_relist",
    "settlements_default_due",
    "step_run",
    "steps_inline",
    "steps_run",
    "strike_add",
    "strike_reverse",
    "webhook_receive",
]
