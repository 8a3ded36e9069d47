"""The databases a semantic-model job may profile, and what their tables look like.

Two kinds: Django database aliases that staff configure for everyone
(settings.SEMANTIC_MODEL_DATABASES), and users' databases added as connections
(jobs/analysis/tables/connections.py), named `c<id>` in table keys and reached through
SQLAlchemy (external.py) by the users staff gave them to. The app's own tables (users,
sessions, jobs, the task queue) are never offered, even when the app's database is the
connected one: their rows are not for profiling.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field

import sqlalchemy
from django.conf import settings
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from jobs.analysis.tables import connections as stored
from jobs.analysis.tables import external
from jobs.analysis.tables.external import TableInfo
from jobs.models import Connection

SQLITE_SCHEMA = "main"


@dataclass(frozen=True, order=True)
class TableRef:
    database: str
    schema: str
    table: str
    # The catalog's estimate where a listing gave one; no part of what the table is.
    rows: int | None = field(default=None, compare=False, hash=False)

    @property
    def key(self) -> str:
        return f"{self.database}:{self.schema}.{self.table}"

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.table}"

    @classmethod
    def parse(cls, key: str) -> TableRef:
        match = re.fullmatch(r"([^:]+):([^.]+)\.(.+)", key or "")
        if not match:
            raise ValueError(f"Not a table reference: {key!r}")
        return cls(*match.groups())

    def as_params(self) -> dict[str, str]:
        return {"database": self.database, "schema": self.schema, "table": self.table}


@dataclass
class Column:
    name: str
    source_type: str
    category: str  # integer, decimal, float, text, date, timestamp, boolean, other
    nullable: bool
    primary_key: bool = False
    precision: int | None = None
    scale: int | None = None


@dataclass
class ForeignKey:
    column: str
    ref_schema: str
    ref_table: str
    ref_column: str


@dataclass
class TableSchema:
    ref: TableRef
    columns: list[Column]
    foreign_keys: list[ForeignKey] = field(default_factory=list)

    @property
    def primary_key(self) -> list[str]:
        return [column.name for column in self.columns if column.primary_key]


CONNECTION_ALIAS = re.compile(r"c(\d+)")


def connection_id(database: str) -> int | None:
    """The id of the user's connection a table key names (`c12`), or None for an alias."""
    match = CONNECTION_ALIAS.fullmatch(database)
    return int(match.group(1)) if match else None


def _stored_connection(database: str, user=None):
    connections_ = Connection.objects.all() if user is None else Connection.objects.for_user(user)
    return connections_.filter(pk=connection_id(database)).first()


def connection_for(ref: TableRef):
    """What the profiling runs its SQL on: Django's connection for an alias, a read-only
    SQLAlchemy session (with the same few methods) for a user's connection."""
    if connection_id(ref.database) is None:
        return connections[ref.database]
    connection = _stored_connection(ref.database)
    if connection is None:
        raise external.ConnectionFailed("The connection to that database was removed.")
    return external.Session(stored.url_of(connection), ref.database, connection.name)


def savepoint(connection):
    """A savepoint on Django's connections, so one failing check spoils nothing else; a
    user's database gets a session of its own for each statement anyway."""
    if isinstance(connection, external.Session):
        return contextlib.nullcontext()
    return transaction.atomic(using=connection.alias)


def quote(connection: BaseDatabaseWrapper, name: str) -> str:
    return connection.ops.quote_name(name)


def qualified_name(connection: BaseDatabaseWrapper, ref: TableRef) -> str:
    if connection.vendor == "sqlite":
        return quote(connection, ref.table)
    return f"{quote(connection, ref.schema)}.{quote(connection, ref.table)}"


def list_tables(database: str, schema: str | None = None) -> list[TableInfo]:
    """Every table and view of a configured database that a user may profile, with the
    catalog's row estimate (a count on SQLite, which keeps none)."""
    connection = connections[database]
    hidden = external.app_table_names()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                """
                SELECT t.table_schema, t.table_name, t.table_schema = current_schema(),
                       GREATEST(COALESCE(c.reltuples, 0), 0)::bigint
                FROM information_schema.tables t
                LEFT JOIN pg_namespace n ON n.nspname = t.table_schema
                LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.table_name
                WHERE t.table_type IN ('BASE TABLE', 'VIEW')
                  AND t.table_schema NOT IN ('pg_catalog', 'information_schema')
                  AND t.table_schema NOT LIKE 'pg\\_%%'
                  AND (%s::text IS NULL OR t.table_schema = %s::text)
                ORDER BY t.table_schema, t.table_name
                """,
                [schema, schema],
            )
            return [
                TableInfo(schema_, table, int(rows))
                for schema_, table, in_app_schema, rows in cursor.fetchall()
                if not (in_app_schema and table in hidden)
            ]
        if connection.vendor == "sqlite":
            if schema not in (None, SQLITE_SCHEMA):
                return []
            cursor.execute(
                "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            )
            found = []
            for name, kind in cursor.fetchall():
                if name in hidden:
                    continue
                rows = 0
                if kind == "table":
                    cursor.execute(f"SELECT COUNT(*) FROM {quote(connection, name)}")
                    (rows,) = cursor.fetchone()
                found.append(TableInfo(SQLITE_SCHEMA, name, rows))
            return found
    raise NotImplementedError(f"Profiling {connection.vendor} databases is not supported.")


def databases_for(user) -> list[tuple[str, str]]:
    """What a user may model: the configured databases, then the connections staff gave
    them, each as (key, name)."""
    configured = [(alias, f"App database ({alias})") for alias in settings.SEMANTIC_MODEL_DATABASES]
    return configured + [(c.key, c.name) for c in Connection.objects.for_user(user)]


def _usable(database: str, user) -> Connection | None:
    """The user's connection a database key names, or None for a configured database; a
    database the user may not use: LookupError."""
    if connection_id(database) is None:
        if database not in settings.SEMANTIC_MODEL_DATABASES:
            raise LookupError(database)
        return None
    connection = _stored_connection(database, user)
    if connection is None:
        raise LookupError(database)
    return connection


def tables_in(database: str, user, schema: str | None = None) -> list[TableRef]:
    """The tables of one database (of one schema), with row estimates as `rows`; a
    database the user may not use: LookupError. A connection that does not answer:
    ConnectionFailed."""
    connection = _usable(database, user)
    found = (
        list_tables(database, schema)
        if connection is None
        else stored.tables_of(connection, schema)
    )
    return [TableRef(database, t.schema, t.name, t.rows) for t in found]


def schemas_in(database: str, user) -> list[str]:
    """The schemas of a database that hold tables a user may model."""
    connection = _usable(database, user)
    if connection is None:
        return sorted({table.schema for table in list_tables(database)})
    return stored.schemas_of(connection)


def list_all_tables() -> list[TableRef]:
    """The tables of the configured databases (the app's own never among them)."""
    return [
        TableRef(alias, t.schema, t.name, t.rows)
        for alias in settings.SEMANTIC_MODEL_DATABASES
        for t in list_tables(alias)
    ]


def unavailable(refs: list[TableRef], user=None) -> list[TableRef]:
    """Those of the tables that do not exist or may not be profiled (by this user), one
    catalog listing per database and schema they name."""
    listed: dict[tuple[str, str], set[TableRef]] = {}
    missing = []
    for ref in refs:
        where = (ref.database, ref.schema)
        if where not in listed:
            try:
                listed[where] = set(tables_in(ref.database, user, ref.schema))
            except LookupError:
                listed[where] = set()
        if ref not in listed[where]:
            missing.append(ref)
    return missing


_CATEGORY_PATTERNS = [
    ("boolean", r"bool"),
    ("timestamp", r"timestamp|datetime"),
    ("date", r"^date$"),
    ("integer", r"int"),
    ("decimal", r"numeric|decimal"),
    ("float", r"real|double|float"),
    ("text", r"char|text|clob|uuid"),
]


def category_of(source_type: str) -> str:
    lowered = source_type.lower()
    for category, pattern in _CATEGORY_PATTERNS:
        if re.search(pattern, lowered):
            return category
    return "other"


def describe_table(ref: TableRef) -> TableSchema:
    connection = connection_for(ref)
    if isinstance(connection, external.Session):
        return _describe_inspected(connection, ref)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            return _describe_postgresql(cursor, ref)
        return _describe_sqlite(cursor, ref)


def _describe_postgresql(cursor, ref: TableRef) -> TableSchema:
    cursor.execute(
        """
        SELECT column_name, data_type, is_nullable = 'YES', numeric_precision, numeric_scale
        FROM information_schema.columns
        WHERE table_schema = %s AND table_name = %s
        ORDER BY ordinal_position
        """,
        [ref.schema, ref.table],
    )
    columns = [
        Column(
            name=name,
            source_type=data_type,
            category=category_of(data_type),
            nullable=nullable,
            precision=precision,
            scale=scale,
        )
        for name, data_type, nullable, precision, scale in cursor.fetchall()
    ]
    cursor.execute(
        """
        SELECT a.attname
        FROM pg_index i
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indisprimary AND i.indrelid = (quote_ident(%s) || '.' || quote_ident(%s))::regclass
        """,
        [ref.schema, ref.table],
    )
    primary = {name for (name,) in cursor.fetchall()}
    for column in columns:
        column.primary_key = column.name in primary
    cursor.execute(
        """
        SELECT kcu.column_name, ccu.table_schema, ccu.table_name, ccu.column_name
        FROM information_schema.table_constraints tc
        JOIN information_schema.key_column_usage kcu
          ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema
        JOIN information_schema.constraint_column_usage ccu
          ON tc.constraint_name = ccu.constraint_name AND tc.table_schema = ccu.constraint_schema
        WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = %s AND tc.table_name = %s
        ORDER BY kcu.column_name
        """,
        [ref.schema, ref.table],
    )
    foreign_keys = [ForeignKey(*row) for row in cursor.fetchall()]
    return TableSchema(ref=ref, columns=columns, foreign_keys=foreign_keys)


def _describe_sqlite(cursor, ref: TableRef) -> TableSchema:
    table = ref.table.replace('"', '""')
    cursor.execute(f'PRAGMA table_info("{table}")')
    columns = []
    for _cid, name, declared, notnull, _default, pk in cursor.fetchall():
        match = re.search(r"\((\d+)\s*(?:,\s*(\d+))?\)", declared or "")
        columns.append(
            Column(
                name=name,
                source_type=(declared or "").lower(),
                category=category_of(declared or ""),
                nullable=not notnull and not pk,
                primary_key=bool(pk),
                precision=int(match.group(1)) if match else None,
                scale=int(match.group(2)) if match and match.group(2) else None,
            )
        )
    cursor.execute(f'PRAGMA foreign_key_list("{table}")')
    foreign_keys = [
        ForeignKey(column=row[3], ref_schema=SQLITE_SCHEMA, ref_table=row[2], ref_column=row[4])
        for row in cursor.fetchall()
    ]
    return TableSchema(ref=ref, columns=columns, foreign_keys=foreign_keys)


def _describe_inspected(session: external.Session, ref: TableRef) -> TableSchema:
    """A user's table as SQLAlchemy's inspector reads it, whatever the database."""
    schema = None if session.vendor == "sqlite" else ref.schema
    with external.connect(session.url, session.name) as connection:
        inspector = sqlalchemy.inspect(connection)
        found = inspector.get_columns(ref.table, schema=schema)
        primary = set(inspector.get_pk_constraint(ref.table, schema=schema)["constrained_columns"])
        foreign = inspector.get_foreign_keys(ref.table, schema=schema)
        dialect = connection.dialect
    columns = []
    for column in found:
        kind = column["type"]
        source_type = str(kind.compile(dialect=dialect)).lower()
        columns.append(
            Column(
                name=column["name"],
                source_type=source_type,
                category=category_of(source_type),
                nullable=bool(column.get("nullable", True)) and column["name"] not in primary,
                primary_key=column["name"] in primary,
                precision=getattr(kind, "precision", None),
                scale=getattr(kind, "scale", None),
            )
        )
    foreign_keys = [
        ForeignKey(column, fk.get("referred_schema") or ref.schema, fk["referred_table"], target)
        for fk in foreign
        for column, target in zip(fk["constrained_columns"], fk["referred_columns"], strict=False)
    ]
    return TableSchema(ref=ref, columns=columns, foreign_keys=foreign_keys)
