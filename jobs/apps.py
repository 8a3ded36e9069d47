import gc

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        post_migrate.connect(create_cache_tables, sender=self)
        post_migrate.connect(schedule_chores, sender=self)
        # Import every kind, and the libraries they use (openai, numpy, bm25s, ...), in
        # the process that forks the worker processes: each worker then shares those
        # pages instead of importing a copy of its own on its first job (measured: about
        # 70 MiB less per running job, see docs/benchmarks.md).
        # queue and the worker connect to the worker processes' start signal (each starts
        # its Worker: keeper and sweep); the accounts' sessions to user_logged_in,
        # recording each login for the user's session list.
        from jobs.accounts import sessions  # noqa: F401
        from jobs.engine import queue  # noqa: F401
        from jobs.engine.registry import all_kinds
        from jobs.engine.worker import process  # noqa: F401

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


def schedule_chores(sender, using="default", **kwargs) -> None:
    """Every deploy's migrate schedules the cluster's own chore under its current task
    path: pruning old jobs daily (and removes the old once-a-minute lost-job schedule:
    each worker process's sweep looks for lost jobs)."""
    from jobs.engine.queue import ensure_schedules

    ensure_schedules(using)
