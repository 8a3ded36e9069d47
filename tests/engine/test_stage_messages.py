"""A stage's later messages kept in the job's history for its log: in the order they were
reported, throttled, bounded, and the last one of each stage always there."""

from __future__ import annotations

import pytest

from jobs.engine import running
from jobs.engine.context import JobContext
from jobs.engine.registry import get_kind
from jobs.engine.worker import claiming
from jobs.models import Job, JobEvent
from tests.factories import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def test_kinds(settings):
    settings.JOB_KIND_MODULES = ["tests.kinds_for_tests", "tests.chatty_kind"]
    settings.JOB_LOG_MESSAGE_SECONDS = 5.0
    settings.JOB_LOG_MESSAGES = 50


def kept(job) -> list[tuple[str, str]]:
    return list(
        JobEvent.objects.filter(job=job, type=JobEvent.Type.MESSAGE).values_list("name", "message")
    )


def test_each_changed_message_is_kept_in_the_order_reported(user, settings):
    settings.JOB_LOG_MESSAGE_SECONDS = 0
    said = ["Reading the first file", "Reading the second file", "Reading the second file",
            "Asking the model", "Clearing its throat…", "Done talking"]  # fmt: skip
    job = make_job(user, kind="chatty", params={"messages": said})

    assert running.run_queued_job(str(job.pk)) == Job.Status.SUCCEEDED

    assert kept(job) == [
        ("talking", "Reading the first file"),
        ("talking", "Reading the second file"),  # once: the repeat says nothing new
        ("talking", "Asking the model"),
        ("talking", "Clearing its throat…"),
        ("talking", "Done talking"),
    ]
    history = list(job.events.values_list("type", "name"))
    assert history.index(("stage", "talking")) < history.index(("message", "talking"))
    assert history[-3:] == [("message", "talking"), ("stage", "done"), ("status", "succeeded")]


def test_a_thousand_quick_messages_keep_the_bound_and_the_last(user, settings):
    settings.JOB_LOG_MESSAGE_SECONDS = 0
    said = [f"Step {number} of 1000" for number in range(1, 1001)]
    job = make_job(user, kind="chatty", params={"messages": said})

    running.run_queued_job(str(job.pk))

    messages = [message for _, message in kept(job)]
    assert len(messages) == 50
    assert messages[:49] == said[:49]
    assert messages[-1] == "Step 1000 of 1000", "the stage's last message is always kept"


def test_messages_quicker_than_the_interval_keep_only_the_stages_last(user):
    job = make_job(user, kind="primes", params={"n": 1000})

    running.run_queued_job(str(job.pk))

    assert kept(job) == [("counting", "checked 1000")]


def test_a_message_waits_for_the_interval_and_the_latest_goes_in(user):
    """The time throttle, on a context of its own with a clock the test moves."""
    job = claiming.claim(str(make_job(user, kind="chatty", params={"messages": []}).pk))
    now = [0.0]
    ctx = JobContext(job, get_kind("chatty"), clock=lambda: now[0], write_interval=0)

    def at(seconds: float, text: str | None = None) -> None:
        now[0] = seconds
        if text is None:
            ctx.progress(0.5)
        else:
            ctx.message(text)

    ctx.stage("talking")
    at(1, "one")  # within 5 s of the stage's start: held
    at(2, "two")  # the newer one held instead
    assert kept(job) == []
    at(6, "three")  # 5 s after the start: kept
    at(7, "three")
    at(8, "four")  # held...
    at(10.9)
    assert len(kept(job)) == 1
    at(11)  # ...and kept at the next report once 5 s have passed, even without a message
    at(12, "five")
    ctx.stage("done")  # the stage's last message goes in as it ends
    at(13, "six")
    ctx.finish()  # as does the last stage's when the kind returns

    assert kept(job) == [
        ("talking", "three"), ("talking", "four"), ("talking", "five"), ("done", "six"),
    ]  # fmt: skip
