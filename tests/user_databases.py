"""Users' databases for the semantic-model tests: a schema of the test PostgreSQL
database or tables of a MariaDB database, made for one test and dropped after, and a
model submitted through the API and run."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg2
import pymysql
import yaml
from django.test import Client

from jobs.api import tokens
from jobs.engine import running
from jobs.models import Job
from tests.conftest import database_url

# Test runs from two checkouts at once each set their own, so neither drops the other's.
MARIADB_DATABASE = os.environ.get("TEST_MARIADB_DATABASE", "test")
MARIADB_URL = f"mysql://root@localhost/{MARIADB_DATABASE}"


@contextmanager
def postgres_schema(schema: str, fill: Callable) -> Iterator[str]:
    """A fresh schema of the test database, filled by `fill(cursor)`; its URL."""
    db = psycopg2.connect(database_url())
    db.autocommit = True
    try:
        with db.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
            fill(cursor)
        yield database_url()
        with db.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        db.close()


@contextmanager
def mariadb_tables(drop: str, fill: Callable) -> Iterator[str]:
    """Tables of the test MariaDB database, filled by `fill(cursor)` after `drop` (a
    `DROP … IF EXISTS` statement), dropped again after; the URL."""
    db = pymysql.connect(host="localhost", user="root", autocommit=True)
    db.cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{MARIADB_DATABASE}`")
    db.select_db(MARIADB_DATABASE)
    try:
        with db.cursor() as cursor:
            cursor.execute(drop)
            fill(cursor)
        yield MARIADB_URL
        with db.cursor() as cursor:
            cursor.execute(drop)
    finally:
        db.close()


def submit(user, params: dict):
    _, token = tokens.create(user, "tests")
    api = Client(headers={"Authorization": f"Bearer {token}"})
    body = json.dumps({"kind": "semantic_model", "params": params})
    return api.post("/api/jobs", body, content_type="application/json")


def modelled(user, params: dict) -> tuple[dict, Job]:
    """The model of a job submitted with these params and run to success, and the job."""
    answer = submit(user, params)
    assert answer.status_code == 202, answer.content
    job = Job.objects.get(pk=answer.json()["id"])
    running.run_queued_job(str(job.pk))
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    return yaml.safe_load(job.result["yaml"]), job
