"""The task queue: django-q2 on the ORM broker, in the app's own database.

A task only says "start the best queued jobs now" (jobs.engine.tasks.start_next_job): the
worker that runs it asks the dispatcher which jobs those are. This module and retention.py
are the only code that imports django_q (pyproject.toml's import contracts hold it so).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import OrmQ, Schedule
from django_q.signals import post_spawn
from django_q.status import Stat
from django_q.tasks import async_task, schedule

from jobs.models import Job

START_TASK = "jobs.engine.tasks.start_next_job"
PRUNE_TASK = "jobs.engine.tasks.prune_old_jobs"


# A start task's success says only "started" or "idle", and storing it costs the monitor a
# locked read of every stored success (django-q2's save_limit pruning): failures only.
START_OPTIONS = {"save": False}
# A start task taken by a cluster longer ago than this is not coming (pending_tasks).
TASK_HANDOFF_SECONDS = 10


def enqueue(job: Job) -> None:
    """Queue a task for the job, inside the transaction that queues the job. Sets
    `job.task_id`, which the caller saves (with the INSERT of a new job)."""
    job.task_id = async_task(START_TASK, str(job.pk), task_name=f"job-{job.pk}", **START_OPTIONS)


def enqueue_anonymous(count: int) -> None:
    """Queue `count` tasks that start whichever job is next."""
    for _ in range(count):
        async_task(START_TASK, task_name="dispatch", **START_OPTIONS)


def enqueue_at(job: Job, at: datetime) -> None:
    """Queue a task for the job at a later time (a retry's backoff).

    The broker has no delayed enqueue; a one-off schedule is django-q2's way.
    """
    schedule(
        START_TASK,
        str(job.pk),
        name=f"retry-{job.pk}-{job.attempts}",
        schedule_type=Schedule.ONCE,
        next_run=at,
    )


def pending_tasks():
    """The queue rows of tasks that will run soon: still to be handed out, or handed out
    in the last TASK_HANDOFF_SECONDS (a task is deleted once it has run).

    A start task runs in a fraction of a second once a cluster takes it, so one taken
    longer ago went to a cluster that died; the broker hands it out again only when its
    lease (Q_CLUSTER's `retry`) runs out, and until then it starts nothing.
    """
    now = timezone.now()
    taken_since = now + timedelta(seconds=Conf.RETRY - TASK_HANDOFF_SECONDS)
    return OrmQ.objects.filter(key=get_broker().list_key).filter(
        Q(lock__lte=now) | Q(lock__gt=taken_since)
    )


def ensure_schedules(using: str = "default") -> None:
    """The cluster's own chore: pruning daily. (Lost jobs are each worker's sweep's: the
    once-a-minute schedule of earlier versions is removed.)"""
    Schedule.objects.using(using).filter(name="recover-lost-jobs").delete()
    # Daily, from the first migrate on; a later deploy keeps the time of the next run.
    Schedule.objects.using(using).update_or_create(
        name="prune-old-jobs",
        defaults={"func": PRUNE_TASK, "schedule_type": Schedule.DAILY, "repeats": -1},
    )


def alive_clusters() -> list[Stat]:
    """The clusters that reported in the last few seconds and can take work.

    Each cluster writes its status to the cache every half second, kept for 3 seconds, so
    a dead one drops out by itself; one shutting down takes no new task and says so. One
    still starting reports before it has spawned its workers (with none listed), so it
    counts once it is up.
    """
    not_ready = {str(Conf.STARTING), str(Conf.STOPPING), str(Conf.STOPPED)}
    return [stat for stat in Stat.get_all() if str(stat.status) not in not_ready]


def lower_worker_priority(sender, **kwargs) -> None:
    """In each worker process as it starts: let the web server (and PostgreSQL) come first
    for the CPU where they share a machine, so pages answer while hundreds of jobs start.
    A job waits on its model most of the time and hardly notices."""
    if settings.JOB_WORKER_NICE > 0:
        os.nice(settings.JOB_WORKER_NICE)
        lower_session_group(settings.JOB_WORKER_NICE)


AUTOGROUP = Path("/proc/self/autogroup")


def lower_session_group(nice: int) -> bool:
    """Lower the CPU share of the cluster's session, where Linux groups processes by
    session (autogroup, on in most kernels): there a nice value counts only against the
    processes of its own session, and run_worker and honcho start the cluster in a
    session of its own, so os.nice alone left hundreds of job threads level with the web
    server (a burst's job pages waited seconds for a core). Only when the cluster's main
    process leads the session, so that nothing else (a web server started by the same
    script) is lowered with it. Returns whether the group was lowered."""
    if not AUTOGROUP.exists():
        return False
    try:
        # A worker process's parent is the cluster's sentinel, whose parent is its main.
        main = parent_of(os.getppid())
        if os.getsid(0) != main:
            return False
        AUTOGROUP.write_text(str(nice))
    except OSError:
        # A kernel or container that refuses it: the nice value still orders the session.
        return False
    return True


def parent_of(pid: int) -> int:
    # /proc/<pid>/stat: "pid (command) state ppid ...", the command may hold spaces.
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


post_spawn.connect(lower_worker_priority, dispatch_uid="jobs.lower_worker_priority")
