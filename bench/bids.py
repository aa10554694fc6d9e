"""Bid benchmark: 8 concurrent bidders on one hot lot in PostgreSQL, three ways in one run.

    .venv/bin/python bench/bids.py [--bidders 8] [--seconds 10] [--daphnes 1] [--workers threads,processes]

1. in-process: bidders calling auctions.services.bid_place (one DB connection each), as threads
   of this process and as forked processes (--workers; DEBUG off as in production);
2. HTTP: `POST /api/v1/lots/{id}/bids/` with a token, against Daphne started by this script
   (8 concurrent keep-alive clients on one asyncio loop; THROTTLE_* set very high; DEBUG off;
   PostgreSQL connections from the project's pool, see start_daphne);
3. bare: psycopg transactions doing the same writes by hand (lock the lot FOR UPDATE, insert
   the hash-chained event, insert the bid, update the lot), no framework at all; threads and
   processes as for bid_place, and each bid_place row is compared with the bare row run alike.

Threads share one GIL: a bidder holding the lot's lock waits for it after every round trip
while the others run their Python, so the threads' figure measures the interpreter as much as
the engine. Processes (as under several Daphnes) do not share it.

Every path runs the same bidder: it bids the minimum it believes in; an accepted bid tells it
the new price, a refused one (bid_too_low) names the minimum, which it bids next. So the
contention on the lot's lock is the same on each path. Each path gets a fresh lot.

Queries per accepted bid (HTTP path) are counted with django.test.utils.CaptureQueriesContext
around in-process API calls through DRF's test client (the same view, middleware and
authentication; e-mail after commit included), for a bid that outbids someone and one that
raises one's own lead: round trips (queries sent) and the statements in them (one query may
carry several, core.sql.execute_together).

DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/recycling_bench_bids (created and
migrated when missing). REDIS_URL (default redis://127.0.0.1:6379/0, "" for the in-memory
layer) is the channel layer the broadcasts go to, in-process and under Daphne alike, with a
prefix of this run's own. Loopback only; it stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
import warnings
from collections import Counter
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/recycling_bench_bids")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recycling.settings")
PREFIX = f"bench-bids-{uuid.uuid4().hex[:8]}"
os.environ["CHANNELS_PREFIX"] = PREFIX
os.environ["CACHE_PREFIX"] = PREFIX
os.environ.setdefault("THROTTLE_BIDS", "100000000/min")
os.environ.setdefault("THROTTLE_USER", "100000000/min")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# As in production, for the in-process paths too (DEBUG keeps a log of every query).
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-" + uuid.uuid4().hex)
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

START = Decimal("1000.00")
STEP = Decimal("10.00")


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


ensure_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()
# DEBUG off without collectstatic: WhiteNoise says so once per client; nothing here is static.
warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

# --- Data -----------------------------------------------------------------------------------


def people(n: int):
    """A seller, a cooperative admin and n verified processors with API tokens (made once)."""
    from rest_framework.authtoken.models import Token

    from accounts.models import Company, User
    from accounts.services import user_set_admin
    from accounts.validators import credit_code_check_char

    def member(username: str, role: str, k: int) -> User:
        body = f"91230100{900000000 + k:09d}"
        company, _ = Company.objects.get_or_create(
            credit_code=body + credit_code_check_char(body),
            defaults={
                "name": f"基准竞价公司{k}",
                "role": role,
                "status": "verified",
                "district": "daoli",
                "address": "道里区基准路 1 号",
                "contact_phone": "13900000000",
            },
        )
        user, created = User.objects.get_or_create(
            username=username, defaults={"company": company, "email": f"{username}@example.com"}
        )
        if created:
            user.set_unusable_password()
            user.save()
        return user

    seller = member("bench-bids-seller", "collector", 0)
    admin, created = User.objects.get_or_create(username="bench-bids-admin")
    if created:
        user_set_admin(user=admin)
    admin = User.objects.get(pk=admin.pk)
    bidders = [member(f"bench-bids-bidder{i}", "processor", i + 1) for i in range(n)]
    tokens = [Token.objects.get_or_create(user=user)[0].key for user in bidders]
    return seller, admin, bidders, tokens


def fresh_lot(seller, admin) -> int:
    import datetime as dt

    from recycling import services
    from recycling.models import Category

    now = timezone.now()
    lot = services.lot_create(
        actor=seller,
        title="基准热门拍品 重废钢",
        category=Category.objects.get(code="steel-heavy"),
        quantity=Decimal("30.000"),
        start_price=START,
        bid_increment=STEP,
        deposit=Decimal("0.00"),
        starts_at=now - dt.timedelta(minutes=1),
        ends_at=now + dt.timedelta(days=1),
        pickup_from=now + dt.timedelta(days=2),
        pickup_until=now + dt.timedelta(days=9),
    )
    services.lot_submit(actor=seller, lot_id=lot.pk)
    services.lot_review(actor=admin, lot_id=lot.pk, decision="approve")
    return lot.pk


# --- Measuring ------------------------------------------------------------------------------


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accepted = 0
        self.refused = 0
        self.latencies: list[float] = []  # every attempt, seconds
        self.accepted_latencies: list[float] = []
        self.errors: list[str] = []

    def add(self, ok: bool, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)
            if ok:
                self.accepted += 1
                self.accepted_latencies.append(seconds)
            else:
                self.refused += 1


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def run_threads(target, n: int, seconds: float) -> float:
    barrier = threading.Barrier(n + 1)
    stop_at: list[float] = []

    def body(i: int) -> None:
        try:
            barrier.wait()
            target(i, stop_at[0])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    started = time.perf_counter()
    stop_at.append(started + seconds)
    barrier.wait()
    for t in threads:
        t.join(seconds + 60)
    return time.perf_counter() - started


def run_processes(target, n: int, seconds: float, tally: Tally) -> float:
    """run_threads with one forked process per bidder (each its own interpreter, GIL and
    database connection, as under several server processes); their tallies join `tally`."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    connections.close_all()
    for conn in connections.all(initialized_only=True):
        if hasattr(conn, "close_pool"):  # pooled connections must not cross a fork
            conn.close_pool()
    results = context.SimpleQueue()
    start_at = time.perf_counter() + 1.0  # CLOCK_MONOTONIC: the same clock in every process
    stop_at = start_at + seconds

    def child(i: int) -> None:
        code = 0
        try:
            time.sleep(max(0.0, start_at - time.perf_counter()))
            target(i, stop_at)
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            connections.close_all()
            results.put((tally.accepted, tally.refused, tally.latencies, tally.accepted_latencies, tally.errors))
            os._exit(code)

    processes = [context.Process(target=child, args=(i,), daemon=True) for i in range(n)]
    for process in processes:
        process.start()
    for _ in processes:
        accepted, refused, latencies, accepted_latencies, errors = results.get()
        tally.accepted += accepted
        tally.refused += refused
        tally.latencies += latencies
        tally.accepted_latencies += accepted_latencies
        tally.errors += errors
    elapsed = time.perf_counter() - start_at
    for process in processes:
        process.join(60)
        if process.exitcode:
            tally.errors.append(f"bidder process exited with {process.exitcode}")
    return elapsed


def run_bidders(target, n: int, seconds: float, tally: Tally, workers: str) -> float:
    return run_processes(target, n, seconds, tally) if workers == "processes" else run_threads(target, n, seconds)


def bench_in_process(lot_id: int, bidders, seconds: float, workers: str = "threads") -> tuple[Tally, float]:
    from auctions import services
    from core.errors import DomainError

    tally = Tally()

    def bidder(i: int, stop_at: float) -> None:
        user, minimum = bidders[i], START
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            try:
                result = services.bid_place(actor=user, lot_id=lot_id, amount=minimum)
            except DomainError as exc:
                if exc.code != "bid_too_low":
                    tally.errors.append(exc.code)
                    return
                tally.add(False, time.perf_counter() - t0)
                minimum = Decimal(exc.extra["min_next_bid"])
            else:
                tally.add(True, time.perf_counter() - t0)
                minimum = result.lot.current_price + STEP

    return tally, run_bidders(bidder, len(bidders), seconds, tally, workers)


def bench_bare(lot_id: int, bidders, seconds: float, workers: str = "threads") -> tuple[Tally, float]:
    """The same writes by hand: what the database itself costs for one accepted bid."""
    import datetime as dt

    import psycopg
    from psycopg.types.json import Jsonb

    from auctions.models import GENESIS_HASH, canonical_event, chain_hash

    tally = Tally()
    url = os.environ["DATABASE_URL"]

    class Refused(Exception):
        pass

    def bidder(i: int, stop_at: float) -> None:
        company_id, bidder_no, user_id = bidders[i].company_id, i + 1, bidders[i].pk
        minimum = START
        with psycopg.connect(url, autocommit=True) as conn:
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                try:
                    with conn.transaction():
                        price, seq, head, count, ends_at = conn.execute(
                            "SELECT current_price, seq, ledger_head, bid_count, ends_at FROM recycling_lot "
                            "WHERE id = %s FOR UPDATE",
                            [lot_id],
                        ).fetchone()
                        floor = START if price is None else price + STEP
                        if minimum < floor:
                            raise Refused(floor)
                        now = dt.datetime.now(dt.UTC)
                        seq, count = seq + 1, count + 1
                        payload = {
                            "amount": f"{minimum:.2f}",
                            "bidder_no": bidder_no,
                            "proxy": False,
                            "current_price": f"{minimum:.2f}",
                            "bid_count": count,
                            "ends_at": timezone.localtime(ends_at).isoformat(),
                        }
                        prev = head or GENESIS_HASH
                        digest = chain_hash(
                            prev, canonical_event(lot_id=lot_id, seq=seq, type="bid", at=now, payload=payload)
                        )
                        conn.execute(
                            "INSERT INTO auctions_lotevent (lot_id, seq, type, at, payload, prev_hash, hash) "
                            "VALUES (%s, %s, 'bid', %s, %s, %s, %s)",
                            [lot_id, seq, now, Jsonb(payload), prev, digest],
                        )
                        conn.execute(
                            "INSERT INTO auctions_bid (lot_id, bidder_id, bidder_no, placed_by_id, amount, "
                            "max_amount, is_proxy, seq, ranked_at, created_at) "
                            "VALUES (%s, %s, %s, %s, %s, NULL, false, %s, %s, %s)",
                            [lot_id, company_id, bidder_no, user_id, minimum, seq, now, now],
                        )
                        conn.execute(
                            "UPDATE recycling_lot SET current_price = %s, bid_count = %s, seq = %s, "
                            "ledger_head = %s, updated_at = %s WHERE id = %s",
                            [minimum, count, seq, digest, now, lot_id],
                        )
                except Refused as refused:
                    tally.add(False, time.perf_counter() - t0)
                    minimum = refused.args[0]
                else:
                    tally.add(True, time.perf_counter() - t0)
                    minimum += STEP

    return tally, run_bidders(bidder, len(bidders), seconds, tally, workers)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_daphne(app: str, log: Path) -> tuple[subprocess.Popen, int]:
    """Daphne on a free port; its stderr (the application's tracebacks) goes to `log`."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        DEBUG="0",
        SECRET_KEY="bench-only-" + uuid.uuid4().hex,
        SECURE_SSL_REDIRECT="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    # As the project runs: connections from the settings' pool (DB_POOL_MAX_SIZE), borrowed per
    # request. (Persistent per-thread connections piled up under ASGI before the pool.)
    env.setdefault("DB_CONN_MAX_AGE", "0")
    daphne = str(Path(sys.executable).with_name("daphne"))
    proc = subprocess.Popen(
        [daphne, "-b", "127.0.0.1", "-p", str(port), app],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"daphne exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, port
        except OSError:
            time.sleep(0.1)
    stop(proc)
    raise SystemExit("daphne did not start")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def bench_http(lot_id: int, tokens: list[str], ports: list[int], seconds: float) -> tuple[Tally, float]:
    import aiohttp

    tally = Tally()

    async def bidder(session, token: str, port: int, stop_at: float) -> None:
        minimum = START
        url = f"http://127.0.0.1:{port}/api/v1/lots/{lot_id}/bids/"
        headers = {"Authorization": f"Token {token}"}
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            async with session.post(url, json={"amount": f"{minimum:.2f}"}, headers=headers) as response:
                body = await response.json()
            seconds_taken = time.perf_counter() - t0
            if response.status == 201:
                tally.add(True, seconds_taken)
                minimum = Decimal(body["lot"]["current_price"]) + STEP
            elif response.status == 409 and body.get("code") == "bid_too_low":
                tally.add(False, seconds_taken)
                minimum = Decimal(body["min_next_bid"])
            else:
                tally.errors.append(f"{response.status} {body}")
                return

    async def main() -> float:
        connector = aiohttp.TCPConnector(limit=len(tokens) * 2)
        async with aiohttp.ClientSession(connector=connector) as session:
            # Warm up each server (first request imports views, opens DB connections).
            for port in ports:
                async with session.get(f"http://127.0.0.1:{port}/api/v1/lots/{lot_id}/") as response:
                    await response.read()
            started = time.perf_counter()
            stop_at = started + seconds
            await asyncio.gather(
                *(bidder(session, token, ports[i % len(ports)], stop_at) for i, token in enumerate(tokens))
            )
            return time.perf_counter() - started

    return tally, asyncio.run(main())


ORIGINS = (  # first match wins: (label, a fragment of "path:function" of a frame that issued the query)
    ("new outbid notice (core.services.notify)", "core/services.py"),
    ("deposit and ban check (payments)", "payments/"),
    ("permissions (is_cooperative_admin)", "contrib/auth/backends.py"),
    ("lot pre-read (api._visible_lot)", "recycling/selectors.py"),
    ("token authentication", "core/authentication.py"),
    ("token authentication", "rest_framework/authentication.py"),
    ("actor's company (user.company)", "accounts/services.py"),
    ("engine (auctions.services)", "auctions/services/"),
    ("engine (auctions.services)", "recycling/services/locks.py:lock_lot"),
)


def _origin(sql: str) -> str:
    if sql.strip().upper() in ("BEGIN", "COMMIT", "ROLLBACK") or sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
        return "transaction control (BEGIN/COMMIT)"
    stack = [f"{frame.filename}:{frame.name}" for frame in traceback.extract_stack()]
    for label, fragment in ORIGINS:
        if any(fragment in where for where in stack):
            return label
    return "other"


def statement_count(sql: str) -> int:
    """Statements in one query string (core.sql.execute_together sends several at once)."""
    import sqlparse

    return sum(1 for statement in sqlparse.split(sql) if statement.strip())


def count_queries(seller, admin, bidders, tokens) -> list[tuple[str, list[tuple[str, str]]]]:
    """Statements of one accepted bid, captured in-process: through DRF's test client (the
    view, middleware, token authentication, the e-mail after commit) and bid_place alone; each
    statement labelled with the code that issued it."""
    from rest_framework.test import APIClient

    from auctions import services
    from recycling.models import Lot

    lot_id = fresh_lot(seller, admin)
    # Steady state of a hot lot: both bidders have bid already (a company's first bid on a lot
    # also makes its bidder row: two more statements, the count for its alias number and the
    # insert), and both have an unread outbid notice (the first outbid on a lot inserts the
    # notice: one more statement and its BEGIN/COMMIT; later ones update it).
    services.bid_place(actor=bidders[1], lot_id=lot_id, amount=START)
    services.bid_place(actor=bidders[0], lot_id=lot_id, amount=START + STEP)
    services.bid_place(actor=bidders[1], lot_id=lot_id, amount=START + 2 * STEP)
    rows = []

    def captured(call) -> list[tuple[str, str]]:
        seen: list[tuple[str, str]] = []

        def label(execute, sql, params, many, context):
            seen.append((_origin(sql), sql))  # as written, with placeholders
            return execute(sql, params, many, context)

        with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(label):
            call()
        # BEGIN/COMMIT are logged by the transaction code, not through the cursor's wrappers.
        labelled = iter(seen)
        out = [
            ("transaction control (BEGIN/COMMIT)", q["sql"]) if q["sql"] in ("BEGIN", "COMMIT") else next(labelled)
            for q in ctx.captured_queries
        ]
        assert next(labelled, None) is None
        return out

    for label, who in (("outbids another bidder", 0), ("raises its own lead", 0)):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {tokens[who]}")
        amount = services.minimum_next_bid(Lot.objects.get(pk=lot_id))

        def post(client=client, amount=amount):
            response = client.post(f"/api/v1/lots/{lot_id}/bids/", {"amount": f"{amount:.2f}"}, format="json")
            assert response.status_code == 201, response.content

        rows.append((f"HTTP API, a bid that {label}", captured(post)))
    for label, who in (("outbids another bidder", 1), ("raises its own lead", 1)):
        amount = services.minimum_next_bid(Lot.objects.get(pk=lot_id))
        rows.append(
            (
                f"bid_place alone, a bid that {label}",
                captured(
                    lambda who=who, amount=amount: services.bid_place(actor=bidders[who], lot_id=lot_id, amount=amount)
                ),
            )
        )
    return rows


def service_times(seller, admin, bidders, tokens, n: int = 100) -> list[tuple[str, float]]:
    """One request at a time, in-process (no concurrency): what each call costs on its own.
    Under Daphne every sync view runs in one thread per process, so with k clients waiting a
    request's latency is about k × this."""
    from rest_framework.test import APIClient

    from auctions import services
    from core.errors import DomainError

    lot_id = fresh_lot(seller, admin)
    clients = []
    for token in tokens[:2]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        clients.append(client)
    amount = START
    out = []

    def timed(label: str, call) -> None:
        for i in range(5):
            call(i)
        t0 = time.perf_counter()
        for i in range(n):
            call(i)
        out.append((label, (time.perf_counter() - t0) / n * 1000))

    def api_accepted(i: int) -> None:
        nonlocal amount
        response = clients[i % 2].post(f"/api/v1/lots/{lot_id}/bids/", {"amount": f"{amount:.2f}"}, format="json")
        assert response.status_code == 201, response.content
        amount += STEP

    def api_refused(i: int) -> None:
        response = clients[i % 2].post(f"/api/v1/lots/{lot_id}/bids/", {"amount": f"{START:.2f}"}, format="json")
        assert response.status_code == 409, response.content

    def engine_accepted(i: int) -> None:
        nonlocal amount
        services.bid_place(actor=bidders[i % 2], lot_id=lot_id, amount=amount)
        amount += STEP

    def engine_refused(i: int) -> None:
        with contextlib.suppress(DomainError):
            services.bid_place(actor=bidders[i % 2], lot_id=lot_id, amount=START)

    timed("HTTP API (test client), accepted bid, outbidding", api_accepted)
    timed("HTTP API (test client), refused bid (bid_too_low)", api_refused)
    timed("bid_place alone, accepted bid, outbidding", engine_accepted)
    timed("bid_place alone, refused bid (bid_too_low)", engine_refused)
    return out


def report(name: str, tally: Tally, elapsed: float) -> dict:
    attempts = tally.accepted + tally.refused
    row = {
        "name": name,
        "accepted_per_s": tally.accepted / elapsed,
        "attempts_per_s": attempts / elapsed,
        "accepted": tally.accepted,
        "refused": tally.refused,
        "p50_ms": statistics.median(tally.latencies) * 1000 if tally.latencies else float("nan"),
        "p99_ms": percentile(tally.latencies, 99) * 1000,
        "acc_p50_ms": statistics.median(tally.accepted_latencies) * 1000 if tally.accepted_latencies else float("nan"),
        "acc_p99_ms": percentile(tally.accepted_latencies, 99) * 1000,
    }
    if tally.errors:
        print(f"  ! {name}: {len(tally.errors)} unexpected answers, e.g. {tally.errors[0]}")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bidders", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0, help="per path (default 10)")
    parser.add_argument("--daphnes", type=int, default=1, help="Daphne processes for the HTTP path (default 1)")
    parser.add_argument("--paths", default="bare,inprocess,http", help="which paths to run (default all three)")
    parser.add_argument(
        "--workers",
        default="threads,processes",
        help="how the bare and bid_place bidders run: threads of this process, forked processes, or both "
        "(default both)",
    )
    parser.add_argument("--app", default="recycling.asgi:application", help="ASGI application for Daphne")
    parser.add_argument("--show-queries", action="store_true", help="print the SQL of the counted bids")
    args = parser.parse_args()
    paths = args.paths.split(",")

    call_command("migrate", verbosity=0)
    # Two at least: the service times and statement counts need one bidder to outbid another.
    seller, admin, everyone, all_tokens = people(max(args.bidders, 2))
    bidders, tokens = everyone[: args.bidders], all_tokens[: args.bidders]
    print(
        f"PostgreSQL {connection.pg_version}, {os.cpu_count()} CPUs (load {os.getloadavg()[0]:.1f}), "
        f"{args.bidders} bidders, {args.seconds:.0f} s per path, "
        f"channel layer: {os.environ['REDIS_URL'] or 'in-memory'}"
    )

    from auctions.selectors import ledger_verify
    from recycling.models import Lot

    rows, lots = {}, []
    for workers in args.workers.split(","):
        if "bare" in paths:
            lots.append(fresh_lot(seller, admin))
            tally, elapsed = bench_bare(lots[-1], bidders, args.seconds, workers)
            rows[f"bare {workers}"] = report(f"bare psycopg, {args.bidders} {workers}", tally, elapsed)
        if "inprocess" in paths:
            lots.append(fresh_lot(seller, admin))
            tally, elapsed = bench_in_process(lots[-1], bidders, args.seconds, workers)
            rows[f"inprocess {workers}"] = report(f"bid_place, {args.bidders} {workers}", tally, elapsed)
    if "http" in paths:
        logs = Path(tempfile.mkdtemp(prefix="bench-bids-"))
        servers = [start_daphne(args.app, logs / f"daphne-{n}.log") for n in range(args.daphnes)]
        try:
            lots.append(fresh_lot(seller, admin))
            label = f"HTTP POST /bids/, Daphne ×{args.daphnes}"
            rows["http"] = report(label, *bench_http(lots[-1], tokens, [port for _, port in servers], args.seconds))
        finally:
            for proc, _ in servers:
                stop(proc)
            kept = False
            for log in sorted(logs.glob("*.log")):
                text = log.read_text(errors="replace")
                errors = [line for line in text.splitlines() if line.startswith(("Traceback", "Internal Server Error"))]
                if errors:
                    kept = True
                    print(f"  ! Daphne logged {len(errors)} errors, see {log}")
                else:
                    log.unlink()
            if not kept:
                logs.rmdir()

    for lot_id in lots:
        problems = ledger_verify(lot_id=lot_id)
        assert not problems, problems
        lot = Lot.objects.get(pk=lot_id)
        assert lot.bid_count == lot.bids.count(), (lot.bid_count, lot.bids.count())
    print(f"load after the runs {os.getloadavg()[0]:.1f}; ledgers verified, bid counts agree\n")

    print(
        f"{'path':38} {'accepted/s':>10} {'attempts/s':>10} {'accepted':>8} {'refused':>8} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'vs bare':>8}"
    )
    for key, row in rows.items():
        # bid_place against the bare path run the same way; HTTP against bare threads.
        bare = rows.get(f"bare {key.split()[1]}" if " " in key else "bare threads")
        ratio = f"{row['accepted_per_s'] / bare['accepted_per_s']:8.0%}" if bare else ""
        print(
            f"{row['name']:38} {row['accepted_per_s']:10.1f} {row['attempts_per_s']:10.1f} {row['accepted']:8d} "
            f"{row['refused']:8d} {row['p50_ms']:7.1f} {row['p99_ms']:7.1f} {ratio}"
        )
    print("(latency: every attempt, accepted or refused)")
    if "http" in rows:
        http = rows["http"]
        print(f"HTTP, accepted bids only: p50 {http['acc_p50_ms']:.1f} ms, p99 {http['acc_p99_ms']:.1f} ms")

    print("\nService time of one call, one at a time, in-process (ms):")
    for label, ms in service_times(seller, admin, everyone, all_tokens):
        print(f"  {label:56} {ms:6.1f}")

    print(
        "\nSQL per accepted bid (CaptureQueriesContext, in-process): round trips (queries sent) and the "
        "statements in them; BEGIN/COMMIT included"
    )
    print(f"  {'':52} {'trips':>5} {'stmts':>5}  (statements without BEGIN/COMMIT)")
    for label, queries in count_queries(seller, admin, everyone, all_tokens):
        statements = sum(statement_count(sql) for _, sql in queries)
        without = sum(statement_count(sql) for origin, sql in queries if not origin.startswith("transaction"))
        print(f"  {label:52} {len(queries):5d} {statements:5d}  ({without})")
        by_origin: Counter = Counter()
        for origin, sql in queries:
            by_origin[origin] += statement_count(sql)
        for origin, n in by_origin.most_common():
            print(f"      {n:2d}  {origin}")
        if args.show_queries:
            for origin, sql in queries:
                print(f"        [{origin[:12]}] ({statement_count(sql)}) {' '.join(sql.split())[:140]}")

    targets = []
    for workers in args.workers.split(","):
        bare, inproc = rows.get(f"bare {workers}"), rows.get(f"inprocess {workers}")
        if bare and inproc:
            ratio = inproc["accepted_per_s"] / bare["accepted_per_s"]
            targets.append(f"bid_place ≥ 50% of bare [{workers}: {ratio:.0%}]")
    if "http" in rows:
        http = rows["http"]
        targets.append(
            f"HTTP ≥ 60 accepted bids/s [{http['accepted_per_s']:.1f}] with p50 ≤ 50 ms [{http['p50_ms']:.1f}]"
        )
    targets.append("≤ 10 SQL statements per accepted bid [above]")
    print("\ntargets: " + "; ".join(targets))


if __name__ == "__main__":
    main()
