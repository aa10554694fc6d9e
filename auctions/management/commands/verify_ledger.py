from django.core.management.base import BaseCommand, CommandError

from auctions.selectors import ledger_verify


class Command(BaseCommand):
    help = "Check every lot's hash-chained event log; exit non-zero at the first broken event of a lot."

    def add_arguments(self, parser):
        parser.add_argument("--lot", type=int, help="only this lot id")

    def handle(self, *args, lot=None, **options):
        problems = ledger_verify(lot_id=lot)
        if problems:
            for problem in problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(problems)} lot(s) with a broken ledger")
        self.stdout.write(self.style.SUCCESS("every ledger holds"))
