"""Locust users that each poll one running job's status fragment every 5 seconds.

`constant_pacing(5)` starts each user's requests 5 s apart whatever the response time,
so arrivals come at the polling rate (open loop per user) instead of as fast as the
server answers. Sessions come from the file bench/poll.py writes.
"""

from __future__ import annotations

import itertools
import json
import os

from locust import FastHttpUser, constant_pacing, task

SESSIONS = json.loads(open(os.environ["POLL_SESSIONS"]).read())  # noqa: SIM115
NEXT = itertools.count()


class Poller(FastHttpUser):
    wait_time = constant_pacing(5)

    def on_start(self) -> None:
        me = SESSIONS[next(NEXT) % len(SESSIONS)]
        self.url = f"/jobs/{me['job']}/"
        self.headers = {"Cookie": f"sessionid={me['session']}", "HX-Request": "true"}

    @task
    def poll(self) -> None:
        with self.client.get(
            self.url, headers=self.headers, name="job status fragment", catch_response=True
        ) as response:
            if response.status_code != 200 or b'role="progressbar"' not in response.content:
                response.failure(f"status {response.status_code}")
