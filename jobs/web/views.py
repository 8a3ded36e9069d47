from __future__ import annotations

import uuid
from collections import Counter

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousFileOperation
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.text import get_valid_filename
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from jobs.analysis.texts import documents
from jobs.analysis.texts.documents import DocumentError
from jobs.engine import line, submitting, watching
from jobs.engine.registry import get_kind, listed_kinds
from jobs.kinds import document_extraction, table_choice
from jobs.models import Document, Job, Preferences
from jobs.provider import reading
from jobs.web import bulk, polling, reruns, shortcut, status
from jobs.web.forms import (
    BulkJobsForm,
    DocumentPasteForm,
    DocumentTitleForm,
    DocumentUploadForm,
    JobFilterForm,
    PreferencesForm,
)


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def owned_job(request: HttpRequest, pk) -> Job:
    # Another user's job is a 404, never a 403: its existence is not theirs to learn.
    return get_object_or_404(Job.objects.for_user(request.user), pk=pk)


@require_GET
def job_list(request: HtmxHttpRequest) -> HttpResponse:
    form = JobFilterForm(request.GET or None)
    jobs = form.filter(Job.objects.for_user(request.user))
    page = Paginator(jobs, 25).get_page(request.GET.get("page"))
    mark_lookalikes(page)
    counts = Job.objects.for_user(request.user).order_by().values_list("status")
    context = {
        "form": form,
        "page": page,
        "counts": dict(counts.annotate(n=Count("id"))),
        "statuses": Job.Status.choices,
        "has_active": any(job.is_active for job in page),
        "poll_seconds": settings.JOB_POLL_SECONDS,
        "kinds": listed_kinds(),
    }
    template = "jobs/job_list.html#job-rows" if request.htmx else "jobs/job_list.html"
    return render(request, template, context)


@require_POST
def job_bulk(request: HttpRequest) -> HttpResponse:
    """Cancel or delete the jobs ticked in My jobs: a page says what would happen, and
    its button does it. Ids of jobs that are not the user's are ignored."""
    form = BulkJobsForm(request.POST)
    back = list_url(request)
    if not form.is_valid():
        return render(request, "jobs/job_bulk.html", {"form": form, "back": back}, status=400)
    jobs = Job.objects.for_user(request.user).filter(pk__in=form.cleaned_data["ids"])
    plan = bulk.plan(form.cleaned_data["action"], jobs)
    if not plan.acted_on and not plan.left:
        messages.info(request, "Nothing was done: none of the ticked jobs exists any more.")
        return redirect(back)
    if not form.cleaned_data["confirmed"]:
        return render(request, "jobs/job_bulk.html", {"form": form, "plan": plan, "back": back})
    messages.success(request, bulk.carry_out(plan))
    return redirect(back)


def list_url(request: HttpRequest) -> str:
    """My jobs as the user left it (filters, page), from the form's `next`, if it is one."""
    url = request.POST.get("next", "")
    home = reverse("jobs:list")
    safe = url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()})
    return url if safe and url.split("?")[0] == home else home


def mark_lookalikes(page) -> None:
    """Jobs of one kind with one title look alike in a list: those are marked
    `lookalike`, with their kind's `details`, to tell them apart."""
    seen = Counter((job.kind, job.title) for job in page)
    for job in page:
        if seen[(job.kind, job.title)] > 1:
            kind = get_kind(job.kind)
            job.lookalike = True
            job.details = kind.details(job.params) if kind else ""


@require_GET
def job_kinds(request: HttpRequest) -> HttpResponse:
    return render(request, "jobs/job_kinds.html", {"kinds": listed_kinds()})


@require_http_methods(["GET", "POST"])
def job_new(request: HttpRequest, kind: str) -> HttpResponse:
    job_kind = get_kind(kind)
    if job_kind is None or not job_kind.listed:
        raise Http404("No such kind of job.")
    # Fields prefilled from the address (a chooser's choice without JavaScript), or, for
    # "Edit and run again", from one of the user's own jobs.
    initial = request.GET.dict()
    if request.method == "GET" and (source := initial.pop("from", None)):
        initial = job_kind.form_class.initial_from(rerun_source(request, source, job_kind).params)
    form = job_kind.form_class(request.POST or None, user=request.user, initial=initial)
    key = idempotency_key(request)
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        params = form.to_params()
        try:
            try:
                job = submitting.submit(
                    owner=request.user, kind=job_kind, params=params, idempotency_key=key
                )
            except submitting.KeyReused:
                # The form was sent once, then changed (the back button) and sent again:
                # a new job for what it says now.
                job = submitting.submit(owner=request.user, kind=job_kind, params=params)
        except submitting.SubmitRefused as exc:
            form.add_error(None, str(exc))
            status = 429
        else:
            return redirect(job)
    context = {"form": form, "kind": job_kind, "idempotency_key": key or uuid.uuid4()}
    return render(request, "jobs/job_new.html", context, status=status)


@require_GET
def table_schemas(request: HtmxHttpRequest) -> HttpResponse:
    """The semantic-model chooser's schemas of one database (and the tables of its only
    schema), for htmx when the database is chosen."""
    return _table_choice(request, "schemas")


@require_GET
def table_list(request: HtmxHttpRequest) -> HttpResponse:
    """The chooser's tables of one schema, with row estimates."""
    return _table_choice(request, "tables")


def _table_choice(request: HtmxHttpRequest, part: str) -> HttpResponse:
    if not request.htmx:
        # Without JavaScript the whole page, at that choice (it reads the catalogs itself).
        url = reverse("jobs:new", args=["semantic_model"])
        return redirect(f"{url}?{request.GET.urlencode()}")
    try:
        browser = table_choice.browse(
            request.user, request.GET.get("database", ""), request.GET.get("schema", "")
        )
    except LookupError:
        raise Http404("No such database.") from None
    return render(request, f"jobs/forms/semantic_model.html#{part}", {"browser": browser})


def idempotency_key(request: HttpRequest) -> str:
    """The key the form sent, or an Idempotency-Key header; blank unless a short token."""
    key = request.POST.get("idempotency_key") or request.headers.get("Idempotency-Key", "")
    return submitting.valid_idempotency_key(key)


# One URL, the page or (for htmx) its fragment: caches must tell them apart.
@vary_on_headers("HX-Request")
@require_GET
def job_detail(request: HtmxHttpRequest, pk) -> HttpResponse:
    job = owned_job(request, pk)
    watching.mark(job)
    poll_url = polling.url(job, request.session.session_key or "", request.user.password)
    context = status.status_context(job, poll_url)
    context["first_poll_soon"] = polling.first_poll_soon(job, context["ahead"])
    template = status.TEMPLATE if request.htmx else "jobs/job_detail.html"
    return render(request, template, context)


@login_not_required  # the signed token stands in for the session: see jobs/web/polling.py
@require_GET
def job_status(request: HtmxHttpRequest, pk) -> HttpResponse:
    """The job page's poll: a 304 while nothing changed, the live part while only the
    progress moves (one query), the whole status section when the stage or status does.
    The WSGI shortcut (jobs/web/shortcut.py) answers an active job's polls before this
    view: it gets an ended job's, and those the shortcut could not answer."""
    granted = polling.requested(request, pk)
    # The shortcut passes on the row it read, if any.
    job = granted and (shortcut.job_read(request, pk, granted) or polling.read(pk, granted))
    if not job:
        # Expired, not this browser's, or its session or user is gone: nothing of the job.
        return polling.refused()
    ahead = line.place_in_line(job)
    return polling.answer(request, job, granted, ahead) or status.section(
        request, job, granted, ahead
    )


def rerun_source(request: HttpRequest, pk: str, kind) -> Job:
    try:
        job = owned_job(request, uuid.UUID(pk))
    except ValueError:
        raise Http404("No such job.") from None
    if job.kind != kind.slug:
        raise Http404("That job is of another kind.")
    return job


@require_POST
def job_cancel(request: HttpRequest, pk) -> HttpResponse:
    job = owned_job(request, pk)
    # A cancelled job's page says so itself: a message only when nothing changed.
    if not submitting.cancel(job):
        messages.info(request, f"The job had already ended ({job.get_status_display().lower()}).")
    return redirect(job)


@require_POST
def job_rerun(request: HttpRequest, pk) -> HttpResponse:
    """Run again: a new job with the same inputs (the old one stays as it was)."""
    job = owned_job(request, pk)
    kind = get_kind(job.kind)
    if kind is None:
        raise Http404("No such kind of job.")
    # A big job is not started again on one tap: a page says what it costs first.
    if not request.POST.get("confirmed") and (reasons := reruns.reasons_to_ask(job)):
        return render(request, "jobs/job_rerun.html", {"job": job, "reasons": reasons})
    try:
        new = submitting.submit(owner=request.user, kind=kind, params=job.params)
    except submitting.SubmitRefused as exc:
        messages.error(request, str(exc))
        return redirect(job)
    return redirect(new)


@require_POST
def job_retry(request: HttpRequest, pk) -> HttpResponse:
    job = owned_job(request, pk)
    if job.status == Job.Status.FAILED and not job.retryable:
        messages.info(request, "Run as it is, this job would fail the same way: edit it first.")
        return redirect(job)
    try:
        retried = submitting.retry(job)
    except submitting.SubmitRefused as exc:
        messages.error(request, str(exc))
        return redirect(job)
    if retried:
        messages.success(request, "The job was queued again; it resumes from its last step.")
    else:
        messages.info(request, f"Only a failed or cancelled job can be retried ({job.status}).")
    return redirect(job)


@require_GET
def job_download(request: HttpRequest, pk, fmt: str) -> HttpResponse:
    job = owned_job(request, pk)
    kind = get_kind(job.kind)
    download = kind.downloads.get(fmt) if kind else None
    finished = job.status == Job.Status.SUCCEEDED or (job.result or {}).get("partial")
    if download is None or not finished or not job.result:
        raise Http404("Nothing to download for this job.")
    try:
        body = download.render(job.result)
    except KeyError:
        # A partial result may lack what this format is made of (a model's YAML).
        raise Http404("This partial result has nothing to download in that format.") from None
    response = HttpResponse(body, content_type=download.content_type)
    filename = f"{download_name(job.title, job.kind)}{download.suffix}"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def download_name(title: str, fallback: str) -> str:
    """A file name from a job's title: one line, no path or quote characters, not too long
    (titles are questions typed by users, line breaks and all)."""
    words = " ".join(title.split())[:80].replace(".", "_")
    try:
        return get_valid_filename(words)
    except SuspiciousFileOperation:  # nothing usable was left
        return fallback


@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    preferences, _ = Preferences.objects.get_or_create(user=request.user)
    # An unticked box sends nothing, so an empty POST is still a submission.
    data = request.POST if request.method == "POST" else None
    form = PreferencesForm(data, instance=preferences)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Saved.")
        return redirect("jobs:notification_settings")
    context = {
        "form": form,
        "away_seconds": settings.JOB_NOTIFY_AWAY_SECONDS,
        "email_enabled": settings.EMAIL_ENABLED,
    }
    return render(request, "jobs/settings_notifications.html", context)


def owned_document(request: HttpRequest, pk) -> Document:
    return get_object_or_404(Document.objects.for_user(request.user), pk=pk)


def _document_page(request, upload_form=None, paste_form=None, status=200) -> HttpResponse:
    context = {
        "documents": Document.objects.for_user(request.user).defer("text", "upload"),
        "upload_form": upload_form or DocumentUploadForm(),
        "paste_form": paste_form or DocumentPasteForm(),
    }
    return render(request, "jobs/document_list.html", context, status=status)


@require_GET
def document_list(request: HttpRequest) -> HttpResponse:
    return _document_page(request)


@require_POST
def document_upload(request: HttpRequest) -> HttpResponse:
    form = DocumentUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            with transaction.atomic():
                stored = documents.store_files(request.user, form.cleaned_data["files"])
                # Read in the worker: the request only keeps the files.
                submitting.submit(
                    owner=request.user, kind=get_kind(document_extraction.KIND.slug),
                    params=document_extraction.params_for(stored),
                )  # fmt: skip
        except DocumentError as exc:
            form.add_error("files", exc.messages)
        except submitting.SubmitRefused as exc:
            form.add_error("files", str(exc))
        else:
            count = len(stored)
            messages.success(
                request, f"Added {count} file{pluralize(count)}: extracting the text now."
            )
            return redirect("jobs:documents")
    return _document_page(request, upload_form=form, status=400)


@require_POST
def document_paste(request: HttpRequest) -> HttpResponse:
    form = DocumentPasteForm(request.POST)
    if form.is_valid():
        try:
            document = documents.add_text(
                request.user, form.cleaned_data["title"], form.cleaned_data["text"]
            )
        except DocumentError as exc:
            form.add_error("text", exc.messages)
        else:
            messages.success(request, f"Added “{document.title}”.")
            return redirect("jobs:documents")
    return _document_page(request, paste_form=form, status=400)


@require_http_methods(["GET", "POST"])
def document_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A document's text, and its title to edit."""
    document = owned_document(request, pk)
    form = DocumentTitleForm(request.POST or None, instance=document)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Title saved.")
        return redirect(document)
    status = 400 if request.method == "POST" else 200
    context = {"document": document, "form": form, **reading_context(request, document)}
    return render(request, "jobs/document_detail.html", context, status=status)


def reading_context(request: HttpRequest, document: Document) -> dict:
    """The part of the text to show, as Markdown or plain text, with a cited passage marked."""
    asked = request.GET.get("highlight", "")
    passage = reading.parse_highlight(asked, len(document.text)) if asked else None
    try:
        number = int(request.GET["part"])
    except (KeyError, ValueError):
        number = None
    part = reading.part_of(document.text, number, passage)
    formatted = request.GET.get("view") != "text"
    return {
        "part": part,
        "passage": passage,
        "bad_highlight": bool(asked) and passage is None,
        "formatted": formatted,
        "view": "" if formatted else "text",
        "text_html": reading.render_part(document.text, part, passage, formatted=formatted),
    }


@require_POST
def document_delete(request: HttpRequest, pk: int) -> HttpResponse:
    document = owned_document(request, pk)
    document.delete()
    messages.success(request, f"Deleted “{document.title}”.")
    return redirect("jobs:documents")
