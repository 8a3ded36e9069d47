"""When each stage of a job's current attempt began and ended, and what happened in
each, from its history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db import connections, router

from jobs.models import Job, JobEvent


@dataclass(frozen=True)
class LogEntry:
    """One line of a stage's log: what happened, when, in which attempt. A message the
    stage reported has no `what`: it says it itself."""

    at: datetime
    what: str
    message: str = ""
    attempt: int = 0


# What a status event says in a stage's log.
STATUS_WORDS = {
    Job.Status.QUEUED: "Queued again",
    Job.Status.RUNNING: "Picked up by a worker",
    "retrying": "Attempt failed; to be retried",
    Job.Status.SUCCEEDED: "Job succeeded",
    Job.Status.FAILED: "Job failed",
    Job.Status.CANCELLED: "Job cancelled",
}


@dataclass(frozen=True)
class Timeline:
    # Stage key to (entered, left) in the current attempt; left is None for the stage the
    # job is in while it runs, and the job's end for the last stage of an ended one.
    times: dict[str, tuple[datetime, datetime | None]]
    # Stage key to what happened in it, over every attempt.
    log: dict[str, list[LogEntry]]


def timeline(job: Job) -> Timeline:
    """When each stage began and ended, and each stage's log, from the job's history:
    one query."""
    if not job.attempts:
        return Timeline({}, {})
    connection = connections[router.db_for_read(JobEvent)]
    pk = Job._meta.pk.get_db_prep_value(job.pk, connection)
    events = list(JobEvent.objects.raw(_events_sql(connection.alias), [pk]))
    return Timeline(stage_times(job, events), stage_log(events))


@cache
def _events_sql(alias: str) -> str:
    """The ORM's SQL for a job's events, written once per database: every job page and
    every poll that brings a new stage reads them, and compiling the query each time was
    two thirds of the read (0.26 of 0.42 ms, docs/benchmarks.md 6.5)."""
    placeholder = uuid.UUID(int=0)
    query = (
        JobEvent.objects.using(alias)
        .filter(job_id=placeholder)
        .order_by("at", "id")
        .only("type", "name", "message", "attempt", "at")
        .query
    )
    sql, params = query.sql_with_params()
    # The job's id must be the only parameter, or the SQL would run with the wrong ones.
    if list(params) != [Job._meta.pk.get_db_prep_value(placeholder, connections[alias])]:
        raise ValueError(f"Unexpected parameters in the events query: {params!r}")
    return sql


def stage_times(job: Job, events: list[JobEvent]) -> dict[str, tuple[datetime, datetime | None]]:
    entered = [
        (event.name, event.at)
        for event in events
        if event.type == JobEvent.Type.STAGE and event.attempt == job.attempts
    ]
    times: dict[str, tuple[datetime, datetime | None]] = {}
    for index, (key, at) in enumerate(entered):
        if index + 1 < len(entered):
            left = entered[index + 1][1]
        else:
            left = None if job.is_active else job.finished_at
        times[key] = (at, left)
    return times


def stage_log(events: list[JobEvent]) -> dict[str, list[LogEntry]]:
    """What happened in each stage: when it started (with the message it started with),
    the later messages it reported (those kept: jobs/engine/context.py), when it ended,
    and the status changes that stopped it (a retry, a cancel, the job's end). A worker
    picking the job up belongs to the next stage entered. Kept after the job ends, as
    its history is."""
    log: dict[str, list[LogEntry]] = {}
    current: str | None = None  # the stage running now, until something stops it
    last: str | None = None  # the stage a stop belongs to
    waiting: list[LogEntry] = []
    for event in events:
        if event.type == JobEvent.Type.STAGE:
            if current is not None and current != event.name:
                log[current].append(LogEntry(event.at, "Ended", attempt=event.attempt))
            entries = log.setdefault(event.name, [])
            entries.extend(waiting)
            waiting = []
            entries.append(LogEntry(event.at, "Started", event.message, event.attempt))
            current = last = event.name
            continue
        if event.type == JobEvent.Type.MESSAGE:
            # Named for its stage: it belongs there, whatever was recorded in between.
            log.setdefault(event.name, []).append(
                LogEntry(event.at, "", event.message, event.attempt)
            )
            continue
        if event.name == Job.Status.QUEUED and not event.message:
            continue  # the submission itself: the page says when it was submitted
        entry = LogEntry(
            event.at, STATUS_WORDS.get(event.name, event.name), event.message, event.attempt
        )
        if event.name == Job.Status.RUNNING or last is None:
            waiting.append(entry)
        else:
            log[last].append(entry)
            current = None
    return log
