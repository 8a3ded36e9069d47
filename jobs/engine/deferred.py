"""Small chores a request hands to the worker: a function named by its dotted path, run
once by the next free worker process (django-q2's async_task on the ORM broker).

For work that must not happen inside a request (sending an account e-mail, whose time
would tell whether the address has an account), not for jobs: a job goes through
submitting.submit. The task's arguments are not kept after it ran (`save=False`): they
may name an e-mail address.
"""

from __future__ import annotations

from django_q.tasks import async_task


def call_later(path: str, *args, group: str = "chores") -> None:
    """Queue `path(*args)` for a worker; written in the caller's transaction, if any."""
    async_task(path, *args, group=group, save=False)
