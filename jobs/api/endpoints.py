"""The API's operations: thin, like the HTML views, over the same engine calls."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Header, Query, Router
from ninja.responses import Status

from jobs.api import serializers
from jobs.api.errors import ApiError
from jobs.api.params import validated_params
from jobs.api.schemas import (
    ErrorOut,
    JobCreatedOut,
    JobOut,
    JobPageOut,
    JobSubmitIn,
    StatsOut,
)
from jobs.engine import submitting
from jobs.engine.registry import all_kinds, get_kind, listed_kinds
from jobs.models import Job

router = Router(tags=["jobs"])

AUTH_ERRORS = {401: ErrorOut, 403: ErrorOut}
JOB_ERRORS = {**AUTH_ERRORS, 404: ErrorOut}
NO_SUCH_JOB = "No such job."
# Far past any real list, and small enough for PostgreSQL's OFFSET, a bigint.
MAX_OFFSET = 10**9


def owned_job(request: HttpRequest, job_id: str) -> Job:
    # Another user's job and a malformed id are the same 404 as a missing job.
    try:
        pk = uuid.UUID(job_id)
    except ValueError:
        raise ApiError(404, NO_SUCH_JOB) from None
    job = Job.objects.for_user(request.user).filter(pk=pk).first()
    if job is None:
        raise ApiError(404, NO_SUCH_JOB)
    return job


@router.post(
    "/jobs",
    url_name="jobs",
    response={
        202: JobCreatedOut,
        **dict.fromkeys((400, 409, 413, 415, 429), ErrorOut),
        **AUTH_ERRORS,
    },
    summary="Submit a job",
)
def submit_job(
    request: HttpRequest,
    response: HttpResponse,
    payload: JobSubmitIn,
    idempotency_key_header: str | None = Header(
        None,
        alias="Idempotency-Key",
        description=(
            "8 to 100 of A-Z a-z 0-9 _ . : - ; the same key with the same body gives back "
            "the same job, with another body a 409."
        ),
    ),
):
    """Queue a job. Its params are checked by the kind's own form, as on the job's page.

    Answers 202 at once with the job's status URL (also in `Location`); poll it.
    """
    # The HTML form's rule for keys, which there ignores a bad one; here it is refused, as
    # a client that sent a key counts on it.
    key = submitting.valid_idempotency_key(request.headers.get("Idempotency-Key", ""))
    if idempotency_key_header is not None and not key:
        raise ApiError(400, "Idempotency-Key must be 8 to 100 of A-Z a-z 0-9 _ . : -.")
    kind = get_kind(payload.kind)
    if kind is None or not kind.listed:
        listed = ", ".join(kind.slug for kind in listed_kinds())
        message = f"Unknown kind {payload.kind!r}; one of: {listed}."
        raise ApiError(400, message, errors={"kind": [message]})
    params = validated_params(kind, payload.params, request.user)
    try:
        job = submitting.submit(owner=request.user, kind=kind, params=params, idempotency_key=key)
    except submitting.SubmitRefused as exc:
        raise ApiError(429, str(exc)) from None
    except submitting.KeyReused as exc:
        raise ApiError(409, str(exc), job=str(exc.job.pk)) from None
    status_url = reverse("api:job", args=[job.pk])
    response["Location"] = status_url
    return Status(202, {"id": job.pk, "status": job.status, "status_url": status_url})


@router.get(
    "/jobs",
    url_name="jobs_list",
    response={200: JobPageOut, 400: ErrorOut, **AUTH_ERRORS},
    summary="List your jobs",
)
def list_jobs(
    request: HttpRequest,
    status: Job.Status | None = None,
    kind: str | None = None,
    limit: int = Query(25, ge=1, le=100),
    offset: int | None = Query(
        None, ge=0, le=MAX_OFFSET, description="Jobs to skip; or use `page`."
    ),
    page: int | None = Query(
        None, ge=1, le=MAX_OFFSET // 100, description="1-based page of `limit` jobs."
    ),
):
    """Your jobs, newest first, filtered by status and kind."""
    if kind is not None and get_kind(kind) is None:
        message = f"Unknown kind {kind!r}; one of: {', '.join(all_kinds())}."
        raise ApiError(400, message, errors={"kind": [message]})
    if offset is not None and page is not None:
        raise ApiError(400, "Send either offset or page, not both.")
    start = (page - 1) * limit if page is not None else offset or 0
    jobs = Job.objects.for_user(request.user)
    if status is not None:
        jobs = jobs.filter(status=status)
    if kind is not None:
        jobs = jobs.filter(kind=kind)
    count = jobs.count()
    filters = {key: value for key, value in (("status", status), ("kind", kind)) if value}

    def link(at: int) -> str:
        query = urlencode({**filters, "limit": limit, "offset": at})
        return f"{request.path}?{query}"

    return {
        "count": count,
        "limit": limit,
        "offset": start,
        "next": link(start + limit) if start + limit < count else None,
        "previous": link(max(0, start - limit)) if start > 0 else None,
        "results": [serializers.job_summary(job) for job in jobs[start : start + limit]],
    }


@router.get("/jobs/{job_id}", url_name="job", response={200: JobOut, **JOB_ERRORS})
def get_job(request: HttpRequest, job_id: str):
    """Where the job stands: status, stages, progress, place in line, error."""
    return serializers.job_detail(owned_job(request, job_id))


@router.get(
    "/jobs/{job_id}/result",
    url_name="job_result",
    response={200: dict, 409: ErrorOut, **JOB_ERRORS},
)
def get_job_result(request: HttpRequest, job_id: str):
    """The job's result as its kind writes it.

    A cancelled or failed job answers with what it finished, if anything (`"partial":
    true`); 409 while the job is queued or running, or when it ended with nothing.
    """
    job = owned_job(request, job_id)
    if job.is_active:
        raise ApiError(409, f"The job has not finished yet ({job.status}).", status=job.status)
    if not job.result:
        raise ApiError(409, f"The job ended ({job.status}) with no result.", status=job.status)
    return job.result


@router.post(
    "/jobs/{job_id}/cancel",
    url_name="job_cancel",
    response={200: JobOut, **JOB_ERRORS},
)
def cancel_job(request: HttpRequest, job_id: str):
    """Cancel a queued or running job. A job that already ended is left as it is, with
    the same 200 answer: its status says how it ended."""
    job = owned_job(request, job_id)
    submitting.cancel(job)
    job.refresh_from_db()
    return serializers.job_detail(job)


@router.post(
    "/jobs/{job_id}/retry",
    url_name="job_retry",
    response={202: JobOut, 409: ErrorOut, 429: ErrorOut, **JOB_ERRORS},
)
def retry_job(request: HttpRequest, job_id: str):
    """Queue a failed or cancelled job again; it resumes from its last finished step."""
    job = owned_job(request, job_id)
    try:
        retried = submitting.retry(job)
    except submitting.SubmitRefused as exc:
        raise ApiError(429, str(exc)) from None
    if not retried:
        raise ApiError(
            409, f"Only a failed or cancelled job can be retried ({job.status}).", status=job.status
        )
    return Status(202, serializers.job_detail(job))


@router.get("/stats", url_name="stats", response={200: StatsOut, **AUTH_ERRORS})
def stats(request: HttpRequest):
    """Counts of your own jobs."""
    return serializers.user_stats(request.user)
