"""The jobs admin: staff see every job's history, set its priority, retry, cancel or run
it again. The list stays fast with a large jobs table: one query for the rows, none per
row, and an estimated total instead of a COUNT(*) (jobs.admin_pagination)."""

from __future__ import annotations

import json
import string
import uuid
from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast, Left
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from jobs import engine
from jobs.admin_pagination import EstimatedCountPaginator
from jobs.kinds import get_kind, kind_choices
from jobs.models import ApiToken, Job, JobCheckpoint, JobEvent
from jobs.templatetags.job_tags import duration

# Characters of a checkpoint's value shown on a job's page.
CHECKPOINT_PREVIEW_CHARS = 120
# Per-job problems listed after an action on many jobs; the rest are only counted.
MAX_PROBLEMS_LISTED = 10


def _jobs(count: int) -> str:
    return f"{count} job" if count == 1 else f"{count} jobs"


class JobEventInline(admin.TabularInline):
    model = JobEvent
    extra = 0
    can_delete = False
    fields = ("at", "type", "name", "attempt", "message")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class JobCheckpointInline(admin.TabularInline):
    model = JobCheckpoint
    extra = 0
    can_delete = False
    fields = ("key", "attempt", "at", "value_preview")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # A value can be a whole summarised document: read only its first characters.
        return (
            super()
            .get_queryset(request)
            .defer("value")
            .annotate(value_head=Left(Cast("value", TextField()), CHECKPOINT_PREVIEW_CHARS + 1))
        )

    @admin.display(description="value")
    def value_preview(self, checkpoint: JobCheckpoint) -> str:
        text = checkpoint.value_head
        if len(text) > CHECKPOINT_PREVIEW_CHARS:
            return text[:CHECKPOINT_PREVIEW_CHARS] + "…"
        return text


class KindFilter(admin.SimpleListFilter):
    """The kinds from the registry: the default filter would run SELECT DISTINCT kind
    over the whole table on every page load."""

    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return kind_choices()

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = (
        "short_id",
        "owner",
        "kind_label",
        "title",
        "status",
        "stage",
        "progress_percent",
        "attempts",
        "priority",
        "waiting",
        "running",
        "created_at",
    )
    # No date_hierarchy: it runs MIN/MAX and SELECT DISTINCT over every matching row on
    # each page load; the created_at filter covers the same need.
    list_filter = ("status", KindFilter, "created_at")
    list_select_related = ("owner",)
    search_fields = ("owner__username", "title", "params_text")
    search_help_text = (
        "A job's id (whole, or its first 8 characters), or part of an owner's username, "
        "a title or the parameters."
    )
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    actions = ("retry_jobs", "cancel_jobs", "run_again")
    change_form_template = "admin/jobs/job/change_form.html"
    inlines = (JobEventInline, JobCheckpointInline)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "owner",
                    "kind_label",
                    "title",
                    "status",
                    "stage",
                    "progress_percent",
                    "message",
                    "priority",
                )
            },
        ),
        (
            "Timing",
            {
                "fields": (
                    "created_at",
                    "started_at",
                    "finished_at",
                    "waiting",
                    "running",
                    "not_before",
                    "progress_at",
                    "heartbeat_at",
                )
            },
        ),
        ("Inputs and outcome", {"fields": ("params_json", "result_json", "error")}),
        ("Attempts", {"fields": ("attempts", "attempt_offset", "task_id", "idempotency_key")}),
        ("Notification", {"fields": ("watched_at", "notified_at"), "classes": ("collapse",)}),
    )
    # Everything but the priority: the engine and the worker own the rest of the row.
    readonly_fields = (
        *(field.name for field in Job._meta.fields if field.name != "priority"),
        "kind_label",
        "progress_percent",
        "waiting",
        "running",
        "params_json",
        "result_json",
    )

    def has_add_permission(self, request):
        # A job is created by submitting it, which checks the owner's limits and queues it.
        return False

    def save_model(self, request, obj, form, change):
        # Only the priority: a full save would write back a status or progress the worker
        # changed since the form was loaded.
        obj.save(update_fields=[name for name in form.changed_data if name == "priority"])

    # --- Columns and read-only fields, all computed from the row itself ------------

    @admin.display(description="id", ordering="id")
    def short_id(self, job: Job) -> str:
        # The whole id would wrap over four lines; its start is enough to tell jobs apart.
        return format_html('<span title="{}">{}</span>', job.pk, str(job.pk)[:8])

    @admin.display(description="kind", ordering="kind")
    def kind_label(self, job: Job) -> str:
        return job.get_kind_display()

    @admin.display(description="progress", ordering="progress")
    def progress_percent(self, job: Job) -> str:
        return f"{job.percent} %"

    @admin.display(description="waited")
    def waiting(self, job: Job) -> str:
        """Time in the queue before the first start; so far, while still queued."""
        if job.started_at:
            end = job.started_at
        elif job.status == Job.Status.QUEUED:
            end = timezone.now()
        else:
            end = job.finished_at  # cancelled before it started
        if end is None:
            return self.get_empty_value_display()
        return duration(max(end - job.created_at, timedelta(0)))

    @admin.display(description="ran")
    def running(self, job: Job) -> str:
        """Time from the first start to the end; so far, while running. A job queued
        again after an attempt shows nothing: it is not running and has not ended."""
        end = timezone.now() if job.status == Job.Status.RUNNING else job.finished_at
        if job.started_at is None or end is None:
            return self.get_empty_value_display()
        return duration(max(end - job.started_at, timedelta(0)))

    @admin.display(description="parameters")
    def params_json(self, job: Job) -> str:
        return _pretty_json(job.params)

    @admin.display(description="result")
    def result_json(self, job: Job) -> str:
        if job.result is None:
            return self.get_empty_value_display()
        return _pretty_json(job.result)

    # --- Search ----------------------------------------------------------------------

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        try:
            job_id = uuid.UUID(term)
        except ValueError:
            pass
        else:
            # A pasted id finds its job through the primary key, not by scanning the table.
            return queryset.filter(pk=job_id), False
        # The parameters as JSON text, searched like the title.
        queryset = queryset.alias(params_text=Cast("params", TextField()))
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if bounds := _id_prefix_bounds(term):
            # The short id shown in the list: a range of the primary key.
            found = found | queryset.filter(pk__range=bounds)
        return found, may_have_duplicates

    # --- Actions -----------------------------------------------------------------------

    @admin.action(description="Retry", permissions=["change"])
    def retry_jobs(self, request, queryset: QuerySet[Job]) -> None:
        by = f"staff ({request.user})"
        self._apply(
            request,
            queryset,
            lambda job: engine.retry(job, by=by, enforce_limit=False),
            done="Retried",
            skipped="not failed or cancelled",
        )

    @admin.action(description="Cancel", permissions=["change"])
    def cancel_jobs(self, request, queryset: QuerySet[Job]) -> None:
        by = f"staff ({request.user})"
        self._apply(
            request,
            queryset,
            lambda job: engine.cancel(job, by=by),
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
                created.append(engine.submit(owner=job.owner, kind=kind, params=job.params))
            except engine.SubmitRefused as refused:
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

    TOOLS = {"retry": "Retry", "cancel": "Cancel", "run-again": "Run again"}

    def get_urls(self):
        view = self.admin_site.admin_view(self.tool_view)
        return [
            path(
                f"<path:object_id>/{tool}/",
                view,
                {"tool": tool},
                name=f"jobs_job_{tool.replace('-', '_')}",
            )
            for tool in self.TOOLS
        ] + super().get_urls()

    @method_decorator(require_POST)
    def tool_view(self, request, object_id: str, tool: str):
        job = self.get_object(request, unquote(object_id))
        if job is None:
            raise Http404("No such job.")
        if not self.has_change_permission(request, job):
            raise PermissionDenied
        one = Job.objects.filter(pk=job.pk)
        if tool == "retry":
            self.retry_jobs(request, one)
        elif tool == "cancel":
            self.cancel_jobs(request, one)
        else:
            created = self._run_again(request, one)
            if created:
                job = created[0]
        return HttpResponseRedirect(reverse("admin:jobs_job_change", args=[job.pk]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        tools = []
        if obj is not None and self.has_change_permission(request, obj):
            offered = {
                "retry": obj.status in (Job.Status.FAILED, Job.Status.CANCELLED),
                "cancel": obj.is_active,
                "run-again": get_kind(obj.kind) is not None,
            }
            tools = [
                {
                    "label": label,
                    "url": reverse(f"admin:jobs_job_{tool.replace('-', '_')}", args=[obj.pk]),
                }
                for tool, label in self.TOOLS.items()
                if offered[tool]
            ]
        context["job_tools"] = tools
        return super().render_change_form(request, context, add, change, form_url, obj)


def _id_prefix_bounds(term: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """The lowest and highest ids that start with `term`, when it looks like an id's start."""
    digits = term.replace("-", "").lower()
    if not 8 <= len(digits) < 32 or any(c not in string.hexdigits for c in digits):
        return None
    return uuid.UUID(digits.ljust(32, "0")), uuid.UUID(digits.ljust(32, "f"))


def _pretty_json(value) -> str:
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return format_html('<pre class="job-json">{}</pre>', text)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Staff see who holds API tokens and revoke one by deleting it; keys are never shown
    (only their hashes are stored) and tokens are made by their users."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("name", "user__username", "prefix")
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at")
    exclude = ("key_hash",)

    def has_add_permission(self, request) -> bool:
        return False
