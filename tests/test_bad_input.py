"""Every form field and every API field, sent missing, oversized, of the wrong type, with
a NUL byte or with odd unicode: a 4xx with a readable message, and nothing written."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from jobs.api import tokens
from jobs.models import ApiToken, Document, Job
from tests.factories import make_document

pytestmark = pytest.mark.django_db

OVERSIZED = "x" * 100_001
NUL = "an objective with a \x00 NUL byte"
# Only whitespace, in characters a browser may send: no-break, ideographic, em spaces.
ODD_SPACES = "\u00a0\u3000\u2003"
# Controls that reorder text and a zero-width space, with no letters at all.
ODD_MARKS = "\u202e\u200b\u2066"


def rows() -> tuple[int, int, int]:
    return Job.objects.count(), Document.objects.count(), ApiToken.objects.count()


# A text field of an HTML form has no wrong type: every value is a string, and a
# repeated one counts once.
TEXT = object()


def variants(valid: dict, field: str, wrong_type) -> list[tuple[str, dict]]:
    """The valid body with one field broken in each way."""
    missing = {k: v for k, v in valid.items() if k != field}
    typed = [] if wrong_type is TEXT else [("wrong type", {**valid, field: wrong_type})]
    return [
        ("missing", missing),
        ("oversized", {**valid, field: OVERSIZED}),
        *typed,
        ("NUL", {**valid, field: NUL}),
        ("odd spaces", {**valid, field: ODD_SPACES}),
        ("odd marks", {**valid, field: ODD_MARKS}),
    ]


@pytest.fixture
def setup(alice_client, user, demo_table):
    document = make_document(user, text="Methods and results. " * 20)
    return alice_client, document, demo_table


def html_cases(document, demo_table):
    """(url, valid form data, fields with a wrong-typed value each)."""
    return [
        (
            "/jobs/new/semantic_model/",
            {"table": demo_table.key},
            {"table": "demo.no_such_table"},
        ),
        (
            "/jobs/new/review/",
            {
                "question": "Which rates were measured?",
                "documents": [document.pk],
                "mode": "precision",
            },
            {"question": TEXT, "documents": "many", "mode": "loudest"},
        ),  # fmt: skip
        (
            "/jobs/new/deep_dive/",
            {"document": document.pk, "objective": "the rates asked about"},
            {"document": "first", "objective": TEXT},
        ),
        (
            "/documents/paste/",
            {"title": "Pasted notes", "text": "Some pasted text to read."},
            {"title": TEXT, "text": TEXT},
        ),
        ("/settings/tokens/", {"name": "nightly export"}, {"name": TEXT}),
    ]


def test_every_html_form_field(setup, settings):
    client, document, demo_table = setup
    settings.DOCUMENT_MAX_PASTE_CHARS = len(OVERSIZED) - 1
    before = rows()
    failures = []
    for url, valid, wrong in html_cases(document, demo_table):
        for field, wrong_type in wrong.items():
            for how, data in variants(valid, field, wrong_type):
                response = client.post(url, data)
                body = response.content.decode()
                readable = 'class="errorlist' in body or "error" in body.lower()
                if not (400 <= response.status_code < 500 and readable):
                    failures.append(f"{url} {field} {how}: {response.status_code}")
    assert failures == [], "\n".join(failures)
    assert rows() == before, "nothing written"


def test_a_file_upload_that_is_missing_empty_binary_or_oversized(setup, settings):
    client, _, _ = setup
    settings.DOCUMENT_MAX_BYTES = 1000
    before = rows()
    from django.core.files.uploadedfile import SimpleUploadedFile

    uploads = {
        "missing": {},
        "empty": {"files": SimpleUploadedFile("empty.txt", b"")},
        "binary": {"files": SimpleUploadedFile("data.txt", bytes(range(256)) * 4)},
        "oversized": {"files": SimpleUploadedFile("big.txt", b"words " * 1000)},
        "wrong type": {"files": "not a file"},
        "odd name": {"files": SimpleUploadedFile("\u202egpj.exe", b"text")},
    }
    for how, data in uploads.items():
        response = client.post("/documents/upload/", data)
        assert response.status_code == 400, how
        assert "errorlist" in response.content.decode(), how
    assert rows() == before


@pytest.fixture
def api(user) -> Client:
    _, key = tokens.create(user, "bad input")
    return Client(headers={"Authorization": f"Bearer {key}"})


def api_post(client: Client, body: dict | str):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post("/api/jobs", data, content_type="application/json")


def test_every_api_field(api, user, demo_table):
    document = make_document(user, text="Methods and results. " * 20)
    cases = [
        ("semantic_model", {"table": demo_table.key}, {"table": {"a": 1}}),
        (
            "review",
            {"question": "Which rates were measured?", "documents": [document.pk]},
            {"question": 12, "documents": "all", "mode": 3},
        ),
        (
            "deep_dive",
            {"document": document.pk, "objective": "the rates asked about"},
            {"document": [1], "objective": {"a": 1}},
        ),
    ]
    before = rows()
    failures = []
    for kind, valid, wrong in cases:
        bodies = [("kind " + how, body) for how, body in variants(
            {"kind": kind, "params": valid}, "kind", 7
        )]  # fmt: skip
        for field, wrong_type in wrong.items():
            bodies += [
                (f"{kind}.{field} {how}", {"kind": kind, "params": params})
                for how, params in variants(valid, field, wrong_type)
            ]
        # A lone surrogate: valid JSON, but no character any database can store.
        bodies.append((f"{kind} surrogate", json.dumps({"kind": kind, "params": valid})
                       .replace('"params"', '"params\\ud800"')))  # fmt: skip
        for field in valid:
            escaped = json.dumps({"kind": kind, "params": {**valid, field: "a\ud800b"}})
            bodies.append((f"{kind}.{field} surrogate", escaped))
        for how, body in bodies:
            response = api_post(api, body)
            try:
                message = response.json().get("error", "")
            except ValueError:
                message = ""
            if not (400 <= response.status_code < 500 and len(message) > 5):
                failures.append(f"{how}: {response.status_code} {message[:80]}")
    assert failures == [], "\n".join(failures)
    assert rows() == before, "nothing written"


def test_api_headers_and_query_strings(api):
    before = rows()
    answers = {
        "idempotency NUL": api.post("/api/jobs", "{}", content_type="application/json",
                                    headers={"Idempotency-Key": "key\x00key-key"}),
        "limit NUL": api.get("/api/jobs?limit=1%00"),
        "status odd": api.get("/api/jobs?status=%E2%80%AE"),
        "job id odd": api.get("/api/jobs/%E2%80%AEabc"),
        "job id NUL": api.get("/api/jobs/abc%00"),
    }  # fmt: skip
    for how, response in answers.items():
        assert 400 <= response.status_code < 500, how
        assert response.json()["error"], how
    assert rows() == before


# Issue 27.3 and 27.8: a connection URL whose options reach past its database, or whose
# failure would show its login, is refused with a message naming what is wrong.
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://root@localhost/test?local_infile=1", "local_infile is not allowed"),
        ("mariadb://root@localhost/test?init_command=DO+1", "init_command is not allowed"),
        ("postgresql://postgres@127.0.0.1/x?options=-c%20default_transaction_read_only%3Doff",
         "options is not allowed"),
        ("sqlite:////tmp/nothing.db?mode=rwc", "mode is not allowed"),
        ("mysql://nobody_here:secret-pw@localhost/nothing", "did not answer as expected"),
    ],
)  # fmt: skip
def test_a_connection_url_reaching_past_its_database(admin_client, url, expected):
    from jobs.models import Connection

    response = admin_client.post(
        "/admin/jobs/connection/add/", {"name": "bad", "url": url, "users": [], "groups": []}
    )

    page = response.content.decode()
    assert response.status_code == 200 and expected in page
    assert "secret-pw" not in page and "nobody_here" not in page and "'@'" not in page
    assert not Connection.objects.exists()
