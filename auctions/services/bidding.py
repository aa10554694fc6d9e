"""bid_place and everything on its path: the amount's checks, the lot read before the lock
(_lot_for_bid) and under it (_lock_for_bid), the standing bid, English (proxy) and sealed
bids, soft close, the outbid notice, and the bid's writes in one round trip (_write)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Company, CompanyDocument
from accounts.services import CompanyNotice, require_verified_company
from auctions.events import append_event
from auctions.models import Bid, Bidder, LotEvent
from auctions.services.increments import _grid_up, increment_for, minimum_next_bid
from core.errors import DomainError, conflict, forbidden, invalid
from core.sql import execute_together, fetch_instances, insert_statement, mark_saved, pk_in_range
from payments.services import STORED_BAN_FIELD, STORED_BAN_SQL, bidding_ban_check, deposit_hold_check
from recycling.models import Category, Lot
from recycling.services import MAX_LOT_VALUE, lock_lot_at, lock_lot_with

CENT = Decimal("0.01")


@dataclass
class _Writes:
    """A bid's new rows (the bid, proxy answers, their events, an extension), written together
    with the lot's row once the engine has decided: one round trip on PostgreSQL."""

    bids: list[Bid] = field(default_factory=list)
    events: list[LotEvent] = field(default_factory=list)


_LOT_BID_FIELDS = ("current_price", "bid_count", "seq", "ledger_head", "ends_at", "updated_at")


def _write(lot: Lot, writes: _Writes, also: list[tuple] = ()) -> list:
    """Insert the bid's rows and update the lot's, with the statements `also` after them (the
    outbid notice) in the same round trip; returns their results."""
    from django.db import connection

    update = [Lot._meta.get_field(name) for name in _LOT_BID_FIELDS]
    values = [f.get_db_prep_save(f.pre_save(lot, False), connection) for f in update]
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in update)
    assert writes.bids and writes.events, "an accepted bid writes at least one bid and its event"
    statements = [
        insert_statement(Bid, writes.bids),
        insert_statement(LotEvent, writes.events),
        (f"UPDATE {Lot._meta.db_table} SET {assignments} WHERE id = %s", [*values, lot.pk]),  # noqa: S608
        *also,
    ]
    bid_rows, event_rows, _, *results = execute_together(statements)
    mark_saved(writes.bids, [row[0] for row in bid_rows])
    mark_saved(writes.events, [row[0] for row in event_rows])
    return results


@dataclass
class BidResult:
    bid: Bid
    lot: Lot
    leading: bool
    outbid_company_id: int | None = None


MAX_AMOUNT = Decimal("1e10")  # per unit: far above any price, within the columns (12 digits, 2 places)


def _money(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise invalid(
            "invalid_amount", _("The amount must be a number like 2350.00."), **{field: _("Not a number.")}
        ) from None
    if amount.is_finite() and amount >= MAX_AMOUNT:  # first: quantize() raises on "1e30"
        raise invalid(
            "invalid_amount",
            _("The amount is too large: at most ¥%(max)s.") % {"max": f"{MAX_AMOUNT - CENT:,.2f}"},
            **{field: _("Too large.")},
        )
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(CENT):
        raise invalid(
            "invalid_amount",
            _("The amount must be positive, in yuan with at most two decimals."),
            **{field: _("Invalid amount.")},
        )
    return amount.quantize(CENT)


def _require_licence(company: Company, lot: Lot, *, at: dt.date) -> None:
    """Licence-required categories go only to processors whose unexpired licence covers them.
    `lot.licence_required` comes with the lot (_lot_for_bid)."""
    if not lot.licence_required:
        return
    category = Category.objects.select_related("parent").get(pk=lot.category_id)
    covered = [category.pk] + ([category.parent_id] if category.parent_id else [])
    has = (
        CompanyDocument.objects.filter(
            company=company,
            kind=CompanyDocument.Kind.PROCESSING_LICENCE,
            categories__in=covered,
        )
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=at))
        .exists()
    )
    if not has:
        raise forbidden(
            "licence_required",
            _("Bidding on %(category)s needs a valid processing licence that covers it.")
            % {"category": category.parent.name if category.parent_id else category.name},
        )


def _bidder(lot: Lot, company: Company, row: Bidder | None = None) -> Bidder:
    """The company's bidder row on the lot (`row` when already read), made on its first bid."""
    bidder = row or Bidder.objects.filter(lot=lot, company=company).first()
    if bidder is None:
        number = Bidder.objects.filter(lot=lot).count() + 1
        bidder = Bidder.objects.create(lot=lot, company=company, number=number)
    return bidder


@dataclass
class Standing:
    bidder: Bidder  # the company placing the bid
    rival: Bidder | None  # the holder of the standing bid, when it is another company
    leader_amount: Decimal | None  # the standing bid's amount, when a rival holds it


# One statement under the lot's lock instead of two (the leading bid, then the bidder rows),
# and raw SQL because the ORM spelling of it (two subqueries) costs more to compile than the
# round trip it saves: bench/bids.py measured 5.5 ms per outbidding bid_place with either ORM
# form, 4.8 ms with this.
_BID, _BIDDER = Bid._meta.db_table, Bidder._meta.db_table
_STANDING_SQL = f"""
    SELECT b.*,
           (SELECT max(x.amount) FROM {_BID} x WHERE x.lot_id = b.lot_id AND x.bidder_id = b.company_id) AS highest
    FROM {_BIDDER} b
    WHERE b.lot_id = %s
      AND (b.company_id = %s
           OR b.company_id = (SELECT y.bidder_id FROM {_BID} y WHERE y.lot_id = %s
                              ORDER BY y.amount DESC, y.ranked_at, y.seq LIMIT 1))
"""  # noqa: S608 - table names from the models, no input


def _standing_statement(lot_id: int, company: Company) -> tuple:
    """The read for _standing, run with the lot's lock (recycling.services.lock_lot_with)."""
    return (_STANDING_SQL, [lot_id, company.pk, lot_id], Bidder)


def _standing(lot: Lot, company: Company, rows: list[Bidder]) -> Standing:
    """The company's bidder row and, when another company holds the standing bid (ranked as
    _leader ranks it: highest amount, earlier ranked_at, lower seq), that company's row with
    its highest amount, which is the standing amount. `rows`: _standing_statement's."""
    own = next((row for row in rows if row.company_id == company.pk), None)
    rival = next((row for row in rows if row.company_id != company.pk), None)
    # A raw column skips the field's converter: SQLite hands back max() as int or float.
    amount = None if rival is None else Decimal(str(rival.highest)).quantize(CENT)
    return Standing(bidder=_bidder(lot, company, own), rival=rival, leader_amount=amount)


def _record_bid(
    lot: Lot,
    bidder: Bidder,
    amount: Decimal,
    *,
    by: Any,
    proxy: bool,
    now: dt.datetime,
    writes: _Writes,
    ranked_at: dt.datetime | None = None,
) -> Bid:
    lot.bid_count += 1
    if lot.format == Lot.Format.ENGLISH:
        lot.current_price = amount
    payload = {
        "amount": f"{amount:.2f}",
        "bidder_no": bidder.number,
        "proxy": proxy,
        "current_price": None if lot.current_price is None else f"{lot.current_price:.2f}",
        "bid_count": lot.bid_count,
        "ends_at": timezone.localtime(lot.ends_at).isoformat(),
    }
    event = append_event(lot, LotEvent.Type.BID, payload, at=now, save=False)
    writes.events.append(event)
    # A typed bid above the bidder's own earlier ceiling supersedes it: that ceiling is no
    # longer this bid's maximum (and would break the bid_max_at_least_amount constraint).
    ceiling = bidder.max_amount if bidder.max_amount is not None and bidder.max_amount >= amount else None
    bid = Bid(
        lot=lot,
        bidder_id=bidder.company_id,
        bidder_no=bidder.number,
        placed_by=None if proxy else by,
        amount=amount,
        max_amount=ceiling,
        is_proxy=proxy,
        seq=event.seq,
        ranked_at=ranked_at or now,
        created_at=now,
    )
    writes.bids.append(bid)
    return bid


def _leader(lot: Lot) -> Bid | None:
    """The standing bid: highest amount, earlier of equal."""
    return Bid.objects.filter(lot=lot).order_by("-amount", "ranked_at", "seq").first()


def bid_place(*, actor: Any, lot_id: int, amount: Any, max_amount: Any = None) -> BidResult:
    """Place a bid (and optionally a proxy ceiling) for the actor's company.

    The checks run twice. First on the lot as last committed, with no lock and no transaction
    (on PostgreSQL after any bid in progress on it has committed, _lot_for_bid): a bid refused
    there is refused as it would be under the lock a moment later, because a live lot's minimum
    only rises, so on a hot lot most losers of the race end there, in one statement, instead of
    queueing for the lock. The bidder's own standing (licence, strike ban) is read there only:
    it is the company's, not the lot's, and a bid that read it before a ban committed is
    ordered before the ban. Then, under the lot's lock, the lot's checks again on the locked
    row, the deposit hold (its writes take the same lock), and the bid. A bid that queued for
    the lock while another moved the lot does not keep it (_lock_for_bid).
    """
    company = require_verified_company(actor, role=Company.Role.PROCESSOR)
    amount = _money(amount, "amount")
    ceiling = _money(max_amount, "max_amount") if max_amount not in (None, "") else None
    if ceiling is not None and ceiling < amount:
        raise invalid("invalid_amount", _("The maximum cannot be below the bid."), max_amount=_("Below the bid."))
    lot = _lot_for_bid(lot_id, company)
    now = timezone.now()
    _check_open(lot, company, now)
    _check_lot_value(lot, ceiling or amount)
    _require_licence(company, lot, at=timezone.localdate(now))
    bidding_ban_check(company, stored=lot.stored_ban)
    deposit_hold_check(company=company, lot=lot)
    _check_minimum(lot, amount)
    english = lot.format == Lot.Format.ENGLISH  # a live lot's format is fixed (Lot.EDITABLE)
    with transaction.atomic():
        lot, standing = _lock_for_bid(lot, company, amount, english)
        now = timezone.now()
        _check_open(lot, company, now)
        deposit_hold_check(company=company, lot=lot)
        writes = _Writes()
        if english:
            result = _english_bid(lot, company, amount, ceiling, standing[0], by=actor, now=now, writes=writes)
        else:
            result = _sealed_bid(lot, company, amount, by=actor, now=now, writes=writes)
        # The outbid notice goes in the round trip of the bid's own writes, and a new one (the
        # first on this lot since the company read the last) is inserted under the lot's lock,
        # so two outbids in a row cannot both find it missing; its e-mail is queued with it
        # (core.services.notify) and sent by the clock.
        notice = _outbid_notice(lot, result.outbid_company_id) if result.outbid_company_id else None
        results = _write(lot, writes, notice.statements() if notice else [])
        if notice:
            notice.finish(results)
    return result


# A bid whose lot moved while it queued checks again and queues again at most this often,
# then waits for the lock whatever the lot's state, so that a bid well above the price still
# gets through on a lot bid on many times a second.
_REQUEUES = 3


def _lock_for_bid(lot: Lot, company: Company, amount: Decimal, english: bool) -> tuple[Lot, list]:
    """The lot locked (with, for an English lot, the standing bid read under the lock), taken
    as the pre-check saw it. When another bid moved the lot while this one queued for its lock,
    the usual case on a hot lot for all but the first in the queue, the lock is not kept
    (recycling.services.lock_lot_at): the bid is checked again on the lot as now committed,
    and either refused there, holding nothing, or queued again."""
    also = [_standing_statement(lot.pk, company)] if english else []
    for _queued in range(_REQUEUES):
        lot, locked, standing = lock_lot_at(lot.pk, lot.seq, columns=_BID_COLUMNS, also=also)
        if locked:
            return lot, standing
        _check_open(lot, company, timezone.now())
        _check_minimum(lot, amount)
    return lock_lot_with(lot.pk, columns=_BID_COLUMNS, also=also)


# What a bid reads of the lot, before the lock and under it: the rest (the description, the
# search text, eight more timestamps…) stays deferred. Every column is a value to convert on
# every bid (a timestamp costs ~20 µs through Django's time zone loader).
_BID_COLUMNS = (
    "id",
    "code",
    "seller_id",
    "category_id",
    "unit",
    "quantity",
    "format",
    "start_price",
    "bid_increment",
    "deposit",
    "starts_at",
    "ends_at",
    "scheduled_end",
    "soft_close_seconds",
    "max_extension_seconds",
    "status",
    "published_at",
    "current_price",
    "bid_count",
    "seq",
    "ledger_head",
)
_LOT_FOR_BID_SQL = f"""
    SELECT {", ".join(f"l.{column}" for column in _BID_COLUMNS)},
           (c.hazardous OR COALESCE(p.hazardous, FALSE)) AS licence_required,
           {STORED_BAN_SQL} AS stored_ban
    FROM {Lot._meta.db_table} l
    JOIN {Category._meta.db_table} c ON c.id = l.category_id
    LEFT JOIN {Category._meta.db_table} p ON p.id = c.parent_id
    WHERE l.id = %s
"""  # noqa: S608 - table and column names from the models, no input
# PostgreSQL: the same read through a database function (migration auctions 0003), whose plan
# the session keeps, and which, outside a transaction, first waits for a bid in progress on the
# lot (recycling 0008).
_LOT_FOR_BID_PG_COLUMNS = ", ".join(f"(lot).{column}" for column in _BID_COLUMNS)
_LOT_FOR_BID_PG = (
    f"SELECT {_LOT_FOR_BID_PG_COLUMNS}, licence_required, stored_ban FROM auctions_lot_for_bid(%s, %s, %s)"  # noqa: S608, E501
)
_LOT_FOR_BID_TYPES = {"licence_required": Category._meta.get_field("hazardous"), "stored_ban": STORED_BAN_FIELD}


def _lot_for_bid(lot_id: int, company: Company) -> Lot:
    """The lot as last committed (_BID_COLUMNS), with `licence_required` (its category's or the
    parent's hazardous flag) and `stored_ban` (the bidder's strike ban as stored), in one
    statement (core/sql.py): every bid starts with it.

    On PostgreSQL, when another bid holds the lot (between its lock and its commit), this waits
    for it and reads what it committed. On a hot lot that is the usual case: without the wait
    the bid would pass on the state about to change, queue for the lock and be refused there,
    four round trips later; with it, it is refused here, having waited without spending CPU
    (bench/bids.py: accepted bids/s up by half with eight bidders as processes). Not inside a
    caller's transaction, which may hold what that bid needs next."""
    if not pk_in_range(lot_id):
        raise DomainError("not_found", _("No such lot."), status=404)
    if connection.vendor == "postgresql":
        sql, params = _LOT_FOR_BID_PG, [lot_id, company.pk, not connection.in_atomic_block]
    else:
        sql, params = _LOT_FOR_BID_SQL, [company.pk, lot_id]
    rows = fetch_instances(Lot, sql, params, typed=_LOT_FOR_BID_TYPES)
    if not rows:
        raise DomainError("not_found", _("No such lot."), status=404)
    return rows[0]


def _check_open(lot: Lot, company: Company, now: dt.datetime) -> None:
    # Not found: what the board does not show (recycling.selectors). A withdrawn lot that was
    # published stays on it, and refuses bids as any closed auction does.
    withdrawn_from_board = lot.status == Lot.Status.WITHDRAWN and lot.published_at is not None
    if lot.status not in Lot.PUBLISHED and not withdrawn_from_board:
        raise DomainError("not_found", _("No such lot."), status=404)
    if lot.seller_id == company.pk:
        raise conflict("own_lot", _("You cannot bid on your own lot."))
    if lot.status != Lot.Status.LIVE or now >= lot.ends_at or now < lot.starts_at:
        raise conflict("auction_not_live", _("This auction is not open for bids."))


def _check_lot_value(lot: Lot, amount: Decimal) -> None:
    if amount * lot.quantity > MAX_LOT_VALUE:
        raise invalid(
            "invalid_amount",
            _("At ¥%(amount)s per %(unit)s this lot would cost more than ¥%(max)s, the most one lot trades for.")
            % {"amount": f"{amount:,.2f}", "unit": lot.get_unit_display(), "max": f"{MAX_LOT_VALUE:,.2f}"},
            amount=_("Too large."),
        )


def _check_minimum(lot: Lot, amount: Decimal) -> None:
    """409 `bid_too_low` below the lowest bid the lot accepts now (a sealed bid's own earlier
    bid is checked under the lock)."""
    minimum = minimum_next_bid(lot)
    if amount < minimum:
        raise conflict(
            "bid_too_low", _("The minimum bid is ¥%(min)s.") % {"min": f"{minimum:,.2f}"}, min_next_bid=f"{minimum:.2f}"
        )


def _outbid_notice(lot: Lot, company_id: int) -> CompanyNotice:
    return CompanyNotice(
        company_id,
        kind="outbid",
        title=_("You have been outbid on %(code)s") % {"code": lot.code},
        body=_("The price is now ¥%(price)s per %(unit)s.")
        % {"price": f"{lot.current_price:,.2f}", "unit": lot.get_unit_display()},
        url=reverse("recycling:lot_detail", args=[lot.pk]),
    )


def _sealed_bid(
    lot: Lot, company: Company, amount: Decimal, *, by: Any, now: dt.datetime, writes: _Writes
) -> BidResult:
    _check_minimum(lot, amount)
    bidder = _bidder(lot, company)
    own = Bid.objects.filter(lot=lot, bidder=company).order_by("-amount").first()
    if own is not None and amount <= own.amount:
        raise conflict(
            "bid_too_low",
            _("A new sealed bid must be above your own ¥%(own)s.") % {"own": f"{own.amount:,.2f}"},
        )
    bid = _record_bid(lot, bidder, amount, by=by, proxy=False, now=now, writes=writes)
    return BidResult(bid=bid, lot=lot, leading=True)


def _english_bid(
    lot: Lot,
    company: Company,
    amount: Decimal,
    ceiling: Decimal | None,
    standing_rows: list[Bidder],
    *,
    by: Any,
    now: dt.datetime,
    writes: _Writes,
) -> BidResult:
    _check_minimum(lot, amount)
    step = increment_for(lot)
    if (amount - lot.start_price) % step != 0:
        raise invalid(
            "invalid_amount",
            _("Bids go up in steps of ¥%(step)s from the start price ¥%(start)s.")
            % {"step": f"{step:,.2f}", "start": f"{lot.start_price:,.2f}"},
            amount=_("Not on the bid grid."),
        )
    standing = _standing(lot, company, standing_rows)
    bidder, rival = standing.bidder, standing.rival
    extended_to = _soft_close(lot, now)  # before the bids are recorded: their events carry the new end
    if ceiling is not None and ceiling > amount and (bidder.max_amount is None or ceiling > bidder.max_amount):
        bidder.max_amount, bidder.max_set_at = ceiling, now
        bidder.save(update_fields=["max_amount", "max_set_at"])
    bid = _record_bid(lot, bidder, amount, by=by, proxy=False, now=now, writes=writes, ranked_at=now)
    if rival is None:  # the first bid, or the leader raising its own bid
        _log_extension(lot, extended_to, now, writes)
        return BidResult(bid=bid, lot=lot, leading=True)

    leader_amount = standing.leader_amount
    rival_max = max(leader_amount, rival.max_amount or leader_amount)
    mine_max = max(amount, bidder.max_amount or amount)
    if mine_max > rival_max:
        # The newcomer leads at one increment over the rival's ceiling, capped at its own.
        if rival_max > amount:
            _record_bid(lot, rival, rival_max, by=None, proxy=True, now=now, writes=writes, ranked_at=rival.max_set_at)
        target = min(mine_max, _grid_up(lot, rival_max + increment_for(lot, rival_max)))
        if target > lot.current_price:
            bid = _record_bid(
                lot, bidder, target, by=by, proxy=True, now=now, writes=writes, ranked_at=bidder.max_set_at
            )
        leading = True
    else:
        # The standing proxy answers one increment over the newcomer's ceiling, capped at its
        # own; an equal ceiling set earlier stands (it ranks by when it was set).
        if mine_max > amount:
            _record_bid(lot, bidder, mine_max, by=by, proxy=True, now=now, writes=writes, ranked_at=bidder.max_set_at)
        answer = min(rival_max, _grid_up(lot, mine_max + increment_for(lot, mine_max)))
        _record_bid(lot, rival, answer, by=None, proxy=True, now=now, writes=writes, ranked_at=rival.max_set_at)
        leading = False
    _log_extension(lot, extended_to, now, writes)
    return BidResult(bid=bid, lot=lot, leading=leading, outbid_company_id=rival.company_id if leading else None)


def _soft_close(lot: Lot, now: dt.datetime) -> dt.datetime | None:
    """A bid at `now` inside the last `soft_close_seconds` moves the end to now + that window,
    never past the scheduled end + `max_extension_seconds`: sets `lot.ends_at` and returns the
    new end, or None when the end stays."""
    if lot.soft_close_seconds == 0:
        return None
    window = dt.timedelta(seconds=lot.soft_close_seconds)
    if lot.ends_at - now >= window:
        return None
    cap = lot.scheduled_end + dt.timedelta(seconds=lot.max_extension_seconds)
    new_end = min(now + window, cap)
    if new_end <= lot.ends_at:
        return None
    lot.ends_at = new_end
    return new_end


def _log_extension(lot: Lot, new_end: dt.datetime | None, now: dt.datetime, writes: _Writes) -> None:
    """The `extended` event, after the bids that caused it."""
    if new_end is None:
        return
    writes.events.append(
        append_event(
            lot,
            LotEvent.Type.EXTENDED,
            {"status": lot.status, "ends_at": timezone.localtime(new_end).isoformat()},
            at=now,
            save=False,
        )
    )
