"""Never twice at once: the broker hands a task out again when its lease runs out, and a
task only says "start the next job", so a job must never start twice whatever number of
tasks name it, on however many clusters."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ

from jobs.engine import queue
from jobs.models import Job, JobEvent
from tests.conftest import Worker, wait_for
from tests.factories import PASSWORD, make_job, make_user

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_two_clusters_with_short_leases_run_each_job_once(client, big_table, worker_env, tmp_path):
    # Each job profiles for several seconds, far past a 2-second lease.
    env = {**worker_env, "JOB_LEASE_SECONDS": "2", "Q_WORKERS": "1", "MAX_CONCURRENT_JOBS": "2"}
    clusters = [Worker(tmp_path / f"cluster{n}.log", env).start() for n in (1, 2)]
    owner = make_user("leased")
    client.login(username=owner.username, password=PASSWORD)
    try:
        for _ in range(3):
            client.post(reverse("jobs:new", args=["semantic_model"]), {"table": big_table})
        jobs = list(Job.objects.filter(owner=owner))
        # A second delivery of each job's task, as a lapsed lease would make.
        for job in jobs:
            queue.enqueue(job)
        wait_for(
            lambda: all(Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED for job in jobs),
            timeout=150,
            interval=1,
            what="every job to succeed",
        )
    finally:
        for cluster in clusters:
            cluster.stop()
    logs = "".join(cluster.log() for cluster in clusters)

    deliveries = Counter(re.findall(r"processing (job-[0-9a-f-]+) ", logs))
    assert min(deliveries.values()) > 1, "every job's task was delivered twice"
    for job in Job.objects.filter(owner=owner):
        assert job.attempts == 1
        assert JobEvent.objects.filter(job=job, name=Job.Status.RUNNING).count() == 1
        assert logs.count(f"job finished id={job.pk} ") == 1


def test_a_job_whose_task_went_to_a_dead_cluster_starts_within_seconds(worker_env, tmp_path):
    """Its task stays leased to the dead cluster for half an hour: the sweep of a live
    worker queues another instead of counting that one as coming."""
    owner = make_user("orphaned")
    # A table that is not there: the job fails at once, having started.
    params = {"database": "default", "schema": "demo", "table": "no_such_table"}
    job = make_job(owner, params=params)
    # As the broker leaves a task a cluster took just before it was killed.
    OrmQ.objects.update(lock=timezone.now() + timedelta(seconds=Conf.RETRY - 30))
    env = {**worker_env, "JOB_SWEEP_SECONDS": "1"}
    cluster = Worker(tmp_path / "back.log", env).start()
    try:
        wait_for(
            lambda: Job.objects.get(pk=job.pk).status != Job.Status.QUEUED,
            timeout=30,
            what="the job to start with its task still leased",
        )
    finally:
        cluster.stop()
    assert Job.objects.get(pk=job.pk).started_at is not None
