"""Commits that do not wait for the disk: for this transaction only, never the caller's,
and used by the writes whose loss in a database crash costs little (watch marks,
checkpoints)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from jobs.engine import watching
from jobs.engine.context import JobContext
from jobs.engine.registry import get_kind
from jobs.engine.worker import claiming
from jobs.lib import commits
from jobs.models import Job, JobCheckpoint
from tests.conftest import cursor_elsewhere
from tests.factories import make_job, make_user

pytestmark = pytest.mark.django_db(transaction=True)

SETTING = "SET LOCAL synchronous_commit TO OFF;"
# What Django records of a transaction's edges beside the statements.
EDGES = {"BEGIN", "COMMIT"}


class Stopped(Exception):
    pass


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def titles_seen_elsewhere(job: Job) -> list[str]:
    """The job's title as another connection (another process) sees it."""
    with cursor_elsewhere() as cursor:
        cursor.execute("SELECT title FROM jobs_job WHERE id = %s", [job.pk])
        return [row[0] for row in cursor.fetchall()]


def test_the_statement_commits_without_waiting_and_the_setting_ends_with_it():
    job = make_job(make_user(), title="before")

    with (
        CaptureQueriesContext(connection) as queries,
        commits.not_waiting_for_disk(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE jobs_job SET title = 'after' WHERE id = %s"
            " RETURNING current_setting('synchronous_commit')",
            [job.pk],
        )
        inside = cursor.fetchone()[0]

    assert inside == "off"
    assert len(queries) == 1, "one round trip: the setting goes with the statement"
    assert synchronous_commit() == "on", "the next transaction waits for the disk again"
    assert titles_seen_elsewhere(job) == ["after"], "committed, for everyone"


def test_a_statement_that_fails_writes_nothing_and_leaves_no_setting():
    job = make_job(make_user(), title="before")

    with pytest.raises(IntegrityError), commits.not_waiting_for_disk():
        Job.objects.filter(pk=job.pk).update(title="after", owner_id=-1)

    assert titles_seen_elsewhere(job) == ["before"]
    assert synchronous_commit() == "on"


def test_a_second_statement_is_refused():
    job = make_job(make_user(), title="before")

    with pytest.raises(RuntimeError, match="one statement"), commits.not_waiting_for_disk():
        Job.objects.filter(pk=job.pk).update(title="after")
        Job.objects.filter(pk=job.pk).update(title="again")

    assert titles_seen_elsewhere(job) == ["after"], "the first committed on its own"


def test_inside_the_callers_transaction_nothing_changes():
    job = make_job(make_user(), title="before")

    with pytest.raises(Stopped), transaction.atomic():
        with commits.not_waiting_for_disk():
            Job.objects.filter(pk=job.pk).update(title="after")
            inside = synchronous_commit()
        raise Stopped

    assert inside == "on", "how durable the caller's transaction is stays the caller's"
    assert titles_seen_elsewhere(job) == ["before"], "undone with the caller's transaction"


def test_with_autocommit_turned_off_by_the_caller_nothing_changes():
    job = make_job(make_user(), title="before")

    transaction.set_autocommit(False)
    try:
        with commits.not_waiting_for_disk():
            Job.objects.filter(pk=job.pk).update(title="after")
        inside = synchronous_commit()
        transaction.rollback()
    finally:
        transaction.set_autocommit(True)

    assert inside == "on"
    assert titles_seen_elsewhere(job) == ["before"], "undone with the caller's transaction"


def test_a_first_watch_mark_and_a_batch_of_renewals_do_not_wait(settings):
    settings.JOB_WATCH_FLUSH_SECONDS = 5
    job = make_job(make_user(), status=Job.Status.RUNNING)

    with CaptureQueriesContext(connection) as first:
        watching.mark(job)
    Job.objects.filter(pk=job.pk).update(watched_at=None)
    watching._pending[str(job.pk)] = job.watched_at
    with CaptureQueriesContext(connection) as renewals:
        assert watching.flush() == 1

    for queries in (first, renewals):
        statements = [query["sql"] for query in queries]
        assert len(statements) == 1, "one round trip, no BEGIN or COMMIT of its own"
        assert statements[0].startswith(SETTING) and "watched_at" in statements[0]
    assert Job.objects.get(pk=job.pk).watched_at is not None


def test_a_checkpoint_does_not_wait(settings):
    settings.JOB_KIND_MODULES = ["tests.kinds_for_tests"]
    job = claiming.claim(str(make_job(make_user(), kind="primes", params={"n": 5}).pk))
    ctx = JobContext(job, get_kind("primes"), write_interval=0)

    with CaptureQueriesContext(connection) as queries:
        ctx.checkpoint("a", lambda: {"n": 1})

    # bulk_create's own transaction, the setting sent with its one statement.
    statements = [query["sql"] for query in queries if query["sql"] not in EDGES]
    assert len(statements) == 1 and statements[0].startswith(SETTING), statements
    assert "jobs_jobcheckpoint" in statements[0]
    assert JobCheckpoint.objects.filter(job=job).count() == 1
