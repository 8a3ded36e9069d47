"""A user's sessions: recorded at login, listed on their sessions page, ended by them
(one, or all but the current one when their password changes)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.contrib.sessions.models import Session
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from jobs.accounts.devices import describe
from jobs.lib.clients import client_ip
from jobs.models import UserSession

# last_seen_at is a hint, not an audit trail: one write every few minutes per session.
SEEN_PRECISION = timedelta(minutes=5)
SEEN_KEY = "_seen_at"


@receiver(user_logged_in, dispatch_uid="jobs.accounts.sessions.record_login")
def record_login(sender, request: HttpRequest | None, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    # login() rotated the key: make sure the new one exists before it is recorded.
    if request.session.session_key is None:
        request.session.save()
    now = timezone.now()
    # The user's sessions that expired or were flushed elsewhere go as a new one comes,
    # so the table holds about the sessions that are live.
    UserSession.objects.for_user(user).exclude(
        pk__in=UserSession.objects.for_user(user).live().values("pk")
    ).delete()
    UserSession.objects.update_or_create(
        session_key=request.session.session_key, defaults=_fields(request, user, now)
    )
    request.session[SEEN_KEY] = now.timestamp()


@receiver(user_logged_out, dispatch_uid="jobs.accounts.sessions.forget_logout")
def forget_logout(sender, request: HttpRequest | None, user, **kwargs) -> None:
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        UserSession.objects.filter(session_key=session.session_key).delete()


def touch(request: HttpRequest) -> None:
    """Mark the request's session as seen now, at most once per SEEN_PRECISION."""
    now = timezone.now()
    seen = request.session.get(SEEN_KEY, 0)
    if now.timestamp() - seen < SEEN_PRECISION.total_seconds():
        return
    request.session[SEEN_KEY] = now.timestamp()
    key, address = request.session.session_key, client_ip(request)
    updated = UserSession.objects.filter(session_key=key, user=request.user).update(
        last_seen_at=now, ip_address=address
    )
    if not updated:
        # A login from before sessions were recorded: listed from its next visit on.
        UserSession.objects.get_or_create(
            session_key=key, defaults=_fields(request, request.user, now)
        )


def _fields(request: HttpRequest, user, now) -> dict:
    """A session as first recorded: whose, from which browser and address, since when."""
    return {
        "user": user,
        "user_agent": request.headers.get("User-Agent", "")[:300],
        "ip_address": client_ip(request),
        "created_at": now,
        "last_seen_at": now,
    }


def rekey(old_key: str | None, new_key: str | None) -> None:
    """The session went on under a new key (Django rotates it when the password changes)."""
    if old_key and new_key and old_key != new_key:
        UserSession.objects.filter(session_key=old_key).update(session_key=new_key)


def live_for(user):
    return UserSession.objects.for_user(user).live()


def listed(user) -> list[UserSession]:
    """`user`'s live sessions, each with `device`: its browser and system in words."""
    records = list(live_for(user))
    for record in records:
        record.device = describe(record.user_agent)
    return records


def set_label(user, pk: int, label: str) -> bool:
    """Name one of `user`'s sessions' device; a blank label removes the name. False when
    they have no such session."""
    return bool(UserSession.objects.for_user(user).filter(pk=pk).update(label=label))


def end(user, pk: int) -> bool:
    """End one of `user`'s sessions: it is logged out at its next request. False when
    they have no such session."""
    record = UserSession.objects.for_user(user).filter(pk=pk).first()
    if record is None:
        return False
    Session.objects.filter(session_key=record.session_key).delete()
    record.delete()
    return True


def end_others(user, keep_session_key: str | None) -> int:
    """End every session of `user` but the one with `keep_session_key` (none kept when
    it is None). How many were ended."""
    records = UserSession.objects.for_user(user)
    if keep_session_key:
        records = records.exclude(session_key=keep_session_key)
    keys = list(records.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    records.delete()
    return len(keys)
