"""Many jobs per worker process, each in a thread of its own.

The task a worker process takes only claims the next job and hands it to a thread here,
so the process is free for its next task at once: jobs that spend their minutes waiting
on a model's stream cost a thread each (well under a MiB), not a process. The
process's keeper thread writes their progress, heartbeats and locks through one
connection, and at most JOB_DB_CONNECTIONS_PER_WORKER of them hold a connection of
their own at once (none while they wait on the model).

A worker process told to stop takes no new task and exits once its job threads have
ended: they are not daemons, so Python waits for them, and a SIGTERM'd cluster drains.
"""

from __future__ import annotations

import logging
import os
import threading

from django.conf import settings

from jobs.engine import running
from jobs.engine.keeper import Keeper
from jobs.engine.slots import DatabaseSlots
from jobs.models import Job

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_process: _Process | None = None


class _Process:
    """This process's keeper and database slots, made on its first job."""

    def __init__(self):
        self.pid = os.getpid()
        self.keeper = Keeper()
        self.keeper.start()
        self.db_slots = DatabaseSlots(settings.JOB_DB_CONNECTIONS_PER_WORKER)


def _here() -> _Process:
    global _process
    with _lock:
        # A forked child inherits the parent's objects but not its threads.
        if _process is None or _process.pid != os.getpid():
            _process = _Process()
        return _process


class Kept:
    """What runs beside a job in a thread: the keeper for its reports, heartbeat and
    lock, and a database slot that it gives back while it waits."""

    write_interval = 0.0  # reports cost a dict update; the keeper batches the writes

    def __init__(self, process: _Process):
        self.keeper = process.keeper
        self.slot = process.db_slots

    def write(self, job_id, fields: dict) -> bool:
        self.keeper.report(job_id, fields)
        return True

    def event(self, event) -> None:
        self.keeper.report(event.job_id, {}, event=event)

    def begin(self, job: Job, on_stop) -> bool:
        return self.keeper.attach(job.pk, on_stop)

    def working(self):
        return self.slot.held()

    def end(self, job: Job) -> None:
        self.keeper.detach(job.pk)

    def release(self, job: Job) -> None:
        self.keeper.release(job.pk)


def start_next_job() -> str:
    """What a worker's task does: claim the job the dispatcher picks, and start it in a
    thread of this process."""
    job = running.claim_next()
    if job is None:
        return "idle"
    start(job)
    return "started"


def start(job: Job) -> threading.Thread:
    """Run the claimed job in a thread of this process."""
    process = _here()
    thread = threading.Thread(target=_run, args=(job, process), name=f"job-{job.pk}")
    thread.start()
    return thread


def _run(job: Job, process: _Process) -> None:
    try:
        running.execute(job, Kept(process))
        with process.db_slots.held():
            # A job that could not start while every slot was taken needs a task now
            # that one is free.
            running.top_up()
    except Exception:
        logger.exception("job thread failed id=%s", job.pk)
