"""Uploads: the request keeps the files and answers at once; a real worker reads them
within the limits, and the document page shows "Extracting…", then the text or a refusal
naming the file and the limit it reached."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from jobs.models import Document, Job
from tests.conftest import wait_for
from tests.factories import PASSWORD, make_user
from tests.pdfs import nested_arrays_pdf, pdf_with_text, shared_stream_pdf

UPLOAD = reverse("jobs:document_upload")


def post(client: Client, *files: tuple[str, bytes]):
    files = [SimpleUploadedFile(name, data) for name, data in files]
    started = time.perf_counter()
    response = client.post(UPLOAD, {"files": files})
    return response, time.perf_counter() - started


@pytest.fixture
def owner_client(transactional_db):
    user = make_user("uploader")
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return user, client


def test_the_request_keeps_the_files_and_a_job_reads_them(owner_client, settings):
    user, client = owner_client
    bomb = shared_stream_pdf(3_000, repeat=20)

    response, seconds = post(client, ("paper.pdf", pdf_with_text("Insulin fell by 4%.")),
                             ("bomb.pdf", bomb))  # fmt: skip

    assert response.status_code == 302 and seconds < 2.0
    stored = list(Document.objects.filter(owner=user).order_by("filename"))
    assert [doc.status for doc in stored] == [Document.Status.EXTRACTING] * 2
    assert bytes(stored[0].upload) == bomb and stored[0].text == ""
    job = Job.objects.get(owner=user)
    assert job.kind == "document_extraction" and job.status == Job.Status.QUEUED
    assert sorted(job.params["document_ids"]) == sorted(doc.pk for doc in stored)
    page = client.get(stored[1].get_absolute_url()).content.decode()
    assert "Extracting…" in page
    assert "document_extraction" not in client.get(reverse("jobs:kinds")).content.decode()
    assert client.get(reverse("jobs:new", args=["document_extraction"])).status_code == 404


def test_a_worker_reads_each_file_or_refuses_it_naming_the_limit(owner_client, worker):
    user, client = owner_client
    response, seconds = post(
        client,
        ("paper.pdf", pdf_with_text("Insulin fell by 4 per cent.")),
        ("bomb.pdf", shared_stream_pdf(3_000, repeat=20)),
        ("nested.pdf", nested_arrays_pdf()),
    )
    assert response.status_code == 302 and seconds < 2.0

    job = Job.objects.get(owner=user)
    wait_for(lambda: Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED, timeout=90,
             what="the reading job")  # fmt: skip
    docs = {doc.filename: doc for doc in Document.objects.filter(owner=user)}

    assert docs["paper.pdf"].status == Document.Status.READY
    assert "Insulin fell by 4 per cent." in docs["paper.pdf"].text
    assert docs["bomb.pdf"].status == Document.Status.REFUSED
    assert docs["bomb.pdf"].error == "bomb.pdf: the PDF has 3,000 pages, over the limit of 2,000."
    assert docs["nested.pdf"].error.startswith("nested.pdf: the PDF is nested too deeply")
    assert all(doc.upload is None for doc in docs.values())
    page = client.get(docs["paper.pdf"].get_absolute_url()).content.decode()
    assert "Insulin fell by 4 per cent." in page and "Extracting" not in page
    refused = client.get(docs["bomb.pdf"].get_absolute_url()).content.decode()
    assert "over the limit of 2,000" in refused


def test_a_body_over_the_cap_is_refused_before_it_is_read(alice_client, settings):
    settings.REQUEST_MAX_BYTES = 1_000_000

    response = alice_client.generic(
        "POST", UPLOAD, data=b"x" * 10, content_type="multipart/form-data; boundary=b",
        CONTENT_LENGTH="500000000",
    )  # fmt: skip

    assert response.status_code == 413
    assert "476.8 MB, over the limit of 1 MB" in response.content.decode()
    assert not Document.objects.exists()
