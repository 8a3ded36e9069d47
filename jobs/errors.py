"""The server-error page: a database outage is a clear, temporary 503, not a 500."""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.defaults import server_error as default_server_error

logger = logging.getLogger(__name__)
MESSAGE = "The database is unavailable right now. Your jobs are safe; try again in a minute."
# Words of a lost or refused connection, as opposed to a bad query (a bug: stays a 500).
OUTAGE_MARKERS = (
    "connection", "could not connect", "server closed", "terminating", "shutting down",
    "the database system is", "timeout", "timed out",
)  # fmt: skip


def is_outage(exception: BaseException | None) -> bool:
    if isinstance(exception, InterfaceError):
        return True
    if isinstance(exception, OperationalError):
        return any(marker in str(exception).lower() for marker in OUTAGE_MARKERS)
    return False


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this handler while it handles the exception, so it is still at hand.
    exception = sys.exc_info()[1]
    if not is_outage(exception):
        return default_server_error(request)
    logger.warning("database unavailable: %s", exception)
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse({"error": MESSAGE}, status=503)
    else:
        response = HttpResponse(render_to_string("503.html", {"message": MESSAGE}), status=503)
    response["Retry-After"] = "30"
    return response
