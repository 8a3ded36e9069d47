"""The account pages: profile, sessions, invitations, and Django's login and password
reset views set up for this app."""

from __future__ import annotations

import time

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jobs.accounts import email_change, invitations, mailing, sessions, throttling
from jobs.accounts.forms import (
    EmailForm,
    InvitationAcceptForm,
    NameForm,
    QuietPasswordResetForm,
    SessionLabelForm,
)
from jobs.models import ApiToken, EmailChange

# Where an invitation's token waits between opening the link and choosing a password:
# the page with the form then has no token in its URL, so none leaks through a Referer
# or an access log (as Django's own password reset does).
INVITATION_SESSION_KEY = "_invitation_token"
# The longest pause before answering a failed login, however many failures came before.
MAX_LOGIN_DELAY_SECONDS = 5.0


class LoginView(auth_views.LoginView):
    """Django's login, answering each failure after a pause that grows with the failures
    already counted from that address, for that username or any (django-axes counts them, in the
    database). After AXES_FAILURE_LIMIT, axes refuses the login outright for a while."""

    def form_invalid(self, form):
        # Once locked, the answer is the lock page at once: pausing then would only hold
        # a server thread for whoever keeps knocking.
        if not settings.AXES_ENABLED or getattr(self.request, "axes_locked_out", False):
            return super().form_invalid(form)
        # A username the form refused (a NUL byte, too long) never reached authenticate():
        # axes counted nothing, and the database must not be asked about it.
        if form.has_error("username"):
            response = super().form_invalid(form)
            response.status_code = 400
            return response
        credentials = {"username": form.data.get("username", "")}
        # Axes counted this failure already: the first one is answered at once.
        earlier = AxesProxyHandler.get_failures(self.request, credentials) - 1
        delay = min(settings.LOGIN_FAILURE_DELAY_SECONDS * earlier, MAX_LOGIN_DELAY_SECONDS)
        if delay > 0:
            time.sleep(delay)
        return super().form_invalid(form)


def profile_context(request: HttpRequest, **forms) -> dict:
    return {
        "name_form": forms.get("name_form") or NameForm(instance=request.user),
        "email_form": forms.get("email_form") or EmailForm(user=request.user),
        "password_form": forms.get("password_form") or PasswordChangeForm(request.user),
        "pending_email": EmailChange.objects.filter(user=request.user)
        .order_by("-created_at")
        .values_list("new_email", flat=True)
        .first(),
        "email_enabled": settings.EMAIL_ENABLED,
    }


@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/profile.html", profile_context(request))


@require_POST
def profile_name(request: HttpRequest) -> HttpResponse:
    form = NameForm(request.POST, instance=request.user)
    if not form.is_valid():
        return render(
            request, "accounts/profile.html", profile_context(request, name_form=form), status=400
        )
    form.save()
    messages.success(request, "Your name was saved.")
    return redirect("accounts:profile")


@require_POST
def profile_email(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            email_change.check_request(request.user, form.cleaned_data["email"])
        except email_change.EmailChangeError as exc:
            form.add_error("email", str(exc))
        else:
            mailing.later(
                mailing.send_email_confirmation, request.user.pk, form.cleaned_data["email"]
            )
    if not form.is_valid():
        return render(
            request, "accounts/profile.html", profile_context(request, email_form=form), status=400
        )
    messages.success(
        request,
        "We sent a link to the new address. Your address changes once you open it.",
    )
    return redirect("accounts:profile")


@never_cache
@require_http_methods(["GET", "POST"])
def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    # A GET only asks: mail scanners open links, and must not change anyone's address.
    if request.method == "GET":
        change = email_change.pending(request.user, token)
        return render(
            request,
            "accounts/email_confirm.html",
            {"change": change},
            status=200 if change else 404,
        )
    old_email = request.user.email
    try:
        email = email_change.confirm(request.user, token)
    except email_change.EmailChangeError as exc:
        messages.error(request, str(exc))
        return redirect("accounts:profile")
    if old_email and settings.EMAIL_ENABLED:
        # The old address hears of it: if someone else changed it, its owner learns.
        mailing.later(mailing.send_old_address_notice, request.user.pk, old_email)
    messages.success(request, f"Your e-mail address is now {email}.")
    return redirect("accounts:profile")


@require_POST
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST)
    if not form.is_valid():
        return render(
            request,
            "accounts/profile.html",
            profile_context(request, password_form=form),
            status=400,
        )
    user = form.save()
    # This browser stays logged in, under a new session key; every other session ends.
    old_key = request.session.session_key
    update_session_auth_hash(request, user)
    sessions.rekey(old_key, request.session.session_key)
    ended = sessions.end_others(user, request.session.session_key)
    messages.success(
        request,
        f"Your password was changed; {ended} other session{'s' if ended != 1 else ''} ended.",
    )
    return redirect("accounts:profile")


def sessions_page(request: HttpRequest, status: int = 200, **context) -> HttpResponse:
    context = {
        "sessions": sessions.listed(request.user),
        "current_key": request.session.session_key,
        "tokens": ApiToken.objects.for_user(request.user),
        **context,
    }
    return render(request, "accounts/sessions.html", context, status=status)


@require_GET
def session_list(request: HttpRequest) -> HttpResponse:
    return sessions_page(request)


@require_POST
def session_label(request: HttpRequest, pk: int) -> HttpResponse:
    form = SessionLabelForm(request.POST)
    if not form.is_valid():
        # The error shows beside the session it was meant for.
        return sessions_page(request, status=400, label_form=form, label_pk=pk)
    label = form.cleaned_data["label"]
    if not sessions.set_label(request.user, pk, label):
        raise Http404("No such session.")
    messages.success(request, f"Device named “{label}”." if label else "Device name removed.")
    return redirect("accounts:sessions")


@require_POST
def session_end(request: HttpRequest, pk: int) -> HttpResponse:
    current = sessions.live_for(request.user).filter(pk=pk, session_key=request.session.session_key)
    if current.exists():
        # Ending this very session is logging out.
        logout(request)
        return redirect("login")
    if not sessions.end(request.user, pk):
        raise Http404("No such session.")
    messages.success(request, "The session was ended; it is logged out.")
    return redirect("accounts:sessions")


@require_POST
def session_end_others(request: HttpRequest) -> HttpResponse:
    ended = sessions.end_others(request.user, request.session.session_key)
    messages.success(request, f"{ended} other session{'s' if ended != 1 else ''} ended.")
    return redirect("accounts:sessions")


@login_not_required
@never_cache
@require_GET
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    if invitations.find_open(token) is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    request.session[INVITATION_SESSION_KEY] = token
    return redirect("accounts:invitation_accept")


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest) -> HttpResponse:
    invitation = invitations.find_open(request.session.get(INVITATION_SESSION_KEY, ""))
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    form = InvitationAcceptForm(request.POST if request.method == "POST" else None)
    # The address is the invitation's: the password validators compare against it too.
    form.instance.email = invitation.email
    if request.method == "POST" and form.is_valid():
        user = invitations.accept(invitation, form)
        request.session.pop(INVITATION_SESSION_KEY, None)
        if user is None:
            return render(request, "accounts/invitation_invalid.html", status=404)
        # The invitee just proved the link and chose the password: asking for it again
        # at once would only be a second step.
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.get_username()}: your account is ready.")
        return redirect(settings.LOGIN_REDIRECT_URL)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation},
        status=status,
    )  # fmt: skip


class PasswordResetView(auth_views.PasswordResetView):
    form_class = QuietPasswordResetForm
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def get_context_data(self, **kwargs):
        return super().get_context_data(email_enabled=settings.EMAIL_ENABLED, **kwargs)

    def form_valid(self, form):
        """The same answer, after the same work, for every address: the worker looks the
        address up and sends the mail (jobs/accounts/mailing.py). Past the address's
        limit nothing is queued, and the answer is still the same."""
        email = form.cleaned_data["email"]
        if throttling.allow(throttling.address_key("reset", email)):
            mailing.later(mailing.send_password_reset, email)
        return redirect(self.get_success_url())

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        # Whoever was logged in as this user, with the old password, is not any more.
        sessions.end_others(form.user, None)
        return response
