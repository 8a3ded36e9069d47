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


# --- issue 27: files that bomb the reader, the status URL, the login, the body's size ---


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("nested.pdf", "nested_arrays_pdf", "nested.pdf: the PDF is nested too deeply"),
        ("cmap.pdf", "oversized_cmap_pdf", "cmap.pdf: the PDF goes past a reading limit"),
        ("pages.pdf", "shared_stream_pdf", "pages.pdf: the PDF has 2,500 pages, over the limit"),
        ("deep.html", "deep_html", "deep.html: the file is nested deeper than the limit"),
    ],
)
def test_a_file_that_bombs_the_reader_is_refused_naming_it_and_the_limit(name, data, message):
    from jobs.analysis.texts.extracting import DocumentError, Limits, extract_isolated
    from tests import pdfs

    content = {
        "nested_arrays_pdf": pdfs.nested_arrays_pdf,
        "oversized_cmap_pdf": pdfs.oversized_cmap_pdf,
        "shared_stream_pdf": lambda: pdfs.shared_stream_pdf(2_500),
        "deep_html": lambda: b"<div>" * 5_000 + b"deep" + b"</div>" * 5_000,
    }[data]()

    with pytest.raises(DocumentError, match=message):
        extract_isolated(name, content, Limits())


def test_a_file_past_the_memory_or_time_limit_is_refused_naming_it():
    from jobs.analysis.texts.extracting import DocumentError, Limits, extract_isolated

    with pytest.raises(
        DocumentError, match="big.txt: reading the file needed more than the limit of 60 MB"
    ):
        extract_isolated("big.txt", b"word " * 4_000_000, Limits(memory_mb=60))
    with pytest.raises(
        DocumentError, match="slow.txt: reading the file took longer than the limit of 0.05 s"
    ):
        extract_isolated("slow.txt", b"words", Limits(seconds=0.05))


def test_a_status_url_with_too_many_query_fields_is_a_400(alice_client, user, settings):
    from tests.factories import make_job
    from tests.web.test_polling import poll_url

    job = make_job(user, status=Job.Status.RUNNING, attempts=1)
    url = poll_url(alice_client, job)
    fields = "&".join(f"f{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))

    response = alice_client.get(f"{url}&{fields}", headers={"HX-Request": "true"})

    assert response.status_code == 400


def test_a_login_with_a_nul_byte_is_a_form_error(user, settings):
    settings.AXES_ENABLED = True
    client = Client()

    response = client.post("/accounts/login/", {"username": "ali\x00ce", "password": "x"})
    reset = client.post("/accounts/password_reset/", {"email": "a\x00@example.com"})

    assert response.status_code == 400
    assert "Null characters are not allowed." in response.content.decode()
    assert 400 <= reset.status_code < 500 and "errorlist" in reset.content.decode()


def test_a_body_over_the_cap_is_a_413_with_a_message(alice_client, settings):
    settings.REQUEST_MAX_BYTES = 1_048_576
    before = rows()

    response = alice_client.generic(
        "POST", "/documents/upload/", data=b"--b--", CONTENT_LENGTH=str(50 * 1_048_576),
        content_type="multipart/form-data; boundary=b",
    )  # fmt: skip
    unreadable = alice_client.generic("POST", "/documents/paste/", data=b"x", CONTENT_LENGTH="ten")

    assert response.status_code == 413 and "50.0 MB, over the limit of 1 MB" in response.text
    assert unreadable.status_code == 400
    assert rows() == before
