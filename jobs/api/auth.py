"""Who may call the API: a personal token, or the browser's session with its CSRF token."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer

from jobs.api import throttling, tokens
from jobs.api.errors import ApiError
from jobs.lib.clients import client_ip


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`. No cookie is involved, so no CSRF check either."""

    def __call__(self, request: HttpRequest):
        header = request.headers.get("Authorization")
        if header is None:
            return None
        scheme, _, key = header.partition(" ")
        # A token that was sent but does not work is an error, even with a session
        # cookie alongside: falling back would hide a revoked or mistyped token.
        if scheme.lower() != "bearer" or not key.strip():
            raise AuthenticationError(
                message="Malformed Authorization header: expected `Bearer <token>`."
            )
        return self.authenticate(request, key.strip())

    def authenticate(self, request: HttpRequest, token: str):
        address = client_ip(request)
        if (wait := throttling.retry_after(address)) is not None:
            raise ApiError(
                429,
                f"Too many invalid API tokens from your address: try again in {wait} seconds.",
                retry_after=wait,
            )
        user = tokens.user_for_key(token)
        if user is None:
            throttling.record_failure(address)
            raise AuthenticationError(message="Invalid or revoked API token.")
        request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The logged-in browser session; a POST needs the CSRF token, as on every page.

    Unlike django-ninja's own, it checks CSRF only for a logged-in session, so a request
    with no credentials at all is a 401 rather than a CSRF failure.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest):
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key):
        return request.user if key and request.user.is_authenticated else None
