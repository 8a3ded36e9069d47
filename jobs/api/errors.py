"""Every failure of the API as `{"error": "readable message", ...}` with its status."""

from __future__ import annotations

import json
import logging

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from jobs.engine.outage import MESSAGE as OUTAGE_MESSAGE
from jobs.engine.outage import is_outage

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """Stops an operation with this status and body: `{"error": message, **extra}`."""

    def __init__(self, status_code: int, message: str, **extra):
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.extra = extra


class JsonOnlyParser(Parser):
    """Bodies as JSON only when they say they are: django-ninja's own parser reads any
    body as JSON, whatever its Content-Type. Operations without a body never ask."""

    def parse_body(self, request: HttpRequest):
        content_type = request.content_type or ""
        if content_type != "application/json" and not content_type.endswith("+json"):
            sent = content_type or "no Content-Type"
            raise ApiError(
                415, f"Send the body as JSON, with Content-Type: application/json (not {sent})."
            )
        return super().parse_body(request)


def error_response(status_code: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status_code)


def install(api: NinjaAPI) -> None:
    """Replace django-ninja's `{"detail": ...}` answers with the API's own shape."""
    api.add_exception_handler(ApiError, on_api_error)
    api.add_exception_handler(AuthenticationError, on_unauthenticated)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(ValidationError, on_validation_error)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(Exception, on_crash)


def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    response = error_response(exc.status_code, exc.message, **exc.extra)
    if "retry_after" in exc.extra:
        response["Retry-After"] = str(exc.extra["retry_after"])
    return response


def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = str(exc) if str(exc) != "Unauthorized" else ""
    response = error_response(
        401,
        message
        or "Authentication required: send `Authorization: Bearer <token>` "
        "(tokens are made under Settings, API tokens) or log in.",
    )
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # django-ninja raises its own HttpError from the decoding error, with a vague message.
    if isinstance(exc.__cause__, json.JSONDecodeError | UnicodeDecodeError):
        return error_response(400, f"The request body is not valid JSON: {exc.__cause__}.")
    if isinstance(exc.__cause__, ApiError):  # the parser's refusal (JsonOnlyParser)
        return on_api_error(request, exc.__cause__)
    if exc.status_code == 403 and "CSRF" in str(exc):
        return error_response(
            403,
            "CSRF check failed: a request with the session cookie needs the CSRF token "
            "(X-CSRFToken header). Scripts should send an API token instead.",
        )
    return error_response(exc.status_code, str(exc))


def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        # A location starts with where the value came from, then, for the body, the
        # operation's argument: ("query", "limit"), ("body", "payload", "params").
        source, *path = error["loc"]
        field = ".".join(str(part) for part in (path[1:] if source == "body" else path))
        errors.setdefault(field or source, []).append(error["msg"])
    listed = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
    return error_response(400, f"Invalid request: {listed}.", errors=errors)


def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404, str(exc) or "Not found.")


def on_crash(request: HttpRequest, exc: Exception) -> HttpResponse:
    if is_outage(exc):
        logger.warning("database unavailable: %s", exc)
        response = error_response(503, OUTAGE_MESSAGE)
        response["Retry-After"] = "30"
        return response
    logger.exception("API error on %s %s", request.method, request.path)
    return error_response(500, "Something went wrong on our side; it has been logged.")
