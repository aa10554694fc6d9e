"""Default (违约): a buyer that has not paid by the payment deadline forfeits its deposit.

Rule of the forfeit: the captured deposit is kept; DEPOSIT_FORFEIT_SELLER_SHARE of it (default
50%) is credited to the seller as a payout due, for the lost sale and the relisting; the rest
stays with the cooperative. The buyer gets a strike (see strikes.py). A cooperative admin then
re-offers the lot to the runner-up at its own best bid, or re-lists it as a new draft.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Company, User
from accounts.services import require_cooperative_admin
from auctions.events import append_event
from auctions.models import Bid, LotEvent
from core.errors import conflict, not_found
from core.services import audit_record
from payments.models import DepositHold, LedgerEntry, PaymentStep, Payout, Settlement
from payments.services.common import (
    ZERO_MONEY,
    ledger_add,
    money,
    notify_admins,
    notify_company,
    payment_days,
    step_record,
    url_or_empty,
)
from payments.services.settlement import payout_due
from payments.services.steps import steps_run_soon
from payments.services.strikes import banned_until, strike_add
from recycling.models import Lot
from recycling.services import lock_lot

log = logging.getLogger("payments.defaults")
Status = Settlement.Status


def settlement_default(*, settlement_id: int, actor: Any = None, reason: str) -> Settlement:
    """Declare the buyer in default: by the clock at the deadline (actor None), or by a
    cooperative admin (e.g. the buyer never collected the goods)."""
    if actor is not None:
        require_cooperative_admin(actor)
    ids: list[int] = []
    with transaction.atomic():
        lot_id = Settlement.objects.values_list("lot_id", flat=True).filter(pk=settlement_id).first()
        if lot_id is None:
            raise not_found(_("No such settlement."))
        lot = lock_lot(lot_id)
        settlement = Settlement.objects.select_for_update().get(pk=settlement_id)
        if settlement.status in (Status.SETTLED, Status.DEFAULTED, Status.REFUND_PENDING):
            raise conflict(
                "bad_transition", _("A %(s)s settlement cannot default.") % {"s": settlement.get_status_display()}
            )
        hold = DepositHold.objects.select_for_update().filter(pk=settlement.hold_id).first()
        if hold is not None and hold.status == DepositHold.Status.HELD:
            raise conflict("capture_pending", _("The deposit is still being captured; try again shortly."))
        now = timezone.now()
        settlement.status, settlement.defaulted_at = Status.DEFAULTED, now
        forfeited = (
            hold.captured_amount if hold is not None and hold.status == DepositHold.Status.CAPTURED else ZERO_MONEY
        )
        share = ZERO_MONEY
        if forfeited > 0:
            hold.status = DepositHold.Status.FORFEITED
            hold.save(update_fields=["status", "updated_at"])
            ledger_add(
                key=f"forfeit:{settlement.pk}",
                kind=LedgerEntry.Kind.FORFEIT,
                lot_id=lot.pk,
                company_id=settlement.buyer_id,
                amount=forfeited,
                stripe_id=hold.stripe_payment_intent_id,
            )
            share = money(forfeited * settings.DEPOSIT_FORFEIT_SELLER_SHARE)
            ledger_add(
                key=f"seller-credit:{settlement.pk}",
                kind=LedgerEntry.Kind.SELLER_CREDIT,
                lot_id=lot.pk,
                company_id=settlement.seller_id,
                amount=share,
            )
            payout_due(settlement=settlement, kind=Payout.Kind.FORFEIT_SHARE, amount=share)
        # Instalments of a balance larger than one payment (settlement_progress) that were
        # paid go back to the buyer: a default forfeits the deposit, not what was paid on top.
        paid = LedgerEntry.objects.filter(
            kind=LedgerEntry.Kind.CHARGE, lot_id=lot.pk, company_id=settlement.buyer_id
        ).order_by("pk")
        for entry in paid:
            ids.append(
                step_record(
                    kind=PaymentStep.Kind.REFUND_CREATE,
                    key=f"settlement-default-refund-{settlement.pk}-{entry.stripe_id}",
                    settlement=settlement,
                    amount=entry.amount,
                    payment_intent_id=entry.stripe_id,
                ).pk
            )
        if settlement.charge_intent_id and settlement.charge_status in ("requires_action", "failed", "processing"):
            ids.append(
                step_record(
                    kind=PaymentStep.Kind.CHARGE_CANCEL,
                    key=f"settlement-charge-cancel-{settlement.pk}-v{settlement.charge_attempt}",
                    settlement=settlement,
                    attempt=settlement.charge_attempt,
                    payment_intent_id=settlement.charge_intent_id,
                ).pk
            )
        settlement.save()
        strike_add(company_id=settlement.buyer_id, lot=lot, reason=reason, actor=actor)
        audit_record(
            actor=actor,
            action="payments.default",
            target_type="lot",
            target_id=lot.pk,
            target_label=lot.code or "",
            before={"settlement": settlement.pk},
            after={"status": "defaulted", "forfeited": f"{forfeited:.2f}", "seller_share": f"{share:.2f}"},
            reason=reason,
        )
        url = url_or_empty("payments:statement", lot.pk)
        body = reason
        if settlement.balance_paid > 0:
            body = f"{reason} " + _("The ¥%(paid)s already paid is refunded to your card.") % {
                "paid": f"{settlement.balance_paid:,.2f}"
            }
        notify_company(
            settlement.buyer_id,
            kind="settlement_defaulted",
            title=_("You defaulted on %(code)s: the deposit of ¥%(amount)s is forfeited")
            % {"code": lot.code, "amount": f"{forfeited:,.2f}"},
            body=body,
            url=url,
        )
        notify_company(
            settlement.seller_id,
            kind="settlement_defaulted",
            title=_("The buyer of %(code)s defaulted") % {"code": lot.code},
            body=_(
                "¥%(share)s of the forfeited deposit is credited to you; "
                "the cooperative will re-offer or re-list the lot."
            )
            % {"share": f"{share:,.2f}"},
            url=url,
        )
        notify_admins(
            kind="settlement_defaulted",
            title=_("%(code)s: the buyer defaulted — re-offer it to the runner-up or re-list it") % {"code": lot.code},
            url=url_or_empty("payments:admin_settlements"),
        )
    transaction.on_commit(lambda: steps_run_soon(ids))
    return settlement


def settlements_default_due(*, now: dt.datetime | None = None) -> list[int]:
    """The clock's default check: unpaid past the deadline, nothing still in flight."""
    now = now or timezone.now()
    done: list[int] = []
    due = Settlement.objects.filter(status=Status.AWAITING_PAYMENT, payment_due_at__lt=now).order_by("payment_due_at")
    for settlement in due[:100]:
        if settlement.charge_status in ("pending", "processing"):
            continue
        if settlement.steps.filter(status=PaymentStep.Status.PENDING).exists():
            continue
        try:
            settlement_default(settlement_id=settlement.pk, reason=_("Not paid by the payment deadline."))
        except Exception:
            log.exception("default of settlement %s failed; retried next round", settlement.pk)
            continue
        done.append(settlement.pk)
    return done


def settlement_reoffer(*, actor: Any, lot_id: int) -> Settlement:
    """Offer a defaulted lot to the runner-up at its own best bid (the next company down that
    has not defaulted on it and may bid)."""
    require_cooperative_admin(actor)
    with transaction.atomic():
        lot = lock_lot(lot_id)
        if lot.status != Lot.Status.AWARDED:
            raise conflict("not_awarded", _("Only an awarded lot can be re-offered."))
        if Settlement.objects.filter(lot=lot).exclude(status=Status.DEFAULTED).exists():
            raise conflict("not_defaulted", _("The current buyer has not defaulted."))
        out = set(Settlement.objects.filter(lot=lot).values_list("buyer_id", flat=True))
        runner = None
        for bid in Bid.objects.filter(lot=lot).exclude(bidder_id__in=out).order_by("-amount", "ranked_at", "seq"):
            if bid.bidder_id in out:
                continue
            out.add(bid.bidder_id)
            company = Company.objects.get(pk=bid.bidder_id)
            if company.status == Company.Status.VERIFIED and banned_until(company) is None:
                runner = bid
                break
        if runner is None:
            raise conflict("no_runner_up", _("No other bidder can take this lot: re-list it."))
        before = {"winner": lot.winner_id, "final_price": f"{lot.final_price:.2f}"}
        lot.winner_id, lot.final_price = runner.bidder_id, runner.amount
        append_event(
            lot,
            LotEvent.Type.STATUS,
            {
                "status": lot.status,
                "reoffered": True,
                "winner_no": runner.bidder_no,
                "final_price": f"{runner.amount:.2f}",
            },
        )
        lot.save(update_fields=["winner", "final_price", "seq", "ledger_head", "updated_at"])
        settlement = Settlement.objects.create(
            lot=lot,
            buyer_id=runner.bidder_id,
            seller_id=lot.seller_id,
            unit_price=runner.amount,
            buyer_fee_rate=settings.BUYER_FEE_RATE,
            seller_fee_rate=settings.SELLER_FEE_RATE,
            payment_due_at=timezone.now() + dt.timedelta(days=payment_days(lot)),
        )
        audit_record(
            actor=actor,
            action="payments.reoffer",
            target_type="lot",
            target_id=lot.pk,
            target_label=lot.code or "",
            before=before,
            after={"winner": lot.winner_id, "final_price": f"{lot.final_price:.2f}"},
        )
        notify_company(
            runner.bidder_id,
            kind="lot_reoffered",
            title=_("%(code)s is offered to you at your bid of ¥%(price)s")
            % {"code": lot.code, "price": f"{runner.amount:,.2f}"},
            body=_("The first buyer defaulted. Arrange pickup; the amount is settled on the weighed quantity."),
            url=url_or_empty("recycling:lot_detail", lot.pk),
        )
    return settlement


def settlement_relist(*, actor: Any, lot_id: int, starts_at: dt.datetime, ends_at: dt.datetime) -> Lot:
    """Re-list a defaulted lot: a new draft with the same terms for its seller, who reviews and
    submits it (pickup window shifted with the new schedule)."""
    from recycling.services import TERM_FIELDS, lot_create

    require_cooperative_admin(actor)
    lot = Lot.objects.filter(pk=lot_id).first()
    if lot is None:
        raise not_found(_("No such lot."))
    if not Settlement.objects.filter(lot=lot, status=Status.DEFAULTED).exists() or (
        Settlement.objects.filter(lot=lot).exclude(status=Status.DEFAULTED).exists()
    ):
        raise conflict("not_defaulted", _("Only a lot whose buyer defaulted can be re-listed."))
    member = User.objects.filter(company_id=lot.seller_id, is_active=True).order_by("pk").first()
    if member is None:
        raise conflict("no_seller_account", _("The seller has no active account."))
    terms = {name: getattr(lot, name) for name in TERM_FIELDS}
    shift = ends_at - lot.scheduled_end
    terms.update(
        starts_at=starts_at,
        ends_at=ends_at,
        pickup_from=lot.pickup_from + shift,
        pickup_until=lot.pickup_until + shift,
    )
    with transaction.atomic():
        draft = lot_create(actor=member, **terms)
        audit_record(
            actor=actor,
            action="payments.relist",
            target_type="lot",
            target_id=lot.pk,
            target_label=lot.code or "",
            after={"new_lot": draft.pk, "new_code": draft.code},
        )
        notify_company(
            lot.seller_id,
            kind="lot_relisted",
            title=_("%(code)s was re-listed as draft %(new)s") % {"code": lot.code, "new": draft.code},
            body=_("Check the terms and submit it for review."),
            url=url_or_empty("recycling:lot_detail", draft.pk),
        )
    return draft
