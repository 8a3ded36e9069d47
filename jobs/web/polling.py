"""The job page's poll: a URL that answers from one query, without the session's.

A full page load (with the session, as every page) mints a token for the poll URL. It is
signed with the app's secret, names the job and its owner, carries a digest of the
browser's session cookie, and expires after JOB_POLL_TOKEN_SECONDS. So the poll needs
no session or user lookup, yet another user, a logged-out browser (its session cookie is
gone) or a copied URL in another browser get nothing; an expired token makes the page
reload itself, which checks the session again.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare

SALT = "jobs.poll"


def _cookie_digest(session_key: str | None) -> str:
    # Only a digest: the session key itself must not appear in URLs or logs.
    return hashlib.sha256((session_key or "").encode()).hexdigest()[:24]


def token(job, session_key: str) -> str:
    value = f"{job.pk}:{job.owner_id}:{_cookie_digest(session_key)}"
    return signing.TimestampSigner(salt=SALT).sign(value)


def owner_of(job_id, token: str, session_key: str | None) -> int | None:
    """The owner's id the token vouches for, for this job and this browser's session;
    None if it is forged, expired, for another job, or from another browser."""
    if not token or not session_key:
        return None
    try:
        value = signing.TimestampSigner(salt=SALT).unsign(
            token, max_age=settings.JOB_POLL_TOKEN_SECONDS
        )
    except signing.BadSignature:  # SignatureExpired is one
        return None
    signed_job, _, rest = value.partition(":")
    owner, _, digest = rest.partition(":")
    if signed_job != str(job_id) or not constant_time_compare(digest, _cookie_digest(session_key)):
        return None
    return int(owner)


def etag(job) -> str:
    """What the status fragment shows of the row, as an entity tag: the same while nothing
    the page shows has changed, so the browser's revalidation gets a 304. The elapsed time
    is not in it: the page counts it itself, from the timestamps in the fragment."""
    shown = (
        job.status,
        job.stage,
        job.percent,
        job.message,
        job.attempts,
        job.started_at,
        job.finished_at,
    )
    return '"' + hashlib.sha256(repr(shown).encode()).hexdigest()[:20] + '"'
