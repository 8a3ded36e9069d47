"""The staff's invitations in the admin: "Add invitation" asks for an address, sends the
link, and shows the link once when it could not be sent (no mail server)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone

from jobs.accounts import invitations
from jobs.accounts.forms import InviteForm
from jobs.models import Invitation


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "is_staff", "state", "invited_by", "created_at", "expires_at"]
    list_filter = ["is_staff", "accepted_at"]
    list_select_related = ["invited_by", "user"]
    search_fields = ["email"]
    fields = ["email", "is_staff", "invited_by", "created_at", "expires_at", "accepted_at", "user"]
    readonly_fields = fields
    actions = ["withdraw"]

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="state")
    def state(self, invitation: Invitation) -> str:
        if invitation.accepted_at:
            return "accepted"
        return "open" if invitation.expires_at > timezone.now() else "expired"

    @admin.action(description="Withdraw the selected invitations (their links stop working)")
    def withdraw(self, request, queryset):
        count = queryset.filter(accepted_at__isnull=True).update(expires_at=timezone.now())
        self.message_user(request, f"{count} invitation(s) withdrawn.", messages.SUCCESS)

    def add_view(self, request, form_url="", extra_context=None):
        return invite_view(self, request)


def invite_view(model_admin: InvitationAdmin, request):
    # Called from add_view, which the admin already wraps: staff only, CSRF-checked and
    # never cached (the answer may hold the only copy of a link).
    if not model_admin.has_add_permission(request):
        return redirect("admin:index")
    form = InviteForm(request.POST if request.method == "POST" else None)
    link = None
    if request.method == "POST" and form.is_valid():
        try:
            invitation, link = invitations.invite(
                form.cleaned_data["email"],
                is_staff=form.cleaned_data["is_staff"],
                invited_by=request.user,
            )
        except invitations.InvitationError as exc:
            form.add_error("email", str(exc))
        else:
            if invitations.send(invitation, link):
                model_admin.message_user(
                    request, "The invitation was sent by e-mail.", messages.SUCCESS
                )
                return redirect("admin:jobs_invitation_changelist")
            # No mail went out: this page is the only place the link is ever shown.
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Invite someone",
        "opts": model_admin.model._meta,
        "form": form,
        "link": link,
        "invitation_days": settings.INVITATION_DAYS,
    }
    return TemplateResponse(request, "admin/jobs/invitation/invite.html", context)
