"""Locust users that start jobs: through the HTML form (a session, the form's CSRF token
and a fresh idempotency key per submission) or through the API (a Bearer token).

SUBMIT_PATH chooses which; credentials come from the file bench/submit.py writes.
SUBMIT_EVERY paces each user to one submission every so many seconds (bench/shape.py),
after a first wait of a random part of that interval, so that the users' submissions
come spread out as those of people who do not click at the same instant (locust spawns
its users in batches, and its `constant_pacing` keeps a batch in step: 50 submissions
arriving together each second, which is what the first paced figures measured); with
SUBMIT_STEP set, they start together as before. Without SUBMIT_EVERY, each submits
again as soon as it is answered.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid

import gevent
from locust import FastHttpUser, task

USERS = json.loads(open(os.environ["SUBMIT_USERS"]).read())  # noqa: SIM115
TABLE = os.environ["SUBMIT_TABLE"]
NEXT = itertools.count()


EVERY = float(os.environ.get("SUBMIT_EVERY") or 0)
IN_STEP = bool(os.environ.get("SUBMIT_STEP"))


class Submitter(FastHttpUser):
    def wait_time(self) -> float:
        if not EVERY:
            return 0.0
        # Due one interval after the last submission was due, not after its answer.
        self.due += EVERY
        return max(0.0, self.due - time.monotonic())

    def on_start(self) -> None:
        if EVERY and not IN_STEP:
            gevent.sleep(random.uniform(0, EVERY))
        self.due = time.monotonic()
        me = USERS[next(NEXT) % len(USERS)]
        self.token = me["token"]
        # Django takes the unmasked CSRF secret both as the cookie and as the form field.
        self.csrf = me["csrf"]
        self.cookie = f"sessionid={me['session']}; csrftoken={self.csrf}"

    @task
    def submit(self) -> None:
        if os.environ["SUBMIT_PATH"] == "form":
            self.client.post(
                "/jobs/new/semantic_model/",
                data={
                    "table": TABLE,
                    "idempotency_key": uuid.uuid4().hex,
                    "csrfmiddlewaretoken": self.csrf,
                },
                headers={"Cookie": self.cookie},
                allow_redirects=False,
                name="submit (form)",
            )
        else:
            self.client.post(
                "/api/jobs",
                json={"kind": "semantic_model", "params": {"table": TABLE}},
                headers={"Authorization": f"Bearer {self.token}"},
                name="submit (API)",
            )
