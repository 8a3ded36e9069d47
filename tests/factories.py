"""Plain factories for test data: no library, just defaults that each test can override."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model

from jobs.engine import submitting
from jobs.engine.registry import get_kind
from jobs.models import Job

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


def make_user(username: str | None = None, **fields):
    username = username or f"user{next(_counter)}"
    return get_user_model().objects.create_user(username=username, password=PASSWORD, **fields)


def make_job(owner=None, *, kind: str = "semantic_model", params: dict | None = None, **fields):
    """A job row as the engine would write it; fields such as status override the defaults."""
    owner = owner or make_user()
    params = params or {"database": "default", "schema": "demo", "table": "loan_applications"}
    job = submitting.submit(owner=owner, kind=get_kind(kind), params=params)
    if fields:
        Job.objects.filter(pk=job.pk).update(**fields)
        job.refresh_from_db()
    return job


def make_document(owner, title: str = "Notes", text: str = "Some text.", **fields):
    from jobs.models import Document

    return Document.objects.create(owner=owner, title=title, text=text, **fields)


def demo_documents(owner) -> list:
    from jobs.analysis.texts.documents import add_demo_documents
    from jobs.models import Document

    add_demo_documents(owner)
    return list(Document.objects.for_user(owner).order_by("filename"))
