"""The databases a semantic-model job may profile, and what their tables look like.

The connected databases are Django database aliases (settings.SEMANTIC_MODEL_DATABASES).
The app's own tables (users, sessions, jobs, the task queue) are never offered, even
when the app's database is the connected one: their rows are not for profiling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

SQLITE_SCHEMA = "main"


@dataclass(frozen=True, order=True)
class TableRef:
    database: str
    schema: str
    table: str

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


def connection_for(ref: TableRef) -> BaseDatabaseWrapper:
    return connections[ref.database]


def quote(connection: BaseDatabaseWrapper, name: str) -> str:
    return connection.ops.quote_name(name)


def qualified_name(connection: BaseDatabaseWrapper, ref: TableRef) -> str:
    if connection.vendor == "sqlite":
        return quote(connection, ref.table)
    return f"{quote(connection, ref.schema)}.{quote(connection, ref.table)}"


def _app_table_names() -> set[str]:
    names = {"django_migrations"}
    for model in apps.get_models(include_auto_created=True):
        names.add(model._meta.db_table)
    # Cache tables (where worker clusters report that they are alive) are the app's too.
    for cache in settings.CACHES.values():
        if cache["BACKEND"].endswith("DatabaseCache"):
            names.add(cache["LOCATION"])
    return names


def list_tables(database: str) -> list[TableRef]:
    """Every table and view of a connected database that a user may profile."""
    connection = connections[database]
    hidden = _app_table_names()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                """
                SELECT table_schema, table_name, table_schema = current_schema()
                FROM information_schema.tables
                WHERE table_type IN ('BASE TABLE', 'VIEW')
                  AND table_schema NOT IN ('pg_catalog', 'information_schema')
                  AND table_schema NOT LIKE 'pg\\_%%'
                ORDER BY table_schema, table_name
                """
            )
            rows = cursor.fetchall()
            return [
                TableRef(database, schema, table)
                for schema, table, in_app_schema in rows
                if not (in_app_schema and table in hidden)
            ]
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            )
            return [
                TableRef(database, SQLITE_SCHEMA, name)
                for (name,) in cursor.fetchall()
                if name not in hidden
            ]
    raise NotImplementedError(f"Profiling {connection.vendor} databases is not supported.")


def list_all_tables() -> list[TableRef]:
    return [ref for alias in settings.SEMANTIC_MODEL_DATABASES for ref in list_tables(alias)]


def is_available(ref: TableRef) -> bool:
    return ref.database in settings.SEMANTIC_MODEL_DATABASES and ref in list_tables(ref.database)


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
