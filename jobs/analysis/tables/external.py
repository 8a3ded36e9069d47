"""Users' databases, reached through SQLAlchemy: a URL checked (only the options its
dialect allows), opened read-only with a statement timeout (dialects/), its schemas and
tables listed by SQLAlchemy's inspector with the catalog's row estimates. Errors come
back as one readable line naming the connection, never with the URL, its password, its
login or its host.

Engines (each with its pool) are shared by every job thread of a process: kept in a
bounded, locked cache keyed by a salted hash of the URL (no secret as a key), the least
recently used one disposed when the cache is full."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from collections import OrderedDict
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
    refused = sorted(set(parsed.query) - dialect.SAFE_OPTIONS)
    if refused:
        allowed = ", ".join(sorted(dialect.SAFE_OPTIONS)) or "none"
        raise ConnectionFailed(
            f"The URL option{'s' * (len(refused) > 1)} {', '.join(refused)} "
            f"{'are' if len(refused) > 1 else 'is'} not allowed for {dialect.VENDOR} "
            f"connections (allowed: {allowed})."
        )
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


def options(url: str) -> dict[str, str]:
    """The options a connection's URL sets (its query string), for staff to see."""
    try:
        query = make_url(url.strip()).query
    except (sqlalchemy.exc.ArgumentError, ValueError):
        return {}
    return {name: ",".join(v) if isinstance(v, tuple) else v for name, v in query.items()}


# Engines kept at once; past that the least recently used is disposed.
ENGINES_KEPT = 16
_engines: OrderedDict[str, sqlalchemy.Engine] = OrderedDict()
_engines_lock = threading.Lock()
# Per process, so the cache's keys say nothing of the URLs even in a memory dump.
_SALT = os.urandom(16)


def engine_key(url: str) -> str:
    return hashlib.blake2b(url.encode(), key=_SALT, digest_size=16).hexdigest()


def _engine(url: str) -> sqlalchemy.Engine:
    """One engine (and pool) per URL, made on first use, under a lock: two threads
    asking for the same URL at once get the same engine."""
    key = engine_key(url)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is not None:
            _engines.move_to_end(key)
            return engine
        engine = _create_engine(url)
        _engines[key] = engine
        while len(_engines) > ENGINES_KEPT:
            # Connections checked out of it stay usable and are closed when returned.
            _engines.popitem(last=False)[1].dispose()
        return engine


def _create_engine(url: str) -> sqlalchemy.Engine:
    parsed, dialect = parse(url)
    timeout = settings.CONNECTION_STATEMENT_TIMEOUT_SECONDS
    arguments = {"connect_args": dialect.connect_args(timeout)}
    if dialect is dialects.sqlite:
        # A file is opened for each use: one deleted or replaced is seen at once.
        arguments["poolclass"] = sqlalchemy.pool.NullPool
    else:
        arguments |= {"pool_pre_ping": True, "pool_size": 2}
    engine = sqlalchemy.create_engine(parsed, **arguments)
    if hasattr(dialect, "on_connect"):
        sqlalchemy.event.listen(
            engine, "connect", lambda dbapi, _record: dialect.on_connect(dbapi, timeout)
        )
    return engine


def engines_cached() -> int:
    return len(_engines)


def dispose_all() -> None:
    """Close every pooled connection to users' databases (tests, shutdown)."""
    with _engines_lock:
        while _engines:
            _engines.popitem()[1].dispose()


@contextlib.contextmanager
def connect(url: str, name: str | None = None):
    """A read-only session on the user's database, with the statement timeout; errors
    name the connection (`name`) where it is known."""
    _, dialect = parse(url)
    try:
        with _engine(url).connect() as connection:
            dialect.begin(connection, settings.CONNECTION_STATEMENT_TIMEOUT_SECONDS)
            yield connection
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise failure(exc, url, name) from None


def failure(exc: Exception, url: str, name: str | None = None) -> ConnectionFailed:
    original = getattr(exc, "orig", None) or exc
    code = getattr(original, "args", (None,))[0] if getattr(original, "args", None) else None
    interrupted = str(original).strip() == "interrupted"  # SQLite, at the progress handler
    if (
        getattr(original, "pgcode", None) == TIMEOUT_SQLSTATE
        or code in TIMEOUT_ERRNOS
        or interrupted
    ):
        seconds = settings.CONNECTION_STATEMENT_TIMEOUT_SECONDS
        return ConnectionFailed(
            f"The database stopped a query at the statement timeout ({seconds:g} s): the "
            "table is too big to profile in that time. Staff can raise "
            "CONNECTION_STATEMENT_TIMEOUT_SECONDS.",
            timed_out=True,
        )
    return ConnectionFailed(readable(exc, url, name))


# How MySQL and MariaDB name an account in a message: 'user'@'host'.
ACCOUNT = re.compile(r"'[^']*'@'[^']*'")


def readable(exc: Exception, url: str, name: str | None = None) -> str:
    """The driver's first line, naming the connection, without anything of the URL: no
    password, no login, no host (a MySQL `'user'@'host'` included)."""
    original = getattr(exc, "orig", None) or exc
    message = str(original).strip().splitlines()[0] if str(original).strip() else type(exc).__name__
    message = ACCOUNT.sub("the connection's login", message)
    try:
        parsed = make_url(url.strip()) if "://" in url else None
    except (sqlalchemy.exc.ArgumentError, ValueError):
        parsed = None
    if parsed is not None:
        secrets = [parsed.password, parsed.username, parsed.host]
        for secret in sorted((str(s) for s in secrets if s), key=len, reverse=True):
            message = re.sub(
                rf"(?<![\w.-]){re.escape(secret)}(?![\w-])", "***", message, flags=re.I
            )
    database = f"The database of connection “{name}”" if name else "The database"
    return f"{database} did not answer as expected: {message}"[:300]


def check(url: str, name: str | None = None) -> str:
    """Connect and ask for the server's version: a readable line, or ConnectionFailed."""
    with connect(url, name) as connection:
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


def _schema_names(inspector, dialect, parsed: URL) -> list[str]:
    """The schemas a URL reaches: on MySQL and MariaDB, where a schema is a database,
    only the database the URL names (other databases of the server are not the user's
    to see); elsewhere every schema but the system's."""
    names = [s for s in inspector.get_schema_names() if s not in dialect.SYSTEM_SCHEMAS]
    if getattr(dialect, "SCHEMA_IS_DATABASE", False) and parsed.database:
        return [s for s in names if s == parsed.database]
    return names


def schemas(url: str, name: str | None = None) -> list[str]:
    """The schemas a user may browse, system ones left out."""
    parsed, dialect = parse(url)
    with connect(url, name) as connection:
        return sorted(_schema_names(sqlalchemy.inspect(connection), dialect, parsed))


def tables(url: str, schema: str | None = None, name: str | None = None) -> list[TableInfo]:
    """The tables (and views) of one schema, or of every schema, with row estimates."""
    parsed, dialect = parse(url)
    hidden = app_table_names()
    found = []
    with connect(url, name) as connection:
        inspector = sqlalchemy.inspect(connection)
        names = _schema_names(inspector, dialect, parsed)
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
    """Identifiers quoted as the database reads them: in ANSI double quotes, or in
    backquotes on MySQL and MariaDB (so no session needs its SQL mode changed)."""

    def __init__(self, quote: str):
        self.quote = quote

    def quote_name(self, name: str) -> str:
        return self.quote + name.replace(self.quote, self.quote * 2) + self.quote


class Session:
    """A user's database as the profiling code uses a database connection (Django's):
    `vendor`, `ops.quote_name`, `cursor()` (a DB-API cursor on a read-only session with
    the statement timeout), `settings_dict["NAME"]` and `alias`. A failing statement
    raises ConnectionFailed, readable and without credentials."""

    def __init__(self, url: str, alias: str, name: str | None = None):
        parsed, dialect = parse(url)
        engine = _engine(url)
        self.url, self.alias, self.vendor, self.name = url, alias, dialect.VENDOR, name
        self.ops = _Ops(getattr(dialect, "QUOTE", '"'))
        database = (parsed.database or "").removeprefix("file:")
        self.settings_dict = {"NAME": database}
        self._errors = engine.dialect.loaded_dbapi.Error

    @contextlib.contextmanager
    def cursor(self):
        with connect(self.url, self.name) as connection:
            cursor = connection.connection.cursor()
            try:
                yield cursor
            except self._errors as exc:
                raise failure(exc, self.url, self.name) from None
            finally:
                cursor.close()
