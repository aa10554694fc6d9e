"""`manage.py run_logistics_clock [--once]`: weighings whose dispute window has passed become
agreed and settle. Several may run: each weighing is finalised under its lot's lock, once."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from logistics.services import weighings_finalize_due


class Command(BaseCommand):
    help = "Agree weighings whose seller's dispute window has passed (and settle them)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=float, default=60.0, help="seconds between passes")

    def handle(self, *args, **options) -> None:
        while True:
            done = weighings_finalize_due()
            if done:
                self.stdout.write(f"Weighings agreed after their dispute window: {len(done)}")
            if options["once"]:
                return
            time.sleep(options["interval"])
