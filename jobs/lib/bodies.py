"""The request body's cap: a body announced larger than REQUEST_MAX_BYTES is refused with
a 413 before a byte of it is read, so a huge upload is never written to a temporary
file first (Django's own limits count the fields besides files, not the files)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse


class RequestSizeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse(
                "Bad request: the Content-Length header is not a number.",
                status=400, content_type="text/plain; charset=utf-8",
            )  # fmt: skip
        if length > settings.REQUEST_MAX_BYTES:
            response = HttpResponse(
                f"The request is too large: {length / 1_048_576:.1f} MB, over the limit of "
                f"{settings.REQUEST_MAX_BYTES / 1_048_576:.0f} MB. Upload fewer or smaller "
                "files at a time.",
                status=413, content_type="text/plain; charset=utf-8",
            )  # fmt: skip
            # The unread body is still on the connection: the client must not reuse it.
            response["Connection"] = "close"
            return response
        return self.get_response(request)
