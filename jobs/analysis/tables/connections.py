"""Connections to users' databases: added (checked first), tested, listed; their URLs
encrypted at rest (secrets.py) and read back only to connect."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from jobs.analysis.tables import external, secrets
from jobs.analysis.tables.external import ConnectionFailed, TableInfo
from jobs.models import Connection

__all__ = [
    "ConnectionFailed", "add", "retest", "schemas_of", "table_key", "tables_of", "url_of"
]  # fmt: skip


def url_of(connection: Connection) -> str:
    try:
        return secrets.decrypt(connection.secret_url)
    except secrets.SecretUnreadable as exc:
        raise ConnectionFailed(str(exc)) from None


def add(name: str, url: str, *, users=(), groups=()) -> Connection:
    """Check the URL by connecting, then keep it; nothing is saved when it fails."""
    message = external.check(url, name)
    with transaction.atomic():
        connection = Connection.objects.create(
            name=name,
            vendor=external.vendor(url),
            secret_url=secrets.encrypt(url),
            location=external.location(url),
            tested_at=timezone.now(),
            test_ok=True,
            test_message=message,
        )
        connection.users.set(users)
        connection.groups.set(groups)
    return connection


def set_url(connection: Connection, url: str) -> None:
    """A new URL for an existing connection (checked by the caller)."""
    connection.vendor = external.vendor(url)
    connection.secret_url = secrets.encrypt(url)
    connection.location = external.location(url)


def retest(connection: Connection) -> bool:
    """Connect again and note how it went: for staff, in the admin."""
    try:
        connection.test_message, connection.test_ok = (
            external.check(url_of(connection), connection.name),
            True,
        )
    except ConnectionFailed as exc:
        connection.test_message, connection.test_ok = str(exc), False
    connection.tested_at = timezone.now()
    connection.save(update_fields=["test_message", "test_ok", "tested_at"])
    return connection.test_ok


def table_key(connection: Connection, table: TableInfo) -> str:
    """The key `POST /api/jobs` and the form take for a table: c<id>:<schema>.<table>."""
    return f"{connection.key}:{table.schema}.{table.name}"


def tables_of(connection: Connection, schema: str | None = None) -> list[TableInfo]:
    return external.tables(url_of(connection), schema, connection.name)


def schemas_of(connection: Connection) -> list[str]:
    return external.schemas(url_of(connection), connection.name)
