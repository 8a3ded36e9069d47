"""Which queued job a free worker starts next, and where a queued job stands in line.

The broker hands tasks out in no particular order, so a task does not carry its job:
the worker that runs it asks here which job to start. The highest priority goes first;
within a priority, the user served least recently (then the one waiting longest), so
one user's many jobs take turns with everyone else's; within a user, the oldest job.
At most MAX_CONCURRENT_JOBS jobs run at once, across every worker cluster on the
database.
"""

from __future__ import annotations

import heapq
from collections import deque

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone

from jobs.engine import queue
from jobs.models import Job

# Any fixed number: the key of the transaction-level advisory lock that lets one worker
# at a time count the running jobs and pick the next one.
DISPATCH_LOCK_KEY = 0x6A6F6273


class Busy(Exception):
    """MAX_CONCURRENT_JOBS jobs are already running."""


def startable() -> QuerySet[Job]:
    """Queued jobs whose retry backoff, if any, is over."""
    return Job.objects.filter(status=Job.Status.QUEUED).filter(
        Q(not_before__isnull=True) | Q(not_before__lte=timezone.now())
    )


def _last_served() -> Subquery:
    """When the owner of the outer row last had a job started: the round-robin order.

    A correlated LIMIT 1 on the (owner, started_at) index, cheap however long the
    owner's history is.
    """
    return Subquery(
        Job.objects.filter(owner_id=OuterRef("owner_id"), started_at__isnull=False)
        .order_by("-started_at")
        .values("started_at")[:1]
    )


def owners_in_line(queryset: QuerySet[Job]) -> QuerySet:
    """One row per owner with queued jobs: their best priority and when last served,
    in the order the dispatcher serves them."""
    return (
        queryset.order_by()
        .values("owner_id")
        .annotate(top=Max("priority"), served=_last_served(), since=Min("created_at"))
        .order_by("-top", F("served").asc(nulls_first=True), "since", "owner_id")
    )


def pick_locked(most: int = 1, *, spread: int = 1) -> list[Job]:
    """Up to `most` jobs to start, in the order as many one-at-a-time picks would start
    them, locked for update; call inside a transaction. With `spread`, at most that
    share of the jobs that may start: a small burst goes to several worker processes
    rather than into one, whose threads would share one core (Python's GIL).

    Raises Busy when no slot is free; an empty list when nothing may start. A constant
    number of queries however many it picks: a burst is claimed by the batch.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DISPATCH_LOCK_KEY])
    # The running count rides along with the owners in line: one query for both.
    running = Job.objects.filter(status=Job.Status.RUNNING).order_by().values("status")
    count = Subquery(
        running.annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField())).values(
            "n"
        )[:1]
    )
    # Each pick serves the first owner in line, who then goes to the back of their
    # priority: `most` picks never reach past the first `most` owners.
    owners = list(owners_in_line(startable()).annotate(running=count)[:most])
    if not owners:
        return []
    room = settings.MAX_CONCURRENT_JOBS - (owners[0]["running"] or 0)
    if room <= 0:
        raise Busy(f"{owners[0]['running']} jobs running, the most allowed at once")
    most = min(most, room)
    if spread > 1 and most > 1:
        waiting = startable().order_by()[: most * spread].count()
        most = min(most, max(1, -(-waiting // spread)))
    chosen = _take_turns(owners, _best_jobs(owners, most), most)
    locked = {job.pk: job for job in startable().filter(pk__in=chosen).select_for_update()}
    # A job cancelled since it was chosen is not locked, and not started.
    return [locked[pk] for pk in chosen if pk in locked]


def _best_jobs(owners: list[dict], most: int) -> dict[int, deque[tuple]]:
    """Each owner's first `most` startable jobs in the order they start: (priority, pk)."""
    ranked = (
        startable()
        .filter(owner_id__in=[owner["owner_id"] for owner in owners])
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=F("owner_id"),
                order_by=[F("priority").desc(), F("created_at").asc(), F("pk").asc()],
            )
        )
        .filter(rank__lte=most)
        .order_by("owner_id", "rank")
        .values_list("owner_id", "priority", "pk")
    )
    return _by_owner(ranked)


def _by_owner(rows) -> dict[int, deque[tuple]]:
    """(owner, priority, pk) rows, each owner's in the order they start, as each owner's
    line of (priority, pk), which _take_turns serves from."""
    jobs: dict[int, deque[tuple]] = {}
    for owner_id, priority, pk in rows:
        jobs.setdefault(owner_id, deque()).append((priority, pk))
    return jobs


def _take_turns(owners: list[dict], best: dict[int, deque[tuple]], most: int) -> list:
    """The ids `most` picks would start: the first owner in line (highest priority left,
    then served least recently, then waiting longest) gets their best job and, served
    now, goes after everyone served before."""
    line = []
    for owner in owners:
        served = (0,) if owner["served"] is None else (1, owner["served"])
        line.append([-owner["top"], served, owner["since"], owner["owner_id"]])
    heapq.heapify(line)
    chosen = []
    while line and len(chosen) < most:
        entry = heapq.heappop(line)
        jobs = best.get(entry[3])
        if not jobs:
            continue
        chosen.append(jobs.popleft()[1])
        if jobs:
            # Served now: after every owner served before, this batch's earlier ones too.
            entry[0], entry[1] = -jobs[0][0], (2, len(chosen))
            heapq.heappush(line, entry)
    return chosen


def jobs_ahead(job: Job) -> int:
    """About how many queued jobs will start before this one, assuming none is added.

    Every higher-priority job; at its own priority, each other user's jobs for as many
    rounds of turns as this job waits, one more round for users served before its owner.
    One query (a queued job's page and each of its polls ask, most in a burst's start).
    """
    same = Q(priority=job.priority)
    owners = (
        Job.objects.filter(status=Job.Status.QUEUED)
        .order_by()
        .values("owner_id")
        .annotate(
            higher=Count("id", filter=Q(priority__gt=job.priority)),
            waiting=Count("id", filter=same),
            # The owner's own older jobs go first, one per round of turns.
            older=Count("id", filter=same & Q(created_at__lt=job.created_at)),
            served=_last_served(),
            since=Min("created_at", filter=same),
        )
        # The order owners take turns in at this priority (an owner with none at it
        # waits for nothing here, wherever it sorts).
        .order_by(F("served").asc(nulls_first=True), "since", "owner_id")
    )
    rows = list(owners)
    rounds = next((row["older"] for row in rows if row["owner_id"] == job.owner_id), 0)
    ahead = sum(row["higher"] for row in rows) + rounds
    before_owner = True
    for row in rows:
        if row["owner_id"] == job.owner_id:
            before_owner = False
            continue
        ahead += min(row["waiting"], rounds + 1 if before_owner else rounds)
    return ahead


def places_in_line() -> dict:
    """Every queued job's place in line: how many jobs start before it if none is added,
    for the whole line in two queries (the owners in line, then their queued jobs, whose
    turns are then played out as the dispatcher takes them)."""
    queued = Job.objects.filter(status=Job.Status.QUEUED)
    owners = list(owners_in_line(queued))
    rows = queued.order_by("owner_id", "-priority", "created_at", "pk")
    jobs = _by_owner(rows.values_list("owner_id", "priority", "pk"))
    order = _take_turns(owners, jobs, sum(len(each) for each in jobs.values()))
    return {pk: place for place, pk in enumerate(order)}


def tasks_missing() -> int:
    """How many more tasks it takes to start every job that may start now, in one query:
    the startable jobs, at most as many as MAX_CONCURRENT_JOBS leaves room for, less the
    tasks already pending. More would only be handed out to find nothing to start."""
    jobs = startable().order_by().values("pk")
    running = Job.objects.filter(status=Job.Status.RUNNING).order_by().values("pk")
    tasks = queue.pending_tasks().values("pk")
    with connection.cursor() as cursor:
        jobs_sql, jobs_params = jobs.query.sql_with_params()
        running_sql, running_params = running.query.sql_with_params()
        tasks_sql, tasks_params = tasks.query.sql_with_params()
        cursor.execute(
            f"SELECT MIN(n) - (SELECT COUNT(*) FROM ({tasks_sql}) t) FROM ("
            f" SELECT COUNT(*) AS n FROM ({jobs_sql}) j"
            f" UNION ALL SELECT %s - COUNT(*) FROM ({running_sql}) r) room",
            [*tasks_params, *jobs_params, settings.MAX_CONCURRENT_JOBS, *running_params],
        )
        return cursor.fetchone()[0]
