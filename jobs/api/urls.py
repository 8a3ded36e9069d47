"""The API under /api/: its operations, /api/openapi.json and the docs page /api/docs."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI

from jobs.api import errors
from jobs.api.auth import SessionAuth, TokenAuth
from jobs.api.connection_endpoints import router as connections_router
from jobs.api.endpoints import router
from jobs.api.errors import JsonOnlyParser, error_response

# Job params are a few fields; anything near this is a mistake or an attack, refused
# before the body is read.
MAX_BODY_BYTES = 1024 * 1024

api = NinjaAPI(
    title="Long jobs API",
    version="1",
    description=(
        "Submit long-running jobs, poll them and fetch their results. Authenticate with "
        "`Authorization: Bearer <token>` (make one under Settings, API tokens, or with "
        "`manage.py create_api_token`), or with the browser session plus its CSRF token. "
        'Every error is JSON: `{"error": "readable message", ...}`.'
    ),
    auth=[TokenAuth(), SessionAuth()],
    parser=JsonOnlyParser(),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)
errors.install(api)
api.add_router("", router)
api.add_router("", connections_router)


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def guarded(view):
    """Wrap one of django-ninja's views so that it answers like the rest of the API.

    The API authenticates by itself (401, never a redirect to the login page), so
    LoginRequiredMiddleware must let it through; django-ninja does not mark its views so.
    Its 405 and its root's 404 are not JSON, and a body over the limit is refused unread.
    """

    @wraps(view)
    def api_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if _content_length(request) > MAX_BODY_BYTES:
            return error_response(413, f"The request body is over {MAX_BODY_BYTES:,} bytes.")
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return not_found(request)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            response = error_response(
                405, f"{request.method} is not allowed here; use {allowed}.", allowed=allowed
            )
            response["Allow"] = allowed
        return response

    return login_not_required(api_view)


# A path the API does not have: a JSON 404 whatever the method, not Django's HTML page.
@csrf_exempt
@login_not_required
def not_found(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    return error_response(404, "No such API endpoint; see /api/openapi.json.")


app_name = "api"
urlpatterns = [
    *(
        URLPattern(pattern.pattern, guarded(pattern.callback), pattern.default_args, pattern.name)
        for pattern in api.urls[0]
    ),
    re_path(r"^.*$", not_found),
]
