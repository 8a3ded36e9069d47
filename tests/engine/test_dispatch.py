"""Which job starts next: priority, users taking turns, MAX_CONCURRENT_JOBS, place in line."""

from __future__ import annotations

import random
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ

from jobs.engine import dispatch, endings, line, submitting
from jobs.engine.registry import get_kind
from jobs.engine.worker import claiming
from jobs.models import Job
from tests.conftest import Worker, wait_for
from tests.factories import make_job, make_user


def start_all() -> list[Job]:
    """Start queued jobs one by one, as free workers would, and return them in order."""
    started = []
    while job := claiming.claim_next():
        started.append(job)
    return started


def queued(owner, count: int, **fields) -> list[Job]:
    return [make_job(owner, **fields) for _ in range(count)]


@pytest.fixture
def unlimited(settings, db):
    settings.MAX_CONCURRENT_JOBS = 1000
    settings.MAX_ACTIVE_JOBS_PER_USER = 1000


def test_the_highest_priority_starts_first_then_the_oldest(unlimited):
    owner = make_user()
    low, normal, high, urgent = (make_job(owner, priority=p) for p in (-1, 0, 5, 9))
    older_high = make_job(owner, priority=5, created_at=timezone.now() - timedelta(hours=1))

    assert start_all() == [urgent, older_high, high, normal, low]


def test_one_users_many_jobs_take_turns_with_everyone_elses(unlimited):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    alices = queued(alice, 4)
    bobs = queued(bob, 2)
    carols = queued(carol, 1)

    order = start_all()

    # Bob and Carol do not wait for all of Alice's jobs: each user gets a turn in a round.
    assert order[:3] == [alices[0], bobs[0], carols[0]]
    assert order[3:5] == [alices[1], bobs[1]]
    assert order[5:] == alices[2:]


def test_a_user_served_recently_goes_after_one_who_waited(unlimited):
    alice, bob = make_user("alice"), make_user("bob")
    make_job(alice, status=Job.Status.SUCCEEDED, started_at=timezone.now())
    alices = queued(alice, 2)
    bobs = queued(bob, 1)

    assert start_all() == [bobs[0], alices[0], alices[1]]


def test_no_more_than_max_concurrent_jobs_run_at_once(settings, db):
    settings.MAX_CONCURRENT_JOBS = 2
    jobs = queued(make_user(), 3)

    first, second = claiming.claim_next(), claiming.claim_next()

    assert {first, second} == set(jobs[:2])
    assert claiming.claim_next() is None, "every slot is taken"
    assert Job.objects.get(pk=jobs[2].pk).status == Job.Status.QUEUED
    endings.finish(first, Job.Status.SUCCEEDED, result={})
    assert claiming.claim_next() == jobs[2]


def test_a_job_waiting_out_its_retry_backoff_is_not_started(unlimited):
    owner = make_user()
    waiting = make_job(owner, not_before=timezone.now() + timedelta(minutes=1))
    ready = make_job(owner)

    assert start_all() == [ready]
    Job.objects.filter(pk=waiting.pk).update(not_before=timezone.now())
    assert start_all() == [waiting]


def test_a_task_with_nothing_to_start_is_idle(unlimited):
    job = make_job()
    submitting.cancel(job)

    assert claiming.claim_several(8) == []


def test_top_up_gives_every_startable_job_a_task(unlimited):
    queued(make_user(), 3)
    OrmQ.objects.all().delete()

    assert claiming.top_up() == 3
    assert OrmQ.objects.count() == 3
    assert claiming.top_up() == 0, "no surplus when each job has its task"


def test_top_up_gives_tasks_only_for_the_room_left(settings, db):
    settings.MAX_CONCURRENT_JOBS = 3
    settings.MAX_ACTIVE_JOBS_PER_USER = 1000
    owner = make_user()
    queued(owner, 2, status=Job.Status.RUNNING)
    queued(owner, 5)
    OrmQ.objects.all().delete()

    # One free slot: one task, though five jobs wait; a task a worker just took counts.
    assert claiming.top_up() == 1
    OrmQ.objects.update(lock=timezone.now() + timedelta(seconds=Conf.RETRY))
    assert claiming.top_up() == 0
    Job.objects.filter(status=Job.Status.RUNNING).update(status=Job.Status.SUCCEEDED)
    assert claiming.top_up() == 2, "the two slots just freed"
    assert OrmQ.objects.count() == 3


def test_a_task_taken_by_a_cluster_that_died_is_topped_up_past(unlimited):
    """A start task runs within a second of being taken; one taken long ago went to a
    cluster that died, and its lease would keep the job waiting for half an hour."""
    (job,) = queued(make_user(), 1)
    taken_long_ago = timezone.now() + timedelta(seconds=Conf.RETRY - 60)
    OrmQ.objects.update(lock=taken_long_ago)

    assert claiming.top_up() == 1
    assert OrmQ.objects.filter(lock__lte=timezone.now()).count() == 1, "one to hand out now"
    assert claiming.top_up() == 0


def test_place_in_line_matches_the_order_jobs_start_in(unlimited, django_assert_num_queries):
    users = [make_user() for _ in range(4)]
    # Some users were served before, in a known order; one never was.
    for minutes, user in zip((30, 10, 20), users, strict=False):
        make_job(
            user,
            status=Job.Status.SUCCEEDED,
            started_at=timezone.now() - timedelta(minutes=minutes),
        )
    rng = random.Random(7)
    for _ in range(15):
        make_job(rng.choice(users))
    waiting = list(Job.objects.filter(status=Job.Status.QUEUED))
    predicted = {job.pk: dispatch.jobs_ahead(job) for job in waiting}
    # A queued job's page and each of its polls ask: one query, however long the line.
    with django_assert_num_queries(1):
        dispatch.jobs_ahead(waiting[0])

    order = [job.pk for job in start_all()]

    assert [predicted[pk] for pk in order] == list(range(len(order)))


def test_higher_priority_jobs_count_as_ahead(unlimited):
    owner, other = make_user(), make_user()
    mine = make_job(owner)
    queued(other, 2, priority=3)

    assert dispatch.jobs_ahead(mine) == 2


def test_the_job_page_shows_its_place_in_line(alice_client, user, unlimited):
    make_job(make_user())
    queued(make_user(), 3)  # only one of these goes before Alice's: they take turns
    mine = make_job(user)

    page = alice_client.get(mine.get_absolute_url()).content.decode()

    assert "2 jobs ahead of it in line." in page
    claiming.claim_next()
    claiming.claim_next()
    line.forget()  # the next look is seconds later, past the process's reading
    assert "Next in line." in alice_client.get(mine.get_absolute_url()).content.decode()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_busy_worker_starts_the_urgent_job_next_then_users_take_turns(
    client, big_table, demo_table, worker_env, tmp_path
):
    env = {**worker_env, "Q_WORKERS": "1", "MAX_CONCURRENT_JOBS": "1"}
    worker = Worker(tmp_path / "qcluster.log", env).start()

    def submit(username: str, table: str) -> Job:
        owner = User.objects.filter(username=username).first() or make_user(username)
        client.force_login(owner)
        client.post(reverse("jobs:new", args=["semantic_model"]), {"table": table})
        return Job.objects.filter(owner=owner).order_by("created_at").last()

    try:
        blocker = submit("first", big_table)
        wait_for(
            lambda: Job.objects.get(pk=blocker.pk).status == Job.Status.RUNNING,
            timeout=30,
            what="the only worker to be busy",
        )
        alices = [submit("alice", demo_table.key) for _ in range(3)]
        bob = submit("bob", demo_table.key)
        carol = submit("carol", demo_table.key)
        Job.objects.filter(pk=carol.pk).update(priority=5)  # as staff do in the admin
        everyone = [blocker, *alices, bob, carol]
        wait_for(
            lambda: not Job.objects.filter(pk__in=[j.pk for j in everyone]).active().exists(),
            timeout=120,
            interval=1,
            what="every job to finish",
        )
    finally:
        worker.stop()

    started = list(Job.objects.filter(pk__in=[j.pk for j in everyone]).order_by("started_at"))
    assert all(job.status == Job.Status.SUCCEEDED for job in started)
    assert started == [blocker, carol, alices[0], bob, alices[1], alices[2]]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_jobs_waiting_for_room_cost_two_tasks_at_most(worker_env, demo_table, tmp_path, settings):
    """A real cluster with room for 3 jobs at once runs 20: each job's end asks for one
    more task, not one per waiting job (109 deliveries before, for these 20 jobs): its
    submission's task, and the one a job's end gives it."""
    settings.MAX_ACTIVE_JOBS_PER_USER = 100
    owner = make_user()
    kind = get_kind("semantic_model")
    jobs = [
        submitting.submit(owner=owner, kind=kind, params=demo_table.as_params()) for _ in range(20)
    ]
    cluster = Worker(tmp_path / "qcluster.log", {**worker_env, "MAX_CONCURRENT_JOBS": "3"})
    cluster.start()
    try:
        wait_for(
            lambda: not Job.objects.filter(pk__in=[j.pk for j in jobs]).active().exists(),
            timeout=90,
            what="the 20 jobs to end",
        )
        time.sleep(2)  # any surplus task still on its way
    finally:
        cluster.stop()

    assert Job.objects.filter(status=Job.Status.SUCCEEDED).count() == 20
    deliveries = cluster.log().count("Processed 'jobs.engine.tasks.start_next_job'")
    # Two per job at most, a few more for a sweep or a task racing another to a job.
    assert 20 <= deliveries <= 2 * 20 + 4, f"{deliveries} deliveries"


@pytest.mark.parametrize("seed", range(6))
def test_a_batch_claim_starts_what_as_many_single_claims_would(unlimited, seed):
    rng = random.Random(seed)
    users = [make_user() for _ in range(rng.randint(2, 7))]
    for user in rng.sample(users, len(users) // 2):
        make_job(
            user,
            status=Job.Status.SUCCEEDED,
            started_at=timezone.now() - timedelta(minutes=rng.randint(1, 90)),
        )
    for _ in range(rng.randint(10, 40)):
        make_job(
            rng.choice(users),
            priority=rng.choice([0, 0, 0, 5, -1]),
            created_at=timezone.now() - timedelta(seconds=rng.randint(0, 3600)),
        )
    most = rng.randint(3, 30)
    with transaction.atomic():
        one_by_one = [job.pk for job in start_all()][:most]
        transaction.set_rollback(True)

    batch = claiming.claim_several(most)

    assert [job.pk for job in batch] == one_by_one
    assert all(job.status == Job.Status.RUNNING and job.attempts == 1 for job in batch)
    stored = Job.objects.in_bulk([job.pk for job in batch])
    assert all(stored[job.pk].status == Job.Status.RUNNING for job in batch)
    assert all(stored[job.pk].started_at == job.started_at for job in batch)


def test_a_batch_claim_stops_at_max_concurrent_jobs(settings, db):
    settings.MAX_CONCURRENT_JOBS = 5
    owners = [make_user() for _ in range(3)]
    for owner in owners:
        queued(owner, 4)

    assert len(claiming.claim_several(4)) == 4
    assert len(claiming.claim_several(4)) == 1, "one slot left"
    assert claiming.claim_several(4) == []
    assert Job.objects.filter(status=Job.Status.RUNNING).count() == 5


def test_a_small_burst_is_spread_over_the_worker_processes(unlimited):
    for owner in [make_user() for _ in range(3)]:
        queued(owner, 3)

    sizes = []
    while batch := claiming.claim_several(32, spread=2):
        sizes.append(len(batch))

    # Nine jobs between two processes: each task takes half of those left, not all nine.
    assert sizes == [5, 2, 1, 1]
