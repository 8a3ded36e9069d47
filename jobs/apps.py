import gc

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        post_migrate.connect(create_cache_tables, sender=self)
        post_migrate.connect(schedule_recovery, sender=self)
        # Import every kind, and the libraries they use (openai, numpy, bm25s, ...), in
        # the process that forks the worker processes: each worker then shares those
        # pages instead of importing a copy of its own on its first job (measured: about
        # 70 MiB less per running job, see docs/benchmarks.md).
        from jobs.kinds import all_kinds

        all_kinds()
        # Then keep the garbage collector off those objects: a full collection writes to
        # every object it visits, so a forked worker copied most of the shared pages on
        # its first job (measured: 57 MiB of private memory per running job, 25 MiB with
        # the freeze). They live as long as the process anyway.
        gc.freeze()


def create_cache_tables(sender, using="default", **kwargs) -> None:
    """The table where worker clusters say they are alive (for /health) comes with every
    migrate, so no deploy step can forget it."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


def schedule_recovery(sender, using="default", **kwargs) -> None:
    """Every deploy's migrate schedules the cluster's own chores: looking for lost jobs
    every minute, and pruning old ones daily."""
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
    # Daily, from the first migrate on; a later deploy keeps the time of the next run.
    Schedule.objects.using(using).update_or_create(
        name="prune-old-jobs",
        defaults={
            "func": "jobs.tasks.prune_old_jobs",
            "schedule_type": Schedule.DAILY,
            "repeats": -1,
        },
    )
