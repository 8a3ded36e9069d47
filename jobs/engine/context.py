"""The small object a job kind reports through while it works."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from typing import Protocol, TypeVar

from django.conf import settings
from django.utils import timezone

from jobs.engine import slots
from jobs.engine.registry import JobKind
from jobs.lib import commits
from jobs.models import Job, JobCheckpoint, JobEvent

logger = logging.getLogger(__name__)

T = TypeVar("T")


class JobError(Exception):
    """A failure whose message is written for the job's owner to read.

    `retryable` marks a failure that may pass (a provider timing out or answering 5xx);
    the others (a table that is gone, a question nothing matches) would fail again.
    """

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


class JobCancelled(Exception):
    """The job stopped being ours to run (cancelled, or taken over) while it ran."""


# Characters of a message kept: the job's row keeps as many of its current one.
MESSAGE_CHARS = 500


class Sink(Protocol):
    """Where a context's writes go: a worker's keeper, which batches them (the Worker in
    jobs/engine/worker/process.py), or, for a context made outside a worker (tests of
    the context alone), the job's row at once (DirectSink).

    `write` answers whether the job is still running as far as it knows; `slot`, when
    there is one, is the database slot the job gives back while it waits.
    """

    write_interval: float | None
    slot: slots.DatabaseSlots | None

    def write(self, job_id, fields: dict) -> bool: ...

    def event(self, event: JobEvent, *, at_once: bool = True) -> None:
        """Record the event: at once (a stage entered), or with the next batch of
        reports (a message kept for the log)."""


class DirectSink:
    """Each write an UPDATE on the calling thread's connection, answered at once: a
    context made outside a worker. Jobs themselves always run in a Worker."""

    write_interval = None
    slot = None

    def write(self, job_id, fields: dict) -> bool:
        return bool(Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(**fields))

    def event(self, event: JobEvent, *, at_once: bool = True) -> None:
        event.save()


class StageMessages:
    """The messages a stage reports after the one it started with, kept in the job's
    history for its log (jobs/engine/timeline.py), bounded so that a job reporting
    many times a second cannot flood the table: a message is kept when it differs from
    the last kept one and JOB_LOG_MESSAGE_SECONDS have passed since that one (the
    stage's start counts as one), at most JOB_LOG_MESSAGES a stage and attempt. The
    last message a stage reported is always kept, when the stage ends: one place of
    the bound is saved for it. The events go with the worker's next batch of reports,
    never a write of their own."""

    def __init__(self, sink: Sink, job_id, attempt: int, clock: Callable[[], float]):
        self._sink = sink
        self._job_id = job_id
        self._attempt = attempt
        self._clock = clock
        self._every = settings.JOB_LOG_MESSAGE_SECONDS
        self._limit = settings.JOB_LOG_MESSAGES
        self._stage = ""
        self._kept_text = ""
        self._kept_at = float("-inf")
        self._kept = 0
        # The latest message and when it was reported, when it is not kept yet.
        self._held: tuple[str, datetime] | None = None

    def begin(self, stage: str, message: str) -> None:
        """A stage entered with `message` (kept in its stage event): the last one's ends."""
        self.end()
        self._stage = stage
        self._kept_text = message[:MESSAGE_CHARS]
        self._kept_at = self._clock()
        self._kept = 0

    def heard(self, text: str) -> None:
        """The stage reported `text` now."""
        text = text[:MESSAGE_CHARS]
        if not self._stage:
            return  # before any stage: nowhere to show it
        if text == self._kept_text:
            self._held = None  # back to what is kept: nothing new to keep
            return
        if self._held is None or self._held[0] != text:
            self._held = (text, timezone.now())
        self.tick()

    def tick(self) -> None:
        """Keep the held message if its time has come (cheap: called on every report)."""
        if (
            self._held is not None
            and self._kept < self._limit - 1
            and self._clock() - self._kept_at >= self._every
        ):
            self._keep()

    def end(self) -> None:
        """The stage ended (another began, or the attempt ended): its last message is kept."""
        if self._held is not None and self._kept < self._limit:
            self._keep()
        self._held = None

    def _keep(self) -> None:
        (text, at), self._held = self._held, None
        self._kept_text, self._kept_at = text, self._clock()
        self._kept += 1
        event = JobEvent(
            job_id=self._job_id,
            type=JobEvent.Type.MESSAGE,
            name=self._stage,
            message=text,
            attempt=self._attempt,
            at=at,
        )
        self._sink.event(event, at_once=False)


class JobContext:
    def __init__(
        self,
        job: Job,
        kind: JobKind,
        *,
        clock: Callable[[], float] = time.monotonic,
        write_interval: float | None = None,
        sink: Sink | None = None,
        stopped: threading.Event | None = None,
    ):
        self._sink = sink or DirectSink()
        if write_interval is None:
            write_interval = self._sink.write_interval
        # Set from another thread (the keeper) when the job is found no longer running.
        self.stopped = stopped or threading.Event()
        self.job_id = job.pk
        self.owner_id = job.owner_id
        self.attempt = job.attempts
        self.kind = kind
        self._clock = clock
        self._interval = (
            settings.JOB_PROGRESS_WRITE_SECONDS if write_interval is None else write_interval
        )
        self._total_weight = sum(stage.weight for stage in kind.stages) or 1.0
        self._stage_index = -1
        self._fraction = 0.0
        self._message = ""
        self._last_write = float("-inf")
        self.writes = 0
        self._messages = StageMessages(self._sink, job.pk, job.attempts, clock)
        self._deadline = self._clock() + kind.budget_seconds
        # What earlier attempts finished: a step saved here is not done again.
        # (None on a first attempt, which has nothing saved: one query less per job.)
        first = job.attempts <= 1 and not job.attempt_offset
        self.saved: dict = (
            {}
            if first
            else dict(JobCheckpoint.objects.filter(job_id=job.pk).values_list("key", "value"))
        )
        self.reused = 0
        # Checkpoints computed inside `checkpoints_together`, written when it ends.
        self._unsaved: dict | None = None

    def checkpoint(self, key: str, compute: Callable[[], T]) -> T:
        """The output of one step: saved by an earlier attempt, or computed and saved now.

        Kinds wrap each costly step (a column profiled, a document summarised by the
        model) so that an attempt after a lost worker or a failure resumes from the last
        finished step, and a cancelled job keeps what it finished. `compute` must return
        plain JSON data.
        """
        if key in self.saved:
            self.reused += 1
            return self.saved[key]
        value = compute()
        self.saved[key] = value
        if self._unsaved is not None:
            self._unsaved[key] = value
        else:
            self._save({key: value})
        return value

    @contextmanager
    def checkpoints_together(self) -> Iterator[None]:
        """Around many quick steps: their checkpoints are written in one statement when
        the block ends, however it ends (a cancel or a failure keeps the steps finished),
        rather than one each while a CPU slot is held. Only a killed worker loses them,
        as it would lose the step running."""
        self._unsaved = {}
        failed = False
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            unsaved, self._unsaved = self._unsaved, None
            if unsaved:
                try:
                    self._save(unsaved)
                except Exception:
                    if not failed:
                        raise
                    # Already stopping for another reason (the database may be it): that
                    # reason is the one to report; the steps are done again if retried.
                    logger.warning("job %s: finished steps not saved", self.job_id, exc_info=True)

    def _save(self, values: dict) -> None:
        # One statement (an upsert), not update_or_create's four and a transaction each.
        # Lost only if the database server itself crashes within a moment of the commit,
        # which costs redoing the step: no wait for the disk (a burst's 400 jobs saving
        # their first steps at once queued for it).
        with commits.not_waiting_for_disk():
            JobCheckpoint.objects.bulk_create(
                [
                    JobCheckpoint(job_id=self.job_id, key=key, value=value, attempt=self.attempt)
                    for key, value in values.items()
                ],
                update_conflicts=True,
                unique_fields=["job", "key"],
                update_fields=["value", "attempt", "at"],
            )

    @property
    def current_stage(self) -> str:
        return self.kind.stages[self._stage_index].key if self._stage_index >= 0 else ""

    def stage(self, key: str, message: str = "") -> None:
        """Enter a named stage. Always written at once, and recorded in the job's history."""
        index = self.kind.stage_keys().index(key)
        self._stage_index = index
        self._fraction = 0.0
        self._message = message or self.kind.stages[index].label + "…"
        self._messages.begin(key, self._message)
        self._write(stage=key)
        self._sink.event(
            JobEvent(
                job_id=self.job_id,
                type=JobEvent.Type.STAGE,
                name=key,
                message=self._message,
                attempt=self.attempt,
            )
        )

    def progress(self, fraction: float, message: str | None = None) -> None:
        """Report how much of the current stage is done. Throttled: cheap to call often.
        Never goes backwards within a stage: a lower fraction keeps the one reported."""
        self._fraction = max(self._fraction, min(1.0, fraction))
        if message is not None:
            self._message = message
            self._messages.heard(message)
        else:
            self._messages.tick()
        if self.stopped.is_set() or self._clock() - self._last_write >= self._interval:
            self._write()

    def message(self, text: str) -> None:
        self.progress(self._fraction, text)

    def finish(self) -> None:
        """The kind returned or raised: the last stage's last message goes into the log."""
        self._messages.end()

    @property
    def stage_fraction(self) -> float:
        """How much of the current stage is done, as last reported."""
        return self._fraction

    def overall_progress(self) -> float:
        if self._stage_index < 0:
            return 0.0
        stages = self.kind.stages
        done = sum(stage.weight for stage in stages[: self._stage_index])
        current = stages[self._stage_index].weight * self._fraction
        return min(1.0, (done + current) / self._total_weight)

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Around a wait on something other than the database (a model's stream): the
        job's database connection goes back to its worker meanwhile. Reports still work."""
        if self._sink.slot is None:
            yield
            return
        with self._sink.slot.released():
            yield

    @contextmanager
    def cpu_bound(self) -> Iterator[None]:
        """Around a step that keeps a core busy (profiling a table, ranking, reading a
        long text): no more of them run at once than the machine has CPU slots, so they
        leave the waiting jobs room. While it waits for a slot, the job gives its
        database connection back."""
        waiting = self._sink.slot.released() if self._sink.slot else None
        with slots.cpu_slot(before_wait=waiting):
            yield

    @contextmanager
    def cpu_bound_when_needed(self) -> Iterator[Callable[[], None]]:
        """Around several CPU-bound steps that may all have been saved by an earlier
        attempt: they share one CPU slot, taken when the first calls the function this
        gives (none if none does), held until the block ends. (A slot a step would
        give back and take again: hundreds of jobs starting together would each
        reconnect to the database as often.)"""
        with ExitStack() as held:
            taken = False

            def need() -> None:
                nonlocal taken
                if not taken:
                    held.enter_context(self.cpu_bound())
                    taken = True

            yield need

    def cpu(self, function: Callable[..., T], /, *args, **kwargs) -> T:
        """`function(*args, **kwargs)`, run as a CPU-bound step (see `cpu_bound`)."""
        with self.cpu_bound():
            return function(*args, **kwargs)

    def _write(self, **fields) -> None:
        if self.stopped.is_set():
            raise JobCancelled(f"Job {self.job_id} is no longer running.")
        running = self._sink.write(
            self.job_id,
            {
                "progress": self.overall_progress(),
                "message": self._message[:MESSAGE_CHARS],
                "progress_at": timezone.now(),
                **fields,
            },
        )
        self._last_write = self._clock()
        self.writes += 1
        if not running:
            raise JobCancelled(f"Job {self.job_id} is no longer running.")
        if self._last_write > self._deadline:
            minutes = self.kind.budget_seconds / 60
            raise JobError(
                f"The job ran past its time budget of {minutes:g} minutes and was stopped "
                f"during “{self.kind.stages[self._stage_index].label}”."
            )
