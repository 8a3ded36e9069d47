"""Where queued jobs stand in line, read once for all of a process's requests a second.

A queued job's page and each of its polls show how many jobs start before it. Asked one
job at a time (dispatch.jobs_ahead), that is an aggregate over the whole line per
request: in a burst's first seconds, when hundreds of pages of queued jobs load and poll
together, the dearest statement the server ran, most of PostgreSQL's CPU then
(docs/benchmarks.md, 6.6). So a process reads every queued job's place at once
(dispatch.places_in_line) and answers from that reading for JOB_LINE_SECONDS, well
under the pages' poll interval, so each poll still shows the line as it has moved. A
job the reading does not hold (submitted or put back in line since) is asked about
alone, as before. JOB_LINE_SECONDS=0 asks about each job alone.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings

from jobs.engine import dispatch
from jobs.models import Job

_lock = threading.Lock()
# (when it was read, on the monotonic clock; each queued job's place), replaced whole.
_reading: tuple[float, dict] = (float("-inf"), {})


def place_in_line(job: Job) -> int | None:
    """How many jobs start before a queued one, as its page, its polls and the API show
    it; None for a job that is not queued."""
    return jobs_ahead(job) if job.status == Job.Status.QUEUED else None


def jobs_ahead(job: Job) -> int:
    """How many queued jobs will start before this queued one: its place in a reading
    of the line at most JOB_LINE_SECONDS old, else dispatch.jobs_ahead's count (the two
    agree while the queued jobs share one priority; across priorities the reading,
    which plays the turns out, is the closer)."""
    fresh_for = settings.JOB_LINE_SECONDS
    if fresh_for <= 0:
        return dispatch.jobs_ahead(job)
    place = _places(fresh_for).get(job.pk)
    return dispatch.jobs_ahead(job) if place is None else place


def _places(fresh_for: float) -> dict:
    global _reading
    taken, places = _reading
    if time.monotonic() - taken < fresh_for:
        return places
    # One thread reads for all: the others wait for its reading rather than each
    # reading the whole line too.
    with _lock:
        taken, places = _reading
        if time.monotonic() - taken < fresh_for:
            return places
        started = time.monotonic()
        places = dispatch.places_in_line()
        _reading = (started, places)
        return places


def forget() -> None:
    """Drop the reading, so that the next request reads the line again."""
    global _reading
    with _lock:
        _reading = (float("-inf"), {})
