"""Locust users that start jobs: through the HTML form (a session, the form's CSRF token
and a fresh idempotency key per submission) or through the API (a Bearer token).

SUBMIT_PATH chooses which; credentials come from the file bench/submit.py writes.
SUBMIT_EVERY paces each user to one submission every so many seconds (bench/shape.py);
without it, each submits again as soon as it is answered.
"""

from __future__ import annotations

import itertools
import json
import os
import uuid

from locust import FastHttpUser, constant, constant_pacing, task

USERS = json.loads(open(os.environ["SUBMIT_USERS"]).read())  # noqa: SIM115
TABLE = os.environ["SUBMIT_TABLE"]
NEXT = itertools.count()


class Submitter(FastHttpUser):
    every = float(os.environ.get("SUBMIT_EVERY") or 0)
    wait_time = constant_pacing(every) if every else constant(0)

    def on_start(self) -> None:
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
