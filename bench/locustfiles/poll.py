"""Locust users that each poll one running job's status fragment every 5 seconds, until
the job ends, as the job page does.

Each user's polls are due 5 s apart whatever the response time, so arrivals come at
the polling rate (open loop per user) instead of as fast as the server answers. Each user
first waits a random part of the interval, so that polls arrive spread out as those of
people who opened their pages at different moments do. (Locust spawns users in batches
once a second, and its `constant_pacing` counts from the user's start, on_start
included: with it, every batch polled in one burst, which is what the first figures
measured.) Sessions come from the file bench/poll.py writes.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time

import gevent
from locust import FastHttpUser, events, task
from locust.exception import StopUser

INTERVAL = float(os.environ.get("POLL_INTERVAL", "5"))
SESSIONS = json.loads(open(os.environ["POLL_SESSIONS"]).read())  # noqa: SIM115
NEXT = itertools.count()
# Where to write each poll's end time and duration, for figures by phase of a run.
TIMINGS = os.environ.get("POLL_TIMINGS")
_timings: list[tuple[float, float]] = []


@events.request.add_listener
def _record(request_type, name, response_time, **kwargs) -> None:
    if TIMINGS:
        _timings.append((time.time(), response_time))


@events.quitting.add_listener
def _write(environment, **kwargs) -> None:
    if TIMINGS:
        with open(TIMINGS, "w") as out:
            out.writelines(f"{at:.3f} {ms:.1f}\n" for at, ms in _timings)


class Poller(FastHttpUser):
    def on_start(self) -> None:
        me = SESSIONS[next(NEXT) % len(SESSIONS)]
        self.url = f"/jobs/{me['job']}/"
        self.headers = {"Cookie": f"sessionid={me['session']}", "HX-Request": "true"}
        gevent.sleep(random.uniform(0, INTERVAL))
        self.due = time.monotonic()

    def wait_time(self) -> float:
        # Due one interval after the last poll was due, not after it was answered.
        self.due += INTERVAL
        return max(0.0, self.due - time.monotonic())

    @task
    def poll(self) -> None:
        with self.client.get(
            self.url, headers=self.headers, name="job status fragment", catch_response=True
        ) as response:
            if response.status_code != 200 or b'role="progressbar"' not in response.content:
                response.failure(f"status {response.status_code}")
            elif b"hx-trigger" not in response.content:
                # The job ended: its last fragment carries no trigger, and a browser polls
                # no more.
                raise StopUser()
