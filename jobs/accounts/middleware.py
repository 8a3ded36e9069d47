"""Keeps the "last seen" of a logged-in user's session current (jobs/accounts/sessions.py)."""

from __future__ import annotations

from jobs.accounts import sessions


class SessionSeenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # After the view: logging out or ending this session must not be undone here.
        # Only when the request already loaded its user (Django caches it there): a job
        # page's poll, which reads neither session nor user, must not start doing so.
        user = getattr(request, "_cached_user", None)
        if user is not None and user.is_authenticated and request.session.session_key:
            sessions.touch(request)
        return response
