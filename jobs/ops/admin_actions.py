"""What staff do to jobs from the admin: retry, cancel, run again, as list actions and
as buttons on a job's page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from jobs.engine import submitting
from jobs.engine.registry import get_kind
from jobs.models import Job

# Per-job problems listed after an action on many jobs; the rest are only counted.
MAX_PROBLEMS_LISTED = 10


def _jobs(count: int) -> str:
    return f"{count} job" if count == 1 else f"{count} jobs"


@dataclass(frozen=True)
class Tool:
    """A button on a job's admin page: the list action it runs on that one job, and
    when it is offered."""

    label: str
    action: str
    offered: Callable[[Job], bool]


class JobActions:
    @admin.action(description="Retry", permissions=["change"])
    def retry_jobs(self, request, queryset: QuerySet[Job]) -> None:
        by = f"staff ({request.user})"
        self._apply(
            request,
            queryset,
            lambda job: submitting.retry(job, by=by, enforce_limit=False),
            done="Retried",
            skipped="not failed or cancelled",
        )

    @admin.action(description="Cancel", permissions=["change"])
    def cancel_jobs(self, request, queryset: QuerySet[Job]) -> None:
        by = f"staff ({request.user})"
        self._apply(
            request,
            queryset,
            lambda job: submitting.cancel(job, by=by),
            done="Cancelled",
            skipped="already ended",
        )

    def _apply(self, request, queryset, action, *, done: str, skipped: str) -> None:
        """Run `action` on each job, oldest first, and say how many it applied to."""
        applied = passed = 0
        for job in queryset.order_by("created_at"):
            if action(job):
                applied += 1
            else:
                passed += 1
        text = f"{done} {_jobs(applied)}."
        if passed:
            text += f" Skipped {_jobs(passed)} {skipped}."
        self.message_user(request, text, messages.SUCCESS if applied else messages.WARNING)

    @admin.action(description="Run again with the same inputs", permissions=["change"])
    def run_again(self, request, queryset: QuerySet[Job]) -> None:
        self._run_again(request, queryset)

    def _run_again(self, request, queryset: QuerySet[Job]) -> list[Job]:
        """Submit a new job per job, as its owner would: the owner's limit still holds."""
        created: list[Job] = []
        problems: list[str] = []
        for job in queryset.select_related("owner").order_by("created_at"):
            kind = get_kind(job.kind)
            if kind is None:
                problems.append(f"Job {job.pk} ({job.owner}): unknown kind {job.kind!r}.")
                continue
            try:
                created.append(submitting.submit(owner=job.owner, kind=kind, params=job.params))
            except submitting.SubmitRefused as refused:
                problems.append(f"Job {job.pk} ({job.owner}): refused. {refused}")
        text = f"Queued {_jobs(len(created))} with the same inputs."
        if problems:
            text += f" Skipped {_jobs(len(problems))}."
        self.message_user(request, text, messages.WARNING if problems else messages.SUCCESS)
        for problem in problems[:MAX_PROBLEMS_LISTED]:
            self.message_user(request, problem, messages.WARNING)
        if len(problems) > MAX_PROBLEMS_LISTED:
            more = len(problems) - MAX_PROBLEMS_LISTED
            self.message_user(request, f"…and {more} more skipped.", messages.WARNING)
        return created

    # --- The same actions as buttons on a job's page --------------------------------

    TOOLS = {
        "retry": Tool(
            "Retry",
            "retry_jobs",
            lambda job: job.status in (Job.Status.FAILED, Job.Status.CANCELLED),
        ),
        "cancel": Tool("Cancel", "cancel_jobs", lambda job: job.is_active),
        "run-again": Tool("Run again", "_run_again", lambda job: get_kind(job.kind) is not None),
    }

    def get_urls(self):
        view = self.admin_site.admin_view(self.tool_view)
        return [
            path(
                f"<path:object_id>/{slug}/",
                view,
                {"tool": slug},
                name=f"jobs_job_{slug.replace('-', '_')}",
            )
            for slug in self.TOOLS
        ] + super().get_urls()

    @method_decorator(require_POST)
    def tool_view(self, request, object_id: str, tool: str):
        job = self.get_object(request, unquote(object_id))
        if job is None:
            raise Http404("No such job.")
        if not self.has_change_permission(request, job):
            raise PermissionDenied
        action = getattr(self, self.TOOLS[tool].action)
        # Running again makes a new job: its page is the one to show next.
        created = action(request, Job.objects.filter(pk=job.pk))
        shown = created[0] if created else job
        return HttpResponseRedirect(reverse("admin:jobs_job_change", args=[shown.pk]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        tools = []
        if obj is not None and self.has_change_permission(request, obj):
            tools = [
                {
                    "label": tool.label,
                    "url": reverse(f"admin:jobs_job_{slug.replace('-', '_')}", args=[obj.pk]),
                }
                for slug, tool in self.TOOLS.items()
                if tool.offered(obj)
            ]
        context["job_tools"] = tools
        return super().render_change_form(request, context, add, change, form_url, obj)
