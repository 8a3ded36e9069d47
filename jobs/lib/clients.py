"""Who is asking: the client's address as the login throttle and the API's bad-token
throttle both count it (settings.TRUSTED_PROXY_COUNT)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address. Behind N trusted proxies it is the Nth entry of
    X-Forwarded-For from the right: entries further left are whatever the client sent,
    and trusting them would let anyone pick a fresh address for every guess."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"


def client_str(username, ip_address, user_agent, path_info, request) -> str:
    """How django-axes names a client in its log lines: by the path only. A username can
    be an e-mail address, which has no place in the logs."""
    return f"{{path_info: {path_info!r}}}"
