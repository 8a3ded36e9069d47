"""The settings page where users make and revoke their API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from jobs.api import tokens
from jobs.api.forms import ApiTokenForm
from jobs.models import ApiToken


# never_cache: the answer to a POST holds a new key, which no cache may keep.
@never_cache
@require_http_methods(["GET", "POST"])
def token_settings(request: HttpRequest) -> HttpResponse:
    # An empty POST is still a submission, to be refused with its errors.
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    new_key = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            _, new_key = tokens.create(request.user, form.cleaned_data["name"])
            form = ApiTokenForm()
        else:
            status = 400
    context = {
        "form": form,
        "new_key": new_key,
        "tokens": ApiToken.objects.for_user(request.user),
    }
    return render(request, "jobs/settings_tokens.html", context, status=status)


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    if not tokens.revoke(request.user, pk):
        raise Http404("No such token.")
    messages.success(request, "The token was revoked; it no longer works.")
    return redirect("api_tokens")
