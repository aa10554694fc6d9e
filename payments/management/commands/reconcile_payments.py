"""Compare every open payment with Stripe and repair local state.

Re-reads each open deposit hold and balance charge from Stripe and records what happened
(the same code as the webhooks), schedules the money steps a crash left unrecorded, then runs
every pending step now. Exit 0 when done; 1 when Stripe could not be reached (nothing is lost:
run it again, or let the auction clock's retry loop finish the work).

    python manage.py reconcile_payments
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from payments.services import payments_reconcile, steps_inline
from payments.stripe_client import ProviderUnavailable


class Command(BaseCommand):
    help = "Compare every open payment with Stripe and repair local state."

    def handle(self, *args, **options):
        try:
            with steps_inline():
                counts = payments_reconcile()
        except ProviderUnavailable as exc:
            raise CommandError(f"Stripe is unreachable ({exc}); pending steps stay recorded for the retry.") from exc
        self.stdout.write(" ".join(f"{key}={value}" for key, value in sorted(counts.items())))
