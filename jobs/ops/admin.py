"""The jobs admin: staff see every job's history, set its priority, retry, cancel or run
it again. The list stays fast with a large jobs table: one query for the rows, none per
row, and an estimated total instead of a COUNT(*) (pagination.py). The computed columns
are in admin_columns.py, the actions and the job page's buttons in admin_actions.py."""

from __future__ import annotations

import string
import uuid

from django.contrib import admin
from django.db.models import TextField
from django.db.models.functions import Cast, Left

from jobs.engine.registry import kind_choices
from jobs.models import ApiToken, Job, JobCheckpoint, JobEvent
from jobs.ops import admin_connections  # noqa: F401  (registers the connections' admin)
from jobs.ops.admin_actions import JobActions
from jobs.ops.admin_columns import JobColumns
from jobs.ops.pagination import EstimatedCountPaginator

# Characters of a checkpoint's value shown on a job's page.
CHECKPOINT_PREVIEW_CHARS = 120


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
class JobAdmin(JobActions, JobColumns, admin.ModelAdmin):
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


def _id_prefix_bounds(term: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """The lowest and highest ids that start with `term`, when it looks like an id's start."""
    digits = term.replace("-", "").lower()
    if not 8 <= len(digits) < 32 or any(c not in string.hexdigits for c in digits):
        return None
    return uuid.UUID(digits.ljust(32, "0")), uuid.UUID(digits.ljust(32, "f"))


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
