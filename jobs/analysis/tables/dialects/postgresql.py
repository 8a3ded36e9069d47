"""PostgreSQL users' databases (psycopg2)."""

from __future__ import annotations

from sqlalchemy import text

# As Django names its backend, which the profiling code asks.
VENDOR = "postgresql"
SCHEMES = {"postgres", "postgresql", "pgsql"}
DRIVER = "postgresql+psycopg2"
SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "pg_toast"}
# URL options passed to libpq: TLS mode and connection keep-alives. Never `options` (it
# sets any setting, read-only mode included), nor files on the app's host (certificates,
# service and password files).
SAFE_OPTIONS = {
    "sslmode", "application_name", "target_session_attrs", "gssencmode", "keepalives",
    "keepalives_idle", "keepalives_interval", "keepalives_count",
}  # fmt: skip


def connect_args(timeout: float) -> dict:
    # Every transaction of the session read-only, every statement cut off at the timeout.
    options = f"-c default_transaction_read_only=on -c statement_timeout={int(timeout * 1000)}"
    return {"connect_timeout": 10, "options": options}


def begin(connection, timeout: float) -> None:
    """Nothing more: the session's options did it."""


def row_estimates(connection, schema: str) -> dict[str, int]:
    rows = connection.execute(
        text(
            "SELECT c.relname, GREATEST(c.reltuples, 0)::bigint FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'v', 'm')"
        ),
        {"schema": schema},
    )
    return {name: int(estimate) for name, estimate in rows}
