"""Fan-out benchmark: 1,000 WebSocket watchers on one lot, bid commit → receipt at every watcher.

    .venv/bin/python bench/fanout.py [--watchers 1000] [--events 40] [--daphnes 1] [--gc-freeze]

Three measurements in one run, received by the same watcher processes:

R. real: a bid placed with auctions.services.bid_place in this process; the clock starts when
   its transaction commits (an on_commit hook registered before the engine's broadcast) and
   stops when each watcher's client has the frame — through the Redis channel layer, Daphne,
   the LotConsumer and the socket;
A. bare Channels: another real bid whose broadcast is held back, its message then sent with a
   plain channel_layer.group_send (clock started just before it) to the lot's group, i.e. the
   same 1,000 sockets of the same Daphne — the engine's after-commit path taken out;
B. bare `websockets`: a server on the `websockets` library (its own process, no Django, no
   Channels) writing the same text to 1,000 sockets of its own with the library's
   `broadcast()`, asked over a control WebSocket connection kept open for the run (clock
   started just before the text is sent on it).

R, A and B take turns event by event (so the machine's load falls on all three alike). Every
sample is one (event, watcher) delivery, in ms, on CLOCK_MONOTONIC (one clock for every
process of the machine). Watchers run in --clients spawned processes (aiohttp clients),
connected to Daphne and to the bare server from the start. Loopback only; every loop is
bounded, every process is stopped at the end. `--daphnes N` spreads the watchers over N
Daphne processes; `--gc-freeze` / `--gc-threshold a,b,c` serve
`bench.fanout:gc_tuned_application` (recycling.asgi, then gc.freeze() after start-up /
gc.set_threshold) to measure those wins.

DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/recycling_bench_fanout (created
and migrated when missing); REDIS_URL to redis://127.0.0.1:6379/0, with a prefix of this run's
own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def __getattr__(name: str):
    """`daphne bench.fanout:gc_tuned_application`: the project's ASGI app, then the garbage
    collector settings under test (env BENCH_GC_FREEZE=1: gc.freeze() after start-up, so that
    the start-up objects leave the collected generations; BENCH_GC_THRESHOLD=a,b,c:
    gc.set_threshold(a, b, c))."""
    if name == "gc_tuned_application":
        import gc

        from recycling.asgi import application

        if os.environ.get("BENCH_GC_FREEZE") == "1":
            gc.collect()
            gc.freeze()
        if os.environ.get("BENCH_GC_THRESHOLD"):
            gc.set_threshold(*(int(n) for n in os.environ["BENCH_GC_THRESHOLD"].split(",")))
        return application
    raise AttributeError(name)


def raise_open_files(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(max(soft, wanted), hard) if hard != resource.RLIM_INFINITY else max(soft, wanted)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"server on {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port} after {timeout}s")


# --- The bare `websockets` server (spawned process, no Django) --------------------------------


def bare_server(port: int) -> None:
    """A bare server on the `websockets` library: every connection to /ws is a watcher (a hello,
    then the broadcasts); the one to /control is the bench's trigger: each text it sends is
    written to every watcher with websockets' `broadcast()` (one write per socket, no await per
    socket), then acknowledged with the number of watchers."""
    from websockets.asyncio.server import broadcast, serve

    raise_open_files(4096)
    watchers: set = set()

    async def handler(ws) -> None:
        if ws.request.path == "/control":
            async for text in ws:
                broadcast(watchers, text)
                await ws.send(str(len(watchers)))
            return
        await ws.send(json.dumps({"type": "hello", "seq": 0}))
        watchers.add(ws)
        try:
            await ws.wait_closed()
        finally:
            watchers.discard(ws)

    async def main() -> None:
        # No keepalive pings during the run, as for Daphne (--ping-interval 600) and the clients.
        async with serve(handler, "127.0.0.1", port, ping_interval=None) as server:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, server.close)
            await server.wait_closed()

    asyncio.run(main())


# --- Watcher processes (spawned, no Django) ----------------------------------------------------


def watcher_process(index: int, targets: list[tuple[str, str, str]], ready, stop, results) -> None:
    """Open one WebSocket per target (kind, url, origin), record (kind, text, monotonic time)
    of every frame after the first, until `stop` is set; then hand the records back."""
    import aiohttp

    raise_open_files(len(targets) + 256)

    async def main() -> None:
        records: list[tuple[str, str, float, int]] = []
        opened = 0
        failures: list[str] = []
        gate = asyncio.Semaphore(8)  # Daphne reads a snapshot per connect: do not stampede it
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

        async def watch(n: int, kind: str, url: str, origin: str) -> None:
            nonlocal opened
            try:
                async with gate:
                    ws = await session.ws_connect(url, origin=origin, max_msg_size=0, autoping=True)
                    await ws.receive(timeout=60)  # the snapshot, or the bare server's hello
            except Exception as exc:  # counted and reported, the run goes on
                failures.append(f"{kind}: {exc!r}")
                return
            opened += 1
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    records.append((kind, message.data, time.monotonic(), n))
                else:
                    break

        tasks = [asyncio.create_task(watch(n, *target)) for n, target in enumerate(targets)]
        deadline = time.monotonic() + 600
        while opened + len(failures) < len(targets) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        ready.put((index, opened, failures[:3]))
        while not stop.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await session.close()
        results.put((index, records))

    asyncio.run(main())


# --- The coordinator -------------------------------------------------------------------------


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/recycling_bench_fanout")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recycling.settings")
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    prefix = f"bench-fanout-{uuid.uuid4().hex[:8]}"
    os.environ["CHANNELS_PREFIX"] = prefix
    os.environ["CACHE_PREFIX"] = prefix

    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_lot_and_bidders():
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from accounts.models import Company, User
    from accounts.services import user_set_admin
    from accounts.validators import credit_code_check_char
    from recycling import services
    from recycling.models import Category

    def member(username: str, role: str, k: int) -> User:
        body = f"91230100{800000000 + k:09d}"
        company, _ = Company.objects.get_or_create(
            credit_code=body + credit_code_check_char(body),
            defaults={
                "name": f"基准围观公司{k}",
                "role": role,
                "status": "verified",
                "district": "daoli",
                "address": "道里区基准路 2 号",
                "contact_phone": "13900000000",
            },
        )
        user, created = User.objects.get_or_create(username=username, defaults={"company": company})
        if created:
            user.set_unusable_password()
            user.save()
        return user

    seller = member("bench-fanout-seller", "collector", 0)
    bidders = [member(f"bench-fanout-bidder{i}", "processor", i + 1) for i in range(2)]
    admin, created = User.objects.get_or_create(username="bench-fanout-admin")
    if created:
        user_set_admin(user=admin)
    admin = User.objects.get(pk=admin.pk)
    now = timezone.now()
    lot = services.lot_create(
        actor=seller,
        title="基准围观拍品 废铜",
        category=Category.objects.get(code="steel-heavy"),
        quantity=Decimal("12.000"),
        start_price=Decimal("2000.00"),
        bid_increment=Decimal("10.00"),
        deposit=Decimal("0.00"),
        starts_at=now - dt.timedelta(minutes=1),
        ends_at=now + dt.timedelta(days=1),
        pickup_from=now + dt.timedelta(days=2),
        pickup_until=now + dt.timedelta(days=9),
    )
    services.lot_submit(actor=seller, lot_id=lot.pk)
    services.lot_review(actor=admin, lot_id=lot.pk, decision="approve")
    return lot.pk, bidders


def start_daphne(app: str, log: Path) -> tuple[subprocess.Popen, int]:
    """Daphne on a free port; its stderr (tracebacks from the application) goes to `log`."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        DEBUG="0",
        SECRET_KEY="bench-only-" + uuid.uuid4().hex,
        SECURE_SSL_REDIRECT="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("daphne")),
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "--websocket_connect_timeout",
            "120",
            "--ping-interval",
            "600",
            app,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        start_new_session=True,
        preexec_fn=lambda: raise_open_files(8192),
    )
    wait_listening(port, proc)
    return proc, port


def stop_process(proc) -> None:
    if hasattr(proc, "is_alive"):  # multiprocessing
        if proc.is_alive():
            proc.terminate()
        proc.join(10)
        if proc.is_alive():
            proc.kill()
            proc.join(5)
        return
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--events", type=int, default=40, help="events per measurement (default 40)")
    parser.add_argument("--interval", type=float, default=0.4, help="seconds between events (default 0.4)")
    parser.add_argument("--clients", type=int, default=4, help="watcher processes (default 4)")
    parser.add_argument("--daphnes", type=int, default=1, help="Daphne processes sharing the watchers")
    parser.add_argument("--gc-freeze", action="store_true", help="Daphne runs gc.freeze() after start-up")
    parser.add_argument("--gc-threshold", default="", help="Daphne runs gc.set_threshold(a, b, c), e.g. 50000,20,100")
    parser.add_argument("--app", default="", help="another ASGI application for Daphne (what-if runs)")
    parser.add_argument("--per-event", action="store_true", help="print each event's slowest delivery")
    args = parser.parse_args()
    limit = raise_open_files(2 * args.watchers + 1024)

    setup_django()
    import multiprocessing

    from channels.layers import get_channel_layer
    from django.db import connection, transaction

    from auctions import events, services
    from auctions.events import group_name
    from recycling.models import Lot

    engine_broadcast = events.broadcast

    lot_id, bidders = make_lot_and_bidders()
    tuned = args.gc_freeze or args.gc_threshold
    app = args.app or ("bench.fanout:gc_tuned_application" if tuned else "recycling.asgi:application")
    os.environ["BENCH_GC_FREEZE"] = "1" if args.gc_freeze else ""
    os.environ["BENCH_GC_THRESHOLD"] = args.gc_threshold
    gc_notes = ("gc.freeze() " if args.gc_freeze else "") + (f"gc {args.gc_threshold} " if args.gc_threshold else "")
    print(
        f"{args.watchers} watchers, {args.events} events per measurement, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}, open-file limit {limit}, {args.daphnes} Daphne ({app} {gc_notes}), "
        f"PostgreSQL {connection.pg_version}, channel layer {os.environ['REDIS_URL']}",
        flush=True,
    )

    ctx = multiprocessing.get_context("spawn")
    processes: list = []
    logs = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    try:
        bare_port = free_port()
        bare = ctx.Process(target=bare_server, args=(bare_port,), daemon=True)
        bare.start()
        processes.append(bare)
        daphnes = [start_daphne(app, logs / f"daphne-{n}.log") for n in range(args.daphnes)]
        processes.extend(proc for proc, _ in daphnes)
        wait_listening(bare_port)

        targets: list[list[tuple[str, str, str]]] = [[] for _ in range(args.clients)]
        for n in range(args.watchers):
            _, port = daphnes[n % len(daphnes)]
            targets[n % args.clients].append(
                ("channels", f"ws://127.0.0.1:{port}/ws/lots/{lot_id}/", f"http://127.0.0.1:{port}")
            )
            targets[n % args.clients].append(
                ("bare", f"ws://127.0.0.1:{bare_port}/ws", f"http://127.0.0.1:{bare_port}")
            )
        ready, stop, results = ctx.Queue(), ctx.Event(), ctx.Queue()
        for index in range(args.clients):
            proc = ctx.Process(target=watcher_process, args=(index, targets[index], ready, stop, results))
            proc.start()
            processes.append(proc)
        started = time.monotonic()
        opened = 0
        for _ in range(args.clients):
            index, count, failures = ready.get(timeout=900)
            opened += count
            if failures:
                print(f"  client {index}: {failures}")
        print(f"{opened} of {2 * args.watchers} sockets open in {time.monotonic() - started:.1f} s", flush=True)
        time.sleep(1.0)

        sent: dict[tuple[str, int], float] = {}
        # One long-lived event loop for the bare sends (a fresh loop per send would also pay a
        # fresh Redis connection and control connection each time).
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, name="bare-sender", daemon=True).start()
        layer = get_channel_layer()
        control: dict = {}

        async def open_control() -> None:
            from websockets.asyncio.client import connect

            control["ws"] = await connect(f"ws://127.0.0.1:{bare_port}/control", ping_interval=None)

        async def trigger(text: str) -> None:
            """The bare server broadcasts `text`; returns once it has written to every watcher."""
            await control["ws"].send(text)
            await control["ws"].recv()

        def run(coro) -> None:
            asyncio.run_coroutine_threadsafe(coro, loop).result(60)

        run(open_control())
        run(layer.group_send(group_name(lot_id) + "-warm-up", {"type": "lot.event"}))
        run(trigger(json.dumps({"type": "warm-up", "seq": -1})))

        def place_bid(n: int):
            lot = Lot.objects.get(pk=lot_id)
            amount = services.minimum_next_bid(lot)
            with transaction.atomic():
                stamp: dict[str, float] = {}
                # Registered before bid_place's own, so it runs first, right after the commit.
                transaction.on_commit(lambda stamp=stamp: stamp.setdefault("t", time.monotonic()))
                result = services.bid_place(actor=bidders[n % 2], lot_id=lot_id, amount=amount)
            return result, stamp["t"]

        # The three measurements take turns, event by event, so that the machine's load (and
        # any warm-up) falls on all three alike.
        for n in range(args.events):
            # R: a real bid; the engine broadcasts after the commit.
            result, committed = place_bid(2 * n)
            sent[("channels", result.lot.seq)] = committed
            time.sleep(args.interval)

            # A: another real bid whose broadcast is held back, then sent by a bare group_send.
            held: list = []
            events.broadcast = lambda lot_pk, message, held=held: held.append(message)
            try:
                result, _ = place_bid(2 * n + 1)
            finally:
                events.broadcast = engine_broadcast
            (message,) = held
            text = json.dumps(message, ensure_ascii=False)
            t0 = time.monotonic()
            run(layer.group_send(group_name(lot_id), {"type": "lot.event", "event": message, "text": text}))
            sent[("channels-bare", message["seq"])] = t0
            time.sleep(args.interval)

            # B: the bare websockets server broadcasts the same text to its own sockets.
            text = json.dumps({**message, "seq": 1_000_000 + n}, ensure_ascii=False)
            t0 = time.monotonic()
            run(trigger(text))
            sent[("bare", 1_000_000 + n)] = t0
            time.sleep(args.interval)

        run(control["ws"].close())
        loop.call_soon_threadsafe(loop.stop)
        time.sleep(1.0)
        stop.set()
        records = []
        for _ in range(args.clients):
            index, part = results.get(timeout=120)
            records.extend((kind, text, t, (index, n)) for kind, text, t, n in part)
        # The watchers have closed their sockets: give Daphne time to run every disconnect
        # (leaving the lot's group), so that their errors reach its log before it stops.
        time.sleep(3.0)
    finally:
        for proc in processes:
            stop_process(proc)
        errors = Counter()
        for log in logs.glob("*.log"):
            for line in log.read_text(errors="replace").splitlines():
                if line.startswith("Exception inside application"):
                    errors[line] += 1
            log.unlink()
        logs.rmdir()
        print(f"Daphne logged {sum(errors.values())} application errors (watchers' disconnects included)")
        for line, n in errors.most_common():
            print(f"  {n} × {line}")

    samples: dict[str, list[float]] = {"channels": [], "channels-bare": [], "bare": []}
    per_event: dict[tuple[str, int], float] = {}
    per_watcher: dict[tuple[str, tuple], int] = {}
    for kind, text, t, watcher in records:
        seq = json.loads(text)["seq"]
        candidates = [("bare", seq)] if kind == "bare" else [("channels", seq), ("channels-bare", seq)]
        key = next((candidate for candidate in candidates if candidate in sent), None)
        if key is None:  # a warm-up frame
            continue
        latency = (t - sent[key]) * 1000
        samples[key[0]].append(latency)
        per_watcher[(key[0], watcher)] = per_watcher.get((key[0], watcher), 0) + 1
        per_event[key] = max(per_event.get(key, 0.0), latency)

    names = {
        "channels": "R  bid commit → every watcher (engine + Channels)",
        "channels-bare": "A  bare channel_layer.group_send → every watcher",
        "bare": "B  bare websockets broadcast() → every watcher",
    }
    print(
        f"\n{'measurement':52} {'deliveries':>10} {'missing':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
        f" {'last p50':>9} {'last max':>9}"
    )
    rows = {}
    for kind, label in names.items():
        values = samples[kind]
        expected = args.events * args.watchers
        lasts = [v for (k, _), v in per_event.items() if k == kind]
        rows[kind] = (statistics.median(values) if values else float("nan"), percentile(values, 99))
        print(
            f"{label:52} {len(values):10d} {expected - len(values):8d} {rows[kind][0]:8.1f} {rows[kind][1]:8.1f} "
            f"{max(values, default=float('nan')):8.1f} {statistics.median(lasts) if lasts else float('nan'):9.1f}"
            f" {max(lasts, default=float('nan')):9.1f}"
        )
        heard = sum(1 for (k, _) in per_watcher if k == kind)
        short = sum(1 for (k, _), n in per_watcher.items() if k == kind and n < args.events)
        if heard < args.watchers or short:
            print(f"   {args.watchers - heard} watchers heard nothing, {short} missed some events")
        if args.per_event:
            slowest = [f"{v:.0f}" for (k, _), v in sorted(per_event.items()) if k == kind]
            print("   slowest watcher of each event, ms:", " ".join(slowest))
    r, a, b = rows["channels"], rows["channels-bare"], rows["bare"]
    print(
        f"\nratios: R/A p50 {r[0] / a[0]:.2f}, p99 {r[1] / a[1]:.2f} (target p99 ≤ 1.5);"
        f"  R/B p50 {r[0] / b[0]:.2f}, p99 {r[1] / b[1]:.2f} (target p99 ≤ 4)"
    )
    print("('last': the slowest watcher of each event; its median and its worst over the events)")


if __name__ == "__main__":
    main()
