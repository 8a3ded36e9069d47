"""The server-error page: a database outage is a clear, temporary 503, not a 500."""

from __future__ import annotations

import logging
import sys

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.defaults import server_error as default_server_error

from jobs.engine.outage import MESSAGE, is_outage

logger = logging.getLogger(__name__)


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
