"""The auction clock: opens lots at `starts_at`, closes them at `ends_at`; on the way, the
payments' periodic steps, and on a thread of its own the e-mail outbox.

Several clocks may run at once: each open/close locks its lot and re-checks the status, so a
lot is opened and closed exactly once; on PostgreSQL the work list skips rows another clock
holds. A close interrupted by a crash rolled back with its transaction and is simply done
again by the next tick.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connections
from django.utils import timezone

from auctions.services import due_lot_ids, lot_close, lot_open
from core.services import outbox_send
from payments.services import payments_clock_tick

log = logging.getLogger("auctions.clock")


def tick() -> tuple[int, int]:
    now = timezone.now()
    to_open, to_close = due_lot_ids(now=now)
    opened = sum(1 for lot_id in to_open if lot_open(lot_id=lot_id) is not None)
    closed = sum(1 for lot_id in to_close if lot_close(lot_id=lot_id) is not None)
    payments_clock_tick()  # every 30 s at most: retry money steps, renew holds, defaults
    return opened, closed


def send_mail_until(stop: threading.Event, interval: float = 1.0) -> None:
    """The e-mail outbox (core.services.outbox_send), on a thread of its own: a slow or absent
    mail server never delays a lot's opening or closing."""
    while not stop.is_set():
        try:
            outbox_send()
        except Exception:  # keep sending; the e-mails stay queued
            log.exception("sending the e-mail outbox failed")
        close_old_connections()
        stop.wait(interval)
    connections.close_all()


class Command(BaseCommand):
    help = "Open and close lots on time, run the payments steps, send queued e-mails (safe to run several)."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=0.25, help="seconds between ticks (default 0.25)")
        parser.add_argument("--once", action="store_true", help="run one tick and exit")

    def handle(self, *args, interval: float, once: bool, **options):
        stop = False
        stop_mail = threading.Event()

        def request_stop(signum, frame):
            nonlocal stop
            stop = True
            stop_mail.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        if once:
            outbox_send()
        else:
            self.stdout.write(f"auction clock running every {interval}s")
            mail = threading.Thread(target=send_mail_until, args=(stop_mail,), name="mail-outbox", daemon=True)
            mail.start()
        while True:
            try:
                opened, closed = tick()
                if opened or closed:
                    log.info("opened %d, closed %d", opened, closed)
            except Exception:  # keep ticking; the failed lot is retried next tick
                log.exception("clock tick failed")
            if once or stop:
                break
            time.sleep(interval)
            # Between ticks, not before the first: a broken or stale connection is replaced.
            close_old_connections()
        if not once:
            stop_mail.set()
            mail.join(10)  # let a batch in flight be recorded as sent
