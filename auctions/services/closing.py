"""Opening and closing: lot_open (scheduled → live), lot_close (live → awarded | unsold, with
the reason and the notices), and due_lot_ids, the auction clock's work list."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from auctions.events import append_event
from auctions.models import Bid, LotEvent
from auctions.services.bidding import _leader
from core.services import notify
from payments.services import lot_money_after_close
from recycling.models import Lot
from recycling.services import lock_lot


def lot_open(*, lot_id: int, now: dt.datetime | None = None) -> Lot | None:
    """scheduled → live once `starts_at` has come; None when there is nothing to do."""
    with transaction.atomic():
        lot = lock_lot(lot_id)
        now = now or timezone.now()
        if lot.status != Lot.Status.SCHEDULED or lot.starts_at > now:
            return None
        lot.status = Lot.Status.LIVE
        append_event(lot, LotEvent.Type.OPENED, {"status": lot.status}, at=now)
        lot.save(update_fields=["status", "seq", "ledger_head", "updated_at"])
        return lot


def lot_close(*, lot_id: int, now: dt.datetime | None = None) -> Lot | None:
    """live → awarded | unsold at `ends_at`, exactly once: under the lot's lock the status is
    checked again, so a second clock (or a retry after a crash) finds nothing to do."""
    with transaction.atomic():
        lot = lock_lot(lot_id)
        now = now or timezone.now()
        if lot.status != Lot.Status.LIVE or lot.ends_at > now:
            return None
        top = _leader(lot)
        bidders = Bid.objects.filter(lot=lot).values("bidder_id").distinct().count()
        reserve_ok = top is not None and (lot.reserve_price is None or top.amount >= lot.reserve_price)
        if top is not None and reserve_ok and bidders >= lot.min_bidders:
            lot.status = Lot.Status.AWARDED
            lot.winner_id = top.bidder_id
            lot.final_price = top.amount
            lot.current_price = top.amount
        else:
            lot.status = Lot.Status.UNSOLD
            if lot.format == Lot.Format.SEALED and top is not None:
                lot.current_price = top.amount
        lot.closed_at = now
        reason = "" if lot.status == Lot.Status.AWARDED else _unsold_reason(top, reserve_ok, bidders, lot)
        append_event(
            lot,
            LotEvent.Type.CLOSED,
            {
                "status": lot.status,
                "final_price": None if lot.final_price is None else f"{lot.final_price:.2f}",
                "winner_no": top.bidder_no if lot.status == Lot.Status.AWARDED else None,
                "bidders": bidders,
                "reason": reason,
            },
            at=now,
        )
        lot.save(
            update_fields=[
                "status",
                "winner",
                "final_price",
                "current_price",
                "closed_at",
                "seq",
                "ledger_head",
                "updated_at",
            ]
        )
        _notify_close(lot, reason)
        # Release the losers' deposits, capture the winner's: after the commit, never in it.
        transaction.on_commit(lambda: lot_money_after_close(lot_id=lot.pk))
        return lot


def _unsold_reason(top: Bid | None, reserve_ok: bool, bidders: int, lot: Lot) -> str:
    if top is None:
        return "no_bids"
    if not reserve_ok:
        return "reserve_not_met"
    return "min_bidders_not_met"


UNSOLD_REASONS = {
    "no_bids": gettext_lazy("Nobody bid."),
    "reserve_not_met": gettext_lazy("The highest bid stayed below your reserve price."),
    "min_bidders_not_met": gettext_lazy("Fewer companies bid than the lot's minimum number of bidders."),
}


def _notify_close(lot: Lot, reason: str = "") -> None:
    from accounts.models import User

    url = reverse("recycling:lot_detail", args=[lot.pk])
    seller_users = User.objects.filter(company_id=lot.seller_id)
    if lot.status == Lot.Status.AWARDED:
        price = {"code": lot.code, "price": f"{lot.final_price:,.2f}", "unit": lot.get_unit_display()}
        notify(
            users=seller_users,
            kind="lot_awarded",
            title=_("Your lot %(code)s was sold at ¥%(price)s per %(unit)s") % price,
            url=url,
        )
        notify(
            users=User.objects.filter(company_id=lot.winner_id),
            kind="auction_won",
            title=_("You won %(code)s at ¥%(price)s per %(unit)s") % price,
            body=_("Arrange payment and pickup from the lot page."),
            url=url,
        )
        losers = Bid.objects.filter(lot=lot).exclude(bidder_id=lot.winner_id).values("bidder_id")
        notify(
            users=User.objects.filter(company_id__in=losers),
            kind="auction_lost",
            title=_("Auction %(code)s closed; another bidder won") % {"code": lot.code},
            url=url,
        )
    else:
        notify(
            users=seller_users,
            kind="lot_unsold",
            title=_("Your lot %(code)s closed unsold") % {"code": lot.code},
            body=UNSOLD_REASONS.get(reason, ""),
            url=url,
        )
        bidders = Bid.objects.filter(lot=lot).values("bidder_id")
        notify(
            users=User.objects.filter(company_id__in=bidders),
            kind="auction_lost",
            title=_("Auction %(code)s closed without a sale") % {"code": lot.code},
            url=url,
        )


def due_lot_ids(*, now: dt.datetime, limit: int = 100) -> tuple[list[int], list[int]]:
    """Lots to open and to close now (the clock's work list)."""
    to_open = list(
        Lot.objects.filter(status=Lot.Status.SCHEDULED, starts_at__lte=now)
        .order_by("starts_at")
        .values_list("pk", flat=True)[:limit]
    )
    to_close = list(
        Lot.objects.filter(status=Lot.Status.LIVE, ends_at__lte=now)
        .order_by("ends_at")
        .values_list("pk", flat=True)[:limit]
    )
    return to_open, to_close
