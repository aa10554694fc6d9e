"""The lot's lock: lock_lot, lock_lot_with and lock_lot_at. Every service that changes a lot
takes its lock here, first; every bid takes it through lock_lot_at (hand-written SQL,
core/sql.py)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.transaction import TransactionManagementError
from django.utils.translation import gettext as _

from core.errors import not_found
from core.sql import execute_together, pk_in_range
from recycling.models import Lot


def lock_lot(lot_id: int) -> Lot:
    """Lock one lot row. Every service that changes a lot takes its lock here, first."""
    return lock_lot_with(lot_id)[0]


def lock_lot_with(lot_id: int, *, columns: Sequence[str] | None = None, also: Sequence[tuple] = ()) -> tuple[Lot, list]:
    """lock_lot, reading only `columns` (the others are deferred, as with `.only()`), and with
    the statements `also` (core.sql.execute_together's) run after the lock is granted, in the
    same round trip on PostgreSQL; returns the lot and their results.

    Hand-written SQL (core/sql.py): every bid takes this lock, and the ORM's compile of the
    same statement cost three times its round trip."""
    if not connection.in_atomic_block:
        raise TransactionManagementError("lock_lot() outside a transaction would lock nothing.")
    if not pk_in_range(lot_id):
        raise not_found(_("No such lot."))
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = f"SELECT {_selected(columns)} FROM {Lot._meta.db_table} WHERE id = %s{lock}"  # noqa: S608
    rows, *results = execute_together([(sql, [lot_id], Lot), *also])
    if not rows:
        raise not_found(_("No such lot."))
    return rows[0], results


def lock_lot_at(lot_id: int, seq: int, *, columns: Sequence[str], also: Sequence[tuple] = ()) -> tuple[Lot, bool, list]:
    """lock_lot_with, but the lot is locked only if it is still at `seq` (the state the caller
    has checked without a lock): returns the lot, whether it is locked, and the results of
    `also` (run after the lock's wait, in the same round trip).

    When the lot has moved meanwhile, it comes back as committed now and unlocked, for the
    caller to check again. So the losers of a race for a hot lot, which queued for its lock
    behind the winner, never hold it: with a plain `FOR UPDATE` each of them would, one after
    the other, for a round trip to its process and back to roll back, with every bidder
    behind it waiting (bench/bids.py). PostgreSQL: the database function
    `recycling_lock_lot_at` (migrations 0007, 0008) takes the lock in a subtransaction and
    gives it back when the lot moved; when it keeps it, it also takes the lot's advisory lock,
    for which a bid's first, unlocked read waits (`recycling_await_lot`, auctions'
    _lot_for_bid) to read what this transaction commits. SQLite: the transaction already holds
    the whole database."""
    if not connection.in_atomic_block:
        raise TransactionManagementError("lock_lot() outside a transaction would lock nothing.")
    if not pk_in_range(lot_id):
        raise not_found(_("No such lot."))
    if connection.vendor == "postgresql":
        selected = ", ".join(f"(lot).{column}" for column in ["id", *(c for c in columns if c != "id")])
        sql = f"SELECT locked, {selected} FROM recycling_lock_lot_at(%s, %s) WHERE (lot).id IS NOT NULL"  # noqa: S608
        rows, *results = execute_together([(sql, [lot_id, seq], Lot), *also])
    else:
        sql = f"SELECT {_selected(columns)} FROM {Lot._meta.db_table} WHERE id = %s"  # noqa: S608
        rows, *results = execute_together([(sql, [lot_id], Lot), *also])
    if not rows:
        raise not_found(_("No such lot."))
    lot = rows[0]
    locked = bool(lot.__dict__.pop("locked", True)) and lot.seq == seq
    return lot, locked, results


def _selected(columns: Sequence[str] | None) -> str:
    return "*" if columns is None else ", ".join(["id", *(c for c in columns if c != "id")])
