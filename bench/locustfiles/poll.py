"""Locust users that each poll one running job's status fragment every 5 seconds, until
the job ends, as the job page does.

Each user's polls are due 5 s apart whatever the response time, so arrivals come at
the polling rate (open loop per user) instead of as fast as the server answers. Each user
first waits a random part of the interval, so that polls arrive spread out as those of
people who opened their pages at different moments do. (Locust spawns users in batches
once a second, and its `constant_pacing` counts from the user's start, on_start
included: with it, every batch polled in one burst, which is what the first figures
measured.) Sessions come from the file bench/poll.py writes.

POLL_MODE says what a poll asks for:
- `page` (the default): the job page's URL with the `HX-Request` header, which answers
  with the status fragment through the session (the poll before the signed status URL);
- `status`: the signed status URL the job page polls now (`jobs/<id>/status/?t=...`, the
  session file's `status`, else the `hx-get` of the job page, loaded once), with the
  session cookie and, as the page's htmx does, `If-None-Match` with the ETag of the
  fragment last shown, so an unchanged job gets a 304;
- `minimal`: the same status the plain Django way, from bench/minimal/ (`/jobs/<id>/`).
POLL_PACE=page (with `status`) polls as the page's htmx does instead of every
POLL_INTERVAL: the first poll a second after the load when the page asks for one (`load
delay:1s`), then at the interval of the last fragment shown (`every Ns`: each second
through a job's first seconds, then less often).
With POLL_TIMINGS set, a greenlet also times the load generator's own loop every 5 ms
and writes each moment it ran more than 5 ms late to POLL_TIMINGS + ".late": a slow
answer while the loop was late may be the generator's, not the server's.
POLL_COUNTS names a file for how many answers of each status code came after the ramp.
With POLL_WAIT_FOR_SESSIONS set, the users spawn and then wait for the sessions file to
appear (bench/concurrency.py writes it once the jobs it polls exist): the load
generator's own start (a second or two of CPU) is then over before the burst it measures.
"""

from __future__ import annotations

import collections
import html
import itertools
import json
import os
import random
import re
import time

import gevent
import gevent.event
from locust import FastHttpUser, events, task
from locust.exception import StopUser

INTERVAL = float(os.environ.get("POLL_INTERVAL", "5"))
PACED_BY_PAGE = os.environ.get("POLL_PACE") == "page"
EVERY = re.compile(rb'hx-trigger="[^"]*every ([0-9.]+)s')
SOON = re.compile(rb'hx-trigger="[^"]*load delay:([0-9.]+)s')
MODE = os.environ.get("POLL_MODE", "page")
SESSIONS_FILE = os.environ["POLL_SESSIONS"]
WAIT_FOR_SESSIONS = bool(os.environ.get("POLL_WAIT_FOR_SESSIONS"))
NEXT = itertools.count()
# Where to write each request's end time, duration and what it was ("poll", or "page"
# for a job page's load), for figures by phase of a run.
TIMINGS = os.environ.get("POLL_TIMINGS")
_timings: list[tuple[float, float, str]] = []
COUNTS = os.environ.get("POLL_COUNTS")
_codes: collections.Counter[int] = collections.Counter()
NAME = "job status fragment"


@events.request.add_listener
def _record(request_type, name, response_time, **kwargs) -> None:
    if TIMINGS:
        _timings.append((time.time(), response_time, "poll" if name == NAME else "page"))


@events.spawning_complete.add_listener
def _reset(**kwargs) -> None:
    # As --reset-stats does: the figures are the steady state's.
    _codes.clear()


@events.quitting.add_listener
def _write(environment, **kwargs) -> None:
    if TIMINGS:
        with open(TIMINGS, "w") as out:
            out.writelines(f"{at:.3f} {ms:.1f} {what}\n" for at, ms, what in _timings)
        with open(TIMINGS + ".late", "w") as out:
            out.writelines(f"{at:.3f} {ms:.1f}\n" for at, ms in _late)
    if COUNTS:
        with open(COUNTS, "w") as out:
            json.dump(dict(_codes), out)


_sessions: list[dict] = []
_sessions_ready = gevent.event.Event()


def _read_sessions() -> None:
    # One greenlet looks for the file for all the users (written whole, by a rename).
    while WAIT_FOR_SESSIONS and not os.path.exists(SESSIONS_FILE):
        gevent.sleep(0.05)
    with open(SESSIONS_FILE) as file:
        _sessions.extend(json.load(file))
    _sessions_ready.set()


_reader = gevent.spawn(_read_sessions)

# (when the loop woke, how many ms late), for the moments it was over 5 ms late.
_late: list[tuple[float, float]] = []
TICK = 0.005


def _time_the_loop() -> None:
    while True:
        before = time.monotonic()
        gevent.sleep(TICK)
        late = (time.monotonic() - before - TICK) * 1000
        if late > 5:
            _late.append((time.time(), late))


if TIMINGS:
    gevent.spawn(_time_the_loop)


class Poller(FastHttpUser):
    def on_start(self) -> None:
        _sessions_ready.wait()
        # Each user opens its page at a moment of its own in the first interval.
        gevent.sleep(random.uniform(0, INTERVAL))
        me = _sessions[next(NEXT) % len(_sessions)]
        self.url = f"/jobs/{me['job']}/"
        self.headers = {"Cookie": f"sessionid={me['session']}"}
        if MODE == "page":
            self.headers["HX-Request"] = "true"
        elif MODE == "status":
            self.headers["HX-Request"] = "true"
            self.url = me.get("status") or self.status_url()
        self.due = time.monotonic()

    interval = INTERVAL

    def wait_time(self) -> float:
        # Due one interval after the last poll was due, not after it was answered.
        self.due += self.interval
        return max(0.0, self.due - time.monotonic())

    def follow_page(self, content: bytes) -> None:
        """The interval the fragment shown asks for, as htmx reads its trigger."""
        if PACED_BY_PAGE and (every := EVERY.search(content)):
            self.interval = float(every.group(1))

    def status_url(self) -> str:
        """The poll URL in the job page, loaded once as a browser does."""
        page = self.client.get(self.url, headers=self.headers, name="job page")
        found = re.search(rb'hx-get="([^"]+)"', page.content or b"")
        if page.status_code != 200 or not found:
            raise StopUser()
        self.follow_page(page.content)
        if PACED_BY_PAGE:
            # The page's first poll: soon when it asks for one, else after its interval.
            soon = SOON.search(page.content)
            gevent.sleep(float(soon.group(1)) if soon else self.interval)
        return html.unescape(found.group(1).decode())

    @task
    def poll(self) -> None:
        with self.client.get(
            self.url, headers=self.headers, name=NAME, catch_response=True
        ) as response:
            _codes[response.status_code] += 1
            if MODE == "status" and response.status_code == 304:
                return  # nothing changed: the browser keeps the fragment it shows
            if response.status_code != 200 or b'role="progressbar"' not in response.content:
                response.failure(f"status {response.status_code}")
            elif b"hx-trigger" not in response.content:
                # The job ended: its last fragment carries no trigger, and a browser polls
                # no more.
                raise StopUser()
            else:
                self.follow_page(response.content)
                if MODE == "status" and (etag := response.headers.get("ETag")):
                    self.headers["If-None-Match"] = etag
