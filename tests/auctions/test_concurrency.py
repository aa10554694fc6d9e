"""Races on PostgreSQL, for real: twenty bidders hammering one lot from their own connections,
clocks (threads and `run_auction_clock` processes) racing to close lots, and a competing bid
injected between bid_place's lock and its write."""

from __future__ import annotations

import datetime as dt
import random
import re
import threading
import time
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from auctions import services
from auctions.models import Bid, LotEvent
from auctions.selectors import ledger_verify
from auctions.services import bidding
from core.errors import DomainError
from core.models import Notification
from recycling.models import Lot
from tests.auctions.helpers_live import manage, run_in_threads, subprocess_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = Decimal

BIDDERS, ATTEMPTS = 20, 50


def _end_now(*lot_ids: int) -> None:
    Lot.objects.filter(pk__in=lot_ids).update(ends_at=timezone.now() - dt.timedelta(milliseconds=1))


def _assert_chain(lot: Lot) -> None:
    """seq 1..N without a gap, the lot's counters agree with its rows, the hash chain holds."""
    lot.refresh_from_db()
    seqs = list(LotEvent.objects.filter(lot=lot).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, lot.seq + 1))
    assert ledger_verify(lot_id=lot.pk) == []


def test_twenty_bidders_hammering_one_lot_keep_every_invariant(live_lot, bidders):
    lot = live_lot()
    users = bidders(BIDDERS)
    step = lot.bid_increment

    def hammer(user, seed: int):
        rng = random.Random(seed)
        accepted, refused = [], Counter()
        for _ in range(ATTEMPTS):
            # Read outside any lock, like a client looking at the page: by the time the bid
            # lands the price has often moved, and the bid must then be refused.
            price = Lot.objects.values_list("current_price", flat=True).get(pk=lot.pk)
            amount = (lot.start_price if price is None else price + step) + step * rng.choice((0, 0, 0, 1, 3))
            try:
                result = services.bid_place(actor=user, lot_id=lot.pk, amount=amount)
            except DomainError as exc:
                refused[exc.code] += 1
            else:
                accepted.append((result.bid.seq, result.bid.amount, user.company_id))
        return accepted, refused

    outcomes = run_in_threads(hammer, [(user, n) for n, user in enumerate(users)])

    accepted = sorted(row for rows, _ in outcomes for row in rows)
    refused = sum((r for _, r in outcomes), Counter())
    assert set(refused) <= {"bid_too_low"}
    assert len(accepted) + refused["bid_too_low"] == BIDDERS * ATTEMPTS
    assert len(accepted) >= BIDDERS
    assert len({company for _, _, company in accepted}) > 1

    lot.refresh_from_db()
    bids = list(Bid.objects.filter(lot=lot).order_by("seq"))
    # Every accepted call is exactly one row, and every row was an accepted call.
    assert [(b.seq, b.amount, b.bidder_id) for b in bids] == accepted
    assert bids[0].amount >= lot.start_price
    for before, after in zip(bids, bids[1:], strict=False):
        assert after.amount >= before.amount + step, (before, after)
        assert (after.amount - lot.start_price) % step == 0
    assert lot.current_price == bids[-1].amount == max(b.amount for b in bids)
    assert lot.bid_count == len(bids)

    _assert_chain(lot)
    events = list(LotEvent.objects.filter(lot=lot).order_by("seq"))
    bid_events = [e for e in events if e.type == "bid"]
    assert [e.seq for e in bid_events] == [b.seq for b in bids]
    assert [e.payload["amount"] for e in bid_events] == [f"{b.amount:.2f}" for b in bids]
    assert [e.payload["bid_count"] for e in bid_events] == list(range(1, len(bids) + 1))
    # Inserted in the order they were numbered: no transaction slipped in between.
    by_insertion = list(Bid.objects.filter(lot=lot).order_by("id").values_list("seq", flat=True))
    assert by_insertion == sorted(by_insertion)
    assert ledger_verify() == []


def test_three_clock_threads_close_the_lot_exactly_once(live_lot, bidders):
    lot = live_lot()
    a, b = bidders(2)
    services.bid_place(actor=a, lot_id=lot.pk, amount="2300.00")
    services.bid_place(actor=b, lot_id=lot.pk, amount="2350.00")
    _end_now(lot.pk)

    results = run_in_threads(lambda: services.lot_close(lot_id=lot.pk), [()] * 3)

    assert sum(r is not None for r in results) == 1
    lot.refresh_from_db()
    assert (lot.status, lot.winner_id, lot.final_price) == ("awarded", b.company_id, D("2350.00"))
    assert LotEvent.objects.filter(lot=lot, type="closed").count() == 1
    assert Notification.objects.filter(kind="auction_won").count() == 1
    assert Notification.objects.filter(kind="lot_awarded").count() == 1
    _assert_chain(lot)


def test_clock_processes_and_threads_race_over_due_lots_each_closes_once(live_lot, bidders):
    """Three `manage.py run_auction_clock --once` processes walk the due lots; once they are at
    work, three clock threads join the race. Each lot is closed by exactly one of them."""
    a, b = bidders(2)
    lots = [live_lot() for _ in range(24)]
    for n, lot in enumerate(lots):
        services.bid_place(actor=a, lot_id=lot.pk, amount="2300.00")
        services.bid_place(actor=b, lot_id=lot.pk, amount="2350.00")
        if n % 2:
            services.bid_place(actor=a, lot_id=lot.pk, amount="2400.00")
    ids = [lot.pk for lot in lots]
    _end_now(*ids)

    env = subprocess_env()
    procs = [manage("run_auction_clock", "--once", env=env) for _ in range(3)]
    try:
        deadline = time.monotonic() + 60
        while (
            Lot.objects.filter(pk__in=ids, status="live").count() == len(ids)
            and any(p.poll() is None for p in procs)
            and time.monotonic() < deadline
        ):
            time.sleep(0.005)

        def clock():
            closed = 0
            for _ in range(50):
                live = list(Lot.objects.filter(pk__in=ids, status="live").values_list("pk", flat=True))
                if not live:
                    break
                closed += sum(services.lot_close(lot_id=lot_id) is not None for lot_id in live)
            return closed

        by_threads = run_in_threads(clock, [()] * 3)
        outputs = [p.communicate(timeout=60)[0].decode() for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    by_processes = [sum(int(n) for n in re.findall(r"closed (\d+)", out)) for out in outputs]
    assert sum(by_threads) + sum(by_processes) == len(ids), (by_threads, by_processes)
    assert sum(by_processes) > 0  # the processes really took part

    closes = Counter(LotEvent.objects.filter(lot_id__in=ids, type="closed").values_list("lot_id", flat=True))
    assert closes == dict.fromkeys(ids, 1)
    for n, lot in enumerate(lots):
        lot.refresh_from_db()
        winner, price = (a, D("2400.00")) if n % 2 else (b, D("2350.00"))
        assert (lot.status, lot.winner_id, lot.final_price) == ("awarded", winner.company_id, price)
        _assert_chain(lot)
    assert Notification.objects.filter(kind="auction_won").count() == len(ids)


@pytest.mark.parametrize(
    "rival_amount, outcome",
    [
        ("2300.00", "bid_too_low"),  # read the same price as the first: it must now be refused…
        ("2350.00", "accepted"),  # …or land on top of the first, having seen it as the leader
    ],
)
@pytest.mark.parametrize("first_read", ["waits", "raced"])
def test_the_lot_lock_serialises_a_bid_injected_between_lock_and_write(
    live_lot, bidders, monkeypatch, rival_amount, outcome, first_read
):
    """The rival arrives while the first bid holds the lot. Its first read either waits for the
    first bid and reads what it committed (`waits`, recycling_await_lot), or was taken just
    before the first bid locked the lot (`raced`: the rival then queues for the row's lock)."""
    lot = live_lot()
    a, b = bidders(2)
    first_thread = threading.current_thread()
    real_lock, real_read = bidding.lock_lot_at, bidding._lot_for_bid
    before_first = real_read(lot.pk, b.company)
    rival: dict = {"pid": None, "done": threading.Event(), "locks": [], "reads": 0}

    def rival_bids():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                rival["pid"] = cursor.fetchone()[0]
            try:
                rival["result"] = services.bid_place(actor=b, lot_id=lot.pk, amount=rival_amount)
            except DomainError as exc:
                rival["error"] = exc
        finally:
            connections.close_all()
            rival["done"].set()

    def read(lot_id: int, company) -> Lot:
        if threading.current_thread() is first_thread:
            return real_read(lot_id, company)
        rival["reads"] += 1
        return before_first if first_read == "raced" else real_read(lot_id, company)

    def lock_then_let_a_rival_in(lot_id: int, seq: int, **kwargs) -> tuple[Lot, bool, list]:
        locked = real_lock(lot_id, seq, **kwargs)
        if threading.current_thread() is not first_thread:
            rival["locks"].append(locked[1])
        elif "thread" not in rival:
            # We hold the row lock and have not written yet: the rival must now wait for us.
            rival["thread"] = threading.Thread(target=rival_bids, daemon=True)
            rival["thread"].start()
            deadline = time.monotonic() + 20
            waiting_for = set()
            while not waiting_for and time.monotonic() < deadline:
                time.sleep(0.01)
                if rival["pid"] is None:
                    continue
                with connection.cursor() as cursor:
                    cursor.execute("SELECT locktype FROM pg_locks WHERE pid = %s AND NOT granted", [rival["pid"]])
                    waiting_for = {row[0] for row in cursor.fetchall()}
            # Its first read waits for the advisory lock; a raced one waits for the row's lock,
            # i.e. for the transaction that holds it.
            assert waiting_for == ({"advisory"} if first_read == "waits" else {"transactionid"})
            assert not rival["done"].is_set()
            assert Bid.objects.filter(lot_id=lot_id).count() == 0
        return locked

    monkeypatch.setattr(bidding, "lock_lot_at", lock_then_let_a_rival_in)
    monkeypatch.setattr(bidding, "_lot_for_bid", read)

    first = services.bid_place(actor=a, lot_id=lot.pk, amount="2300.00")

    assert rival["done"].wait(30)
    rival["thread"].join(5)
    bids = list(Bid.objects.filter(lot=lot).order_by("seq"))
    lot.refresh_from_db()
    assert rival["reads"] == 1
    if outcome == "bid_too_low":
        # Refused on the price the first bid committed: by its first read when that waited,
        # else on the price the lock's wait ended on, without keeping the lock
        # (recycling.services.lock_lot_at).
        assert rival["locks"] == ([] if first_read == "waits" else [False])
        assert rival["error"].code == "bid_too_low"
        assert rival["error"].extra == {"min_next_bid": "2350.00"}  # the minimum over the first bid, not the start
        assert [(x.bidder_id, x.amount) for x in bids] == [(a.company_id, D("2300.00"))]
        assert (lot.current_price, lot.bid_count, lot.seq) == (D("2300.00"), 1, first.bid.seq)
    else:
        # A raced read finds the lot moved under the lock, is still high enough and queues again.
        assert rival["locks"] == ([True] if first_read == "waits" else [False, True])
        result = rival["result"]
        assert result.bid.seq == first.bid.seq + 1
        assert result.outbid_company_id == a.company_id  # it saw the first bid as the leader
        assert [(x.bidder_id, x.amount) for x in bids] == [(a.company_id, D("2300.00")), (b.company_id, D("2350.00"))]
        assert (lot.current_price, lot.bid_count) == (D("2350.00"), 2)
    _assert_chain(lot)


def _lock_is_free(lot_id: int) -> bool:
    """Whether another connection can lock the lot right now (NOWAIT), tried from a thread."""
    import psycopg

    out: dict = {}

    def probe():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT id FROM recycling_lot WHERE id = %s FOR UPDATE NOWAIT", [lot_id])
            out["free"] = True
        except psycopg.errors.LockNotAvailable:
            out["free"] = False
        except Exception as exc:  # noqa: BLE001 - Django wraps the driver's error
            out["free"] = not isinstance(exc.__cause__, psycopg.errors.LockNotAvailable) and exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join(10)
    assert isinstance(out["free"], bool), out["free"]
    return out["free"]


def test_lock_lot_at_keeps_the_lock_only_on_the_state_it_was_given(live_lot):
    from recycling.services import lock_lot_at

    lot = live_lot()
    columns = ["id", "seq", "current_price"]
    with transaction.atomic():
        locked_lot, locked, _ = lock_lot_at(lot.pk, lot.seq, columns=columns)
        assert locked and locked_lot.seq == lot.seq
        assert not _lock_is_free(lot.pk)
    with transaction.atomic():
        moved, locked, _ = lock_lot_at(lot.pk, lot.seq - 1, columns=columns)
        assert not locked and moved.seq == lot.seq  # as committed now, and not locked
        assert _lock_is_free(lot.pk)


def test_a_bid_that_queued_behind_a_winner_is_told_so_and_holds_nothing(live_lot, bidders):
    """The waiter's lock (taken when the winner committed) is given back in the same statement,
    while its transaction goes on: nothing waits for its refusal."""
    from recycling.services import lock_lot, lock_lot_at

    lot = live_lot()
    (a,) = bidders(1)
    seen = lot.seq
    waiter: dict = {"done": threading.Event()}

    def queue_for_the_lock():
        try:
            with transaction.atomic():
                waiter["result"] = lock_lot_at(lot.pk, seen, columns=["id", "seq", "current_price"])[:2]
                waiter["free_meanwhile"] = _lock_is_free(lot.pk)
        finally:
            connections.close_all()
            waiter["done"].set()

    with transaction.atomic():
        lock_lot(lot.pk)  # the winner holds the lot…
        thread = threading.Thread(target=queue_for_the_lock)
        thread.start()
        time.sleep(0.3)
        assert not waiter["done"].is_set()  # …the other bid queues behind it…
        services.bid_place(actor=a, lot_id=lot.pk, amount="2300.00")  # …and moves it
    assert waiter["done"].wait(20)
    thread.join(5)
    moved, locked = waiter["result"]
    assert not locked and moved.seq == seen + 1 and moved.current_price == D("2300.00")
    assert waiter["free_meanwhile"] is True


def _advisory_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory'")
        return cursor.fetchone()[0]


def test_the_lots_advisory_lock_lives_with_the_row_lock_only(live_lot, bidders):
    """recycling_lock_lot_at takes it with the row and the transaction's end gives it back; a
    lock given back (the lot moved) leaves none; a bid's first read leaves none either."""
    from recycling.services import lock_lot_at

    lot = live_lot()
    (a,) = bidders(1)
    columns = ["id", "seq"]
    with transaction.atomic():
        assert lock_lot_at(lot.pk, lot.seq, columns=columns)[1]
        assert _advisory_locks() == 1
    assert _advisory_locks() == 0
    with transaction.atomic():
        assert not lock_lot_at(lot.pk, lot.seq - 1, columns=columns)[1]
        assert _advisory_locks() == 0
    bidding._lot_for_bid(lot.pk, a.company)
    assert _advisory_locks() == 0
    with pytest.raises(DomainError):
        services.bid_place(actor=a, lot_id=lot.pk, amount="1.00")
    assert _advisory_locks() == 0


def test_a_first_read_waits_for_a_bid_in_progress_but_not_inside_a_transaction(live_lot, bidders):
    """Outside a transaction the first read waits for the bid that holds the lot and reads what
    it committed; inside one (which may hold what that bid needs) it reads at once."""
    from recycling.services import lock_lot_at

    lot = live_lot()
    (a,) = bidders(1)
    holding, release = threading.Event(), threading.Event()

    def bid_in_progress():
        try:
            with transaction.atomic():
                assert lock_lot_at(lot.pk, lot.seq, columns=["id", "seq"])[1]
                Lot.objects.filter(pk=lot.pk).update(seq=lot.seq + 1, current_price=D("2300.00"))
                holding.set()
                release.wait(20)
        finally:
            connections.close_all()

    holder = threading.Thread(target=bid_in_progress)
    holder.start()
    assert holding.wait(20)
    with transaction.atomic():
        inside = bidding._lot_for_bid(lot.pk, a.company)
    assert (inside.seq, inside.current_price) == (lot.seq, None)  # as committed: no wait

    read: dict = {}
    reader = threading.Thread(
        target=lambda: (read.update(lot=bidding._lot_for_bid(lot.pk, a.company)), connections.close_all())
    )
    reader.start()
    reader.join(0.5)
    assert reader.is_alive()  # waiting for the bid in progress
    release.set()
    holder.join(20)
    reader.join(20)
    assert (read["lot"].seq, read["lot"].current_price) == (lot.seq + 1, D("2300.00"))
