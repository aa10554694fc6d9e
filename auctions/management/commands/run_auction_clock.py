"""The auction clock: opens lots at `starts_at`, closes them at `ends_at`; beside it, each on
a thread of its own, the payments' periodic steps and the e-mail outbox.

Several clocks may run at once: each open/close locks its lot and re-checks the status, so a
lot is opened and closed exactly once; on PostgreSQL the work list skips rows another clock
holds. A close interrupted by a crash rolled back with its transaction and is simply done
again by the next tick.

Only the opening and closing run on the clock's own thread. The other two wait on outside
services (Stripe, up to STRIPE_TIMEOUT per call, and the mail server), and a close is due
within a second of `ends_at` whatever those services do.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connections
from django.utils import timezone

from auctions.services import due_lot_ids, lot_close, lot_open
from core.services import outbox_send
from payments.services import payments_clock_tick

log = logging.getLogger("auctions.clock")


def tick() -> tuple[int, int]:
    """Open and close what is due now."""
    now = timezone.now()
    to_open, to_close = due_lot_ids(now=now)
    opened = sum(1 for lot_id in to_open if lot_open(lot_id=lot_id) is not None)
    closed = sum(1 for lot_id in to_close if lot_close(lot_id=lot_id) is not None)
    return opened, closed


def repeat_until(stop: threading.Event, interval: float, work: Callable[[], object], what: str) -> None:
    """`work` every `interval` seconds on this thread until `stop` is set; a failure is logged
    and the next round tries again. Between rounds, not before the first, a broken or stale
    database connection is replaced."""
    while True:
        try:
            work()
        except Exception:
            log.exception("%s failed", what)
        if stop.wait(interval):
            break
        close_old_connections()
    connections.close_all()


def send_mail_until(stop: threading.Event, interval: float = 1.0) -> None:
    """The e-mail outbox (core.services.outbox_send); failed e-mails stay queued."""
    repeat_until(stop, interval, outbox_send, "sending the e-mail outbox")


def run_payments_until(stop: threading.Event, interval: float = 1.0) -> None:
    """The payments round (payments_clock_tick: every 30 s at most, never raises): retries,
    renewals, defaults."""
    repeat_until(stop, interval, payments_clock_tick, "the payments round")


def run_clock(stop: threading.Event, interval: float = 0.25) -> None:
    """The running clock: ticks on this thread, payments and e-mail on threads of their own,
    until `stop` is set; then lets a round in flight finish (an e-mail batch is recorded as
    sent, a Stripe call's outcome as done)."""
    helpers = [
        threading.Thread(target=run_payments_until, args=(stop,), name="payments-round", daemon=True),
        threading.Thread(target=send_mail_until, args=(stop,), name="mail-outbox", daemon=True),
    ]
    for thread in helpers:
        thread.start()

    def ticks() -> None:
        opened, closed = tick()
        if opened or closed:
            log.info("opened %d, closed %d", opened, closed)

    repeat_until(stop, interval, ticks, "clock tick")
    for thread in helpers:
        thread.join(15)


class Command(BaseCommand):
    help = "Open and close lots on time, run the payments steps, send queued e-mails (safe to run several)."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=0.25, help="seconds between ticks (default 0.25)")
        parser.add_argument("--once", action="store_true", help="run one tick and exit")

    def handle(self, *args, interval: float, once: bool, **options):
        if once:
            opened, closed = tick()
            payments_clock_tick()
            outbox_send()
            if opened or closed:
                log.info("opened %d, closed %d", opened, closed)
            return
        stop = threading.Event()

        def request_stop(signum, frame):
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        self.stdout.write(f"auction clock running every {interval}s")
        run_clock(stop, interval)
