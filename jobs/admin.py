from django.contrib import admin

from jobs.models import Job, JobEvent


class JobEventInline(admin.TabularInline):
    model = JobEvent
    extra = 0
    can_delete = False
    fields = ("at", "type", "name", "attempt", "message")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "owner",
        "kind",
        "title",
        "status",
        "stage",
        "progress",
        "attempts",
        "created_at",
    )
    list_filter = ("status", "kind", "created_at")
    list_select_related = ("owner",)
    search_fields = ("id", "owner__username", "title")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Job._meta.fields]
    inlines = [JobEventInline]
    show_full_result_count = False
