from django.apps import AppConfig
from django.db.models.signals import post_migrate


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        post_migrate.connect(schedule_recovery, sender=self)
        # Import every kind, and the libraries they use (openai, numpy, bm25s, ...), in
        # the process that forks the worker processes: each worker then shares those
        # pages instead of importing a copy of its own on its first job (measured: about
        # 70 MiB less per running job, see docs/benchmarks.md).
        from jobs.kinds import all_kinds

        all_kinds()


def schedule_recovery(sender, using="default", **kwargs) -> None:
    """Every deploy's migrate makes sure the cluster looks for lost jobs every minute."""
    from django_q.models import Schedule

    Schedule.objects.using(using).update_or_create(
        name="recover-lost-jobs",
        defaults={
            "func": "jobs.tasks.recover_lost_jobs",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
