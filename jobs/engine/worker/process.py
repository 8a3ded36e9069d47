"""The Worker: the one way a job runs, in a thread of its own.

A worker process's task only claims queued jobs and hands each to a thread here, so the
process is free for its next task at once: jobs that spend their minutes waiting on a
model's stream cost a thread each (well under a MiB), not a process. The Worker owns what
runs beside them: the keeper that writes their progress, heartbeats and locks through one
connection, the database slots that let at most JOB_DB_CONNECTIONS_PER_WORKER of them
hold a connection at once (none while they wait on the model), and the sweep that
queues again the jobs of workers that died. If the keeper or the sweep dies, the process
ends (supervision.py) rather than live on half-broken.

One Worker per worker process (`current()`), started as django-q2 spawns the process.
Tests and jobs run by hand start one in batch mode (`run_batch`, `run_job`): the same
threads, keeper and slots, waited for. A batch started inside a transaction (a test's)
shares its caller's connection, its threads taking turns on it, so that they see what
the caller has not committed.

A worker process told to stop takes no new task and exits once its job threads have
ended: they are not daemons, so Python waits for them, and a SIGTERM'd cluster drains.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django_q.signals import post_spawn

from jobs.engine import notifications
from jobs.engine.slots import DatabaseSlots
from jobs.engine.worker import attempts, claiming, recovery
from jobs.engine.worker.keeper import Keeper
from jobs.engine.worker.supervision import SideThread, end_process
from jobs.models import Job, JobEvent

logger = logging.getLogger(__name__)

# How many queued jobs one task claims at most: a burst starts many per transaction
# (measured: 1,000 queued deep dives all running 21 s after their submission with 8
# jobs a task picked one by one, 3 s with batches of 32; docs/benchmarks.md section 6).
CLAIMS_PER_TASK = 32


class Worker:
    """Runs claimed jobs, each in a thread, and is what their contexts report through
    (the Sink of jobs/engine/context.py): a report is a dict update for the keeper."""

    write_interval = 0.0  # the keeper batches the writes

    def __init__(
        self,
        *,
        sweep: bool = True,
        share: BaseDatabaseWrapper | None = None,
        on_death=end_process,
    ):
        self._share = share
        if share is None:
            self.db_slots = DatabaseSlots(settings.JOB_DB_CONNECTIONS_PER_WORKER)
            self.keeper = Keeper(on_death, on_ended=self._tell_owners)
        else:
            # One connection: one thread at a time uses it, the keeper included.
            self.db_slots = DatabaseSlots(1, keep=share)
            self.keeper = Keeper(
                on_death, share=share, turn=self.db_slots.held, on_ended=self._tell_owners
            )
        # E-mails go out from a thread of their own: a slow mail server must not hold up
        # the keeper's heartbeats.
        self._mailer = ThreadPoolExecutor(1, "job-mailer", initializer=self._enter_thread)
        self.sweep = Sweep(on_death) if sweep and settings.JOB_SWEEP_SECONDS > 0 else None
        self.outcomes: dict[str, str] = {}
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self.pid = os.getpid()

    @property
    def slot(self) -> DatabaseSlots:
        return self.db_slots

    # --- Life ---------------------------------------------------------------------------

    def start(self) -> Worker:
        if self._share is not None:
            self._share.inc_thread_sharing()
        self.keeper.start()
        if self.sweep:
            self.sweep.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for every job thread to end; False if some still run after `timeout`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                threads = list(self._threads)
            if not threads:
                return True
            for thread in threads:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                thread.join(left)
                if deadline is not None and time.monotonic() >= deadline:
                    with self._lock:
                        return not self._threads

    def stop(self, timeout: float = 10.0) -> None:
        """Wait for the jobs, then stop the sweep and the keeper (writing what is pending)."""
        self.wait(timeout)
        if self.sweep:
            self.sweep.stop()
        self.keeper.stop()
        self._mailer.shutdown(wait=True)
        if self._share is not None:
            self._share.dec_thread_sharing()

    # --- Jobs ---------------------------------------------------------------------------

    def take(self, most: int = CLAIMS_PER_TASK) -> list[Job]:
        """What a task does: claim up to `most` jobs the dispatcher picks, and start each
        in a thread."""
        jobs = claiming.claim_several(most, spread=settings.Q_CLUSTER["workers"])
        for job in jobs:
            self.start_job(job)
        return jobs

    def start_job(self, job: Job) -> threading.Thread:
        """Run a claimed job in a thread of this worker."""
        thread = threading.Thread(target=self._run, args=(job,), name=f"job-{job.pk}")
        with self._lock:
            self._threads.add(thread)
        thread.start()
        return thread

    def run_job(self, job: Job) -> str:
        """Run a claimed job in a thread of this worker and wait for it: its outcome."""
        self.start_job(job).join()
        return self.outcomes.get(str(job.pk), "crashed")

    def run_batch(self) -> dict[str, str]:
        """Run every job that may start, until none is left to start or running: each
        job's outcome (as django-tasks' `db_worker --batch` does)."""
        while True:
            if not self.take():
                with self._lock:
                    if not self._threads:
                        return dict(self.outcomes)
                time.sleep(0.05)

    def _run(self, job: Job) -> None:
        self._enter_thread()
        try:
            outcome = self.outcomes[str(job.pk)] = attempts.execute(job, self)
            if outcome not in (Job.Status.SUCCEEDED, Job.Status.FAILED):
                # A job that could not start while every slot was taken needs a task now
                # that one is free (the keeper sees to it for the jobs it ended).
                with self.db_slots.held():
                    claiming.top_up()
        except Exception:
            logger.exception("job thread failed id=%s", job.pk)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _enter_thread(self) -> None:
        if self._share is not None:
            connections[self._share.alias] = self._share

    def _tell_owners(self, ended: set[str]) -> None:
        """In the keeper's thread, as a batch of jobs ends: claim the e-mails owed (two
        queries for the batch), and have the mailer thread send them."""
        claimed = notifications.claim(ended)
        if claimed:
            self._mailer.submit(self._send, claimed)

    def _send(self, claimed: list[Job]) -> None:
        # The database is used only if the mail server refuses (the claims taken back);
        # a shared connection is used in turns.
        turn = self.db_slots.held() if self._share is not None else nullcontext()
        try:
            with turn:
                notifications.send(claimed)
        except Exception:
            logger.exception("job notifications failed")
        finally:
            if self._share is None:
                connection.close()

    # --- What a job's context reports through (its Sink) ----------------------------------

    def write(self, job_id, fields: dict) -> bool:
        self.keeper.report(job_id, fields)
        return True

    def event(self, event: JobEvent, *, at_once: bool = True) -> None:
        self.keeper.report(event.job_id, {}, event=event, at_once=at_once)


class Sweep(SideThread):
    """Looks for lost jobs every JOB_SWEEP_SECONDS, and tops up the tasks: the one sweep."""

    def __init__(self, on_death):
        super().__init__("lost-job-sweep", on_death)

    def wake(self) -> None:
        pass  # `stopping` is what it waits on

    def work(self) -> None:
        # Spread out: every worker process of every cluster sweeps.
        while not self.stopping.wait(settings.JOB_SWEEP_SECONDS * random.uniform(0.75, 1.25)):
            try:
                recovery.recover_lost_jobs()
            except DatabaseError:
                # The database is away; the connection is opened again on the next sweep.
                logger.warning("lost-job sweep failed: database unavailable", exc_info=True)
                connection.close()
            except Exception:
                logger.exception("lost-job sweep failed")

    def cleanup(self) -> None:
        connection.close()


_lock = threading.Lock()
_current: Worker | None = None


def current() -> Worker:
    """This process's worker, started on first use."""
    global _current
    with _lock:
        # A forked child inherits the parent's objects but not its threads.
        if _current is None or _current.pid != os.getpid():
            _current = Worker().start()
        return _current


def start_in_worker_process(sender=None, **kwargs) -> None:
    """As django-q2 spawns a worker process: its sweep runs from then on."""
    current()


post_spawn.connect(start_in_worker_process, dispatch_uid="jobs.start_worker")


def run_job(job_id: str) -> str:
    """Claim this queued job and run it in a worker of its own, waiting for it (tests,
    and jobs started by hand): "skipped" when it is not queued."""
    job = claiming.claim(job_id)
    if job is None:
        logger.info("job skipped id=%s: not queued", job_id)
        return "skipped"
    caller = connections[DEFAULT_DB_ALIAS]
    share = caller if caller.in_atomic_block else None
    worker = Worker(sweep=False, share=share, on_death=_batch_death)
    worker.start()
    try:
        return worker.run_job(job)
    finally:
        worker.stop()


def _batch_death(thread: SideThread, error: BaseException | None) -> None:
    logger.critical("worker batch: its %s thread died: %s", thread.name, error, exc_info=error)
