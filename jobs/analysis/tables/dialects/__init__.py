"""What differs between the databases users connect: one small module per dialect.

A dialect module has `SCHEMES` (the URL schemes it takes), `DRIVER` (SQLAlchemy's
drivername), `SYSTEM_SCHEMAS` (never offered), `connect_args(timeout)` (how the session
is opened read-only with a statement timeout, where the driver takes it),
`begin(connection, timeout)` (what runs at the start of each session), and
`row_estimates(connection, schema)` (table -> estimated rows, from the catalog, without
counting), `SAFE_OPTIONS` (the URL options passed to the driver; any other is refused),
and optionally `on_connect(dbapi_connection, timeout)` (run once per new connection),
`QUOTE` (the identifier quote, `"` by default) and `SCHEMA_IS_DATABASE` (a URL sees only
its own database's schema). A warehouse (Snowflake, BigQuery) is one more such
module, with its SQLAlchemy dialect installed, listed in DIALECTS below.
"""

from __future__ import annotations

from types import ModuleType

from jobs.analysis.tables.dialects import mysql, postgresql, sqlite

DIALECTS: tuple[ModuleType, ...] = (postgresql, mysql, sqlite)


class UnsupportedDatabase(ValueError):
    pass


def for_scheme(scheme: str) -> ModuleType:
    base = scheme.split("+", 1)[0].lower()
    for dialect in DIALECTS:
        if base in dialect.SCHEMES:
            return dialect
    known = sorted(s for d in DIALECTS for s in d.SCHEMES)
    raise UnsupportedDatabase(
        f"{base or 'that URL'} databases are not supported; use one of: {', '.join(known)}."
    )
