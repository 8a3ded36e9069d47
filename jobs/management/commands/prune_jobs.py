from django.conf import settings
from django.core.management.base import BaseCommand

from jobs.engine import retention


class Command(BaseCommand):
    help = (
        "Delete ended jobs past JOB_CLEANUP_DAYS (failed ones past JOB_CLEANUP_FAILED_DAYS), "
        "django-q2's old task records and spent retry schedules, and print how many."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )

    def handle(self, *args, dry_run: bool, **options):
        counts = retention.prune(dry_run=dry_run)
        ended, failed = settings.JOB_CLEANUP_DAYS, settings.JOB_CLEANUP_FAILED_DAYS
        self.stdout.write(
            f"{'Would delete' if dry_run else 'Deleted'} (jobs are kept {keeping(ended)} "
            f"after they end, failed ones {keeping(failed)}):"
        )
        for name, count in counts.items():
            self.stdout.write(f"  {name}: {count}")


def keeping(days: int) -> str:
    return f"{days} days" if days > 0 else "forever"
