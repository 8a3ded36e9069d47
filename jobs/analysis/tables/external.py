"""Users' databases, reached through SQLAlchemy: a URL checked and opened read-only with
a statement timeout (dialects/), its schemas and tables listed by SQLAlchemy's inspector
with the catalog's row estimates. Errors come back as one readable line, never with the
URL or its password."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import sqlalchemy
from django.apps import apps
from django.conf import settings
from sqlalchemy.engine import URL, make_url

from jobs.analysis.tables import dialects


class ConnectionFailed(Exception):
    """A user's database that cannot be used, with a message fit for a page; `timed_out`
    when the database stopped a statement at the timeout (trying again will not help)."""

    def __init__(self, message: str, *, timed_out: bool = False):
        super().__init__(message)
        self.timed_out = timed_out


# How the drivers say a statement ran into the timeout: PostgreSQL's SQLSTATE, MariaDB's
# max_statement_time and MySQL's max_execution_time error numbers.
TIMEOUT_SQLSTATE = "57014"
TIMEOUT_ERRNOS = {1969, 3024}


@dataclass(frozen=True)
class TableInfo:
    schema: str
    name: str
    rows: int


def parse(url: str) -> tuple[URL, object]:
    """The URL as SQLAlchemy reads it, with our driver, and its dialect module."""
    try:
        parsed = make_url(url.strip())
    except (sqlalchemy.exc.ArgumentError, ValueError):
        raise ConnectionFailed(
            "That is not a database URL; write it as dialect://user:password@host:port/"
            "database, or sqlite:////path/to/file.db."
        ) from None
    try:
        dialect = dialects.for_scheme(parsed.drivername)
    except dialects.UnsupportedDatabase as exc:
        raise ConnectionFailed(str(exc)) from None
    parsed = parsed.set(drivername=dialect.DRIVER)
    if dialect is dialects.sqlite:
        if not parsed.database:
            raise ConnectionFailed("A SQLite URL names a file: sqlite:////path/to/file.db.")
        parsed = dialect.read_only(parsed)
    return parsed, dialect


def location(url: str) -> str:
    """Host, port and database: what people may see of a connection."""
    parsed, _ = parse(url)
    where = parsed.host or ""
    if parsed.port:
        where += f":{parsed.port}"
    database = (parsed.database or "").removeprefix("file:")
    # A file (SQLite) has no host: its path alone.
    return f"{parsed.get_backend_name()} {f'{where}/' if where else ''}{database}"


def vendor(url: str) -> str:
    return parse(url)[0].get_backend_name()


_engines: dict[str, sqlalchemy.Engine] = {}


def _engine(url: str) -> sqlalchemy.Engine:
    """One engine (and pool) per URL, made on first use."""
    if url not in _engines:
        parsed, dialect = parse(url)
        timeout = settings.CONNECTION_STATEMENT_TIMEOUT_SECONDS
        options = {"connect_args": dialect.connect_args(timeout)}
        if dialect is dialects.sqlite:
            # A file is opened for each use: one deleted or replaced is seen at once.
            options["poolclass"] = sqlalchemy.pool.NullPool
        else:
            options |= {"pool_pre_ping": True, "pool_size": 2}
        _engines[url] = sqlalchemy.create_engine(parsed, **options)
    return _engines[url]


def dispose_all() -> None:
    """Close every pooled connection to users' databases (tests, shutdown)."""
    while _engines:
        _engines.popitem()[1].dispose()


@contextlib.contextmanager
def connect(url: str):
    """A read-only session on the user's database, with the statement timeout."""
    _, dialect = parse(url)
    try:
        with _engine(url).connect() as connection:
            dialect.begin(connection, settings.CONNECTION_STATEMENT_TIMEOUT_SECONDS)
            yield connection
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise failure(exc, url) from None


def failure(exc: Exception, url: str) -> ConnectionFailed:
    original = getattr(exc, "orig", None) or exc
    code = getattr(original, "args", (None,))[0] if getattr(original, "args", None) else None
    if getattr(original, "pgcode", None) == TIMEOUT_SQLSTATE or code in TIMEOUT_ERRNOS:
        seconds = settings.CONNECTION_STATEMENT_TIMEOUT_SECONDS
        return ConnectionFailed(
            f"The database stopped a query at the statement timeout ({seconds:g} s): the "
            "table is too big to profile in that time. Staff can raise "
            "CONNECTION_STATEMENT_TIMEOUT_SECONDS.",
            timed_out=True,
        )
    return ConnectionFailed(readable(exc, url))


def readable(exc: Exception, url: str) -> str:
    """The driver's first line, without anything of the URL's credentials."""
    original = getattr(exc, "orig", None) or exc
    message = str(original).strip().splitlines()[0] if str(original).strip() else type(exc).__name__
    password = make_url(url).password if "://" in url else None
    if password:
        message = message.replace(str(password), "***")
    return f"The database did not answer as expected: {message}"[:300]


def check(url: str) -> str:
    """Connect and ask for the server's version: a readable line, or ConnectionFailed."""
    with connect(url) as connection:
        connection.execute(sqlalchemy.text("SELECT 1"))
        version = connection.dialect.server_version_info or ()
        name = (
            "mariadb"
            if getattr(connection.dialect, "is_mariadb", False)
            else (connection.dialect.name)
        )
    return f"Connected: {name} {'.'.join(str(part) for part in version)}".strip()


def app_table_names() -> set[str]:
    """The app's own tables, never offered, whichever database they sit in: its models',
    Django's migrations, and the cache tables where worker clusters report."""
    names = {"django_migrations"}
    names |= {model._meta.db_table for model in apps.get_models(include_auto_created=True)}
    for cache in settings.CACHES.values():
        if cache["BACKEND"].endswith("DatabaseCache"):
            names.add(cache["LOCATION"])
    return names


def _schema_names(inspector, dialect) -> list[str]:
    return [s for s in inspector.get_schema_names() if s not in dialect.SYSTEM_SCHEMAS]


def schemas(url: str) -> list[str]:
    """The schemas a user may browse (a MySQL server's databases), system ones left out."""
    _, dialect = parse(url)
    with connect(url) as connection:
        return sorted(_schema_names(sqlalchemy.inspect(connection), dialect))


def tables(url: str, schema: str | None = None) -> list[TableInfo]:
    """The tables (and views) of one schema, or of every schema, with row estimates."""
    _, dialect = parse(url)
    hidden = app_table_names()
    found = []
    with connect(url) as connection:
        inspector = sqlalchemy.inspect(connection)
        names = _schema_names(inspector, dialect)
        if schema is not None:
            # A schema that is not there lists nothing, rather than a driver's error.
            names = [schema] if schema in names else []
        for name in names:
            estimates = dialect.row_estimates(connection, name)
            listed = inspector.get_table_names(schema=name) + inspector.get_view_names(schema=name)
            found += [
                TableInfo(name, table, estimates.get(table, 0))
                for table in sorted(set(listed))
                if table not in hidden
            ]
    return found


class _Ops:
    """Identifiers in ANSI double quotes, which Snowflake reads too (MySQL and MariaDB
    profiling cursors are set to ANSI_QUOTES: dialects/mysql.py)."""

    def quote_name(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'


class Session:
    """A user's database as the profiling code uses a database connection (Django's):
    `vendor`, `ops.quote_name`, `cursor()` (a DB-API cursor on a read-only session with
    the statement timeout), `settings_dict["NAME"]` and `alias`. A failing statement
    raises ConnectionFailed, readable and without credentials."""

    def __init__(self, url: str, alias: str):
        parsed, dialect = parse(url)
        engine = _engine(url)
        self.url, self.alias, self.vendor = url, alias, dialect.VENDOR
        self.ops = _Ops()
        database = (parsed.database or "").removeprefix("file:")
        self.settings_dict = {"NAME": database}
        self._errors = engine.dialect.loaded_dbapi.Error
        self._prepare = getattr(dialect, "prepare_cursor", None)

    @contextlib.contextmanager
    def cursor(self):
        with connect(self.url) as connection:
            cursor = connection.connection.cursor()
            try:
                if self._prepare:
                    self._prepare(cursor)
                yield cursor
            except self._errors as exc:
                raise failure(exc, self.url) from None
            finally:
                cursor.close()
