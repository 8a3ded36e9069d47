from django.conf import settings
from django.core.management.base import BaseCommand

from jobs.analysis.tables import demo_data


class Command(BaseCommand):
    help = "Create (or re-create) the demo loan-applications table the semantic-model job profiles."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=settings.DEMO_LOAN_ROWS)
        parser.add_argument("--database", default="default")
        parser.add_argument(
            "--if-missing", action="store_true", help="Keep the table if it already has the rows."
        )

    def handle(self, *args, rows, database, if_missing, **options):
        if if_missing and demo_data.demo_row_count(database) == rows:
            self.stdout.write(f"Demo table already has {rows:,} rows.")
            return
        demo_data.load(rows, database=database)
        tables = ", ".join(ref.label for ref in demo_data.demo_tables(database))
        self.stdout.write(self.style.SUCCESS(f"Loaded {rows:,} loan applications into {tables}."))
