from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.middleware import HtmxDetails

from jobs import engine
from jobs.forms import JobFilterForm
from jobs.kinds import all_kinds, get_kind, stage_states
from jobs.models import Job


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
    context = {
        "form": form,
        "page": page,
        "has_active": any(job.is_active for job in page),
        "poll_seconds": settings.JOB_POLL_SECONDS,
        "kinds": all_kinds().values(),
    }
    template = "jobs/job_list.html#job-rows" if request.htmx else "jobs/job_list.html"
    return render(request, template, context)


@require_GET
def job_kinds(request: HttpRequest) -> HttpResponse:
    return render(request, "jobs/job_kinds.html", {"kinds": all_kinds().values()})


@require_http_methods(["GET", "POST"])
def job_new(request: HttpRequest, kind: str) -> HttpResponse:
    job_kind = get_kind(kind)
    if job_kind is None:
        raise Http404("No such kind of job.")
    form = job_kind.form_class(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        job = engine.submit(owner=request.user, kind=job_kind, params=form.to_params())
        return redirect(job)
    status = 400 if request.method == "POST" else 200
    return render(request, "jobs/job_new.html", {"form": form, "kind": job_kind}, status=status)


@require_GET
def job_detail(request: HtmxHttpRequest, pk) -> HttpResponse:
    job = owned_job(request, pk)
    kind = get_kind(job.kind)
    context = {
        "job": job,
        "kind": kind,
        "stages": stage_states(kind, job.status, job.stage) if kind else [],
        "poll_seconds": settings.JOB_POLL_SECONDS,
    }
    template = "jobs/job_detail.html#job-status" if request.htmx else "jobs/job_detail.html"
    return render(request, template, context)


@require_GET
def job_download(request: HttpRequest, pk, fmt: str) -> HttpResponse:
    job = owned_job(request, pk)
    kind = get_kind(job.kind)
    download = kind.downloads.get(fmt) if kind else None
    if download is None or job.status != Job.Status.SUCCEEDED or not job.result:
        raise Http404("Nothing to download for this job.")
    response = HttpResponse(download.render(job.result), content_type=download.content_type)
    name = (job.title or job.kind).replace(".", "_").replace('"', "")
    response["Content-Disposition"] = f'attachment; filename="{name}{download.suffix}"'
    return response
