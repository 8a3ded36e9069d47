"""MySQL and MariaDB users' databases (PyMySQL: pure Python, no client library).

Each connection is made read-only with its statement timeout once, when it is opened
(`on_connect`), outside any transaction; nothing runs when the pool hands it out again,
so no statement ever runs inside a read-only transaction but the job's own SELECTs.
Identifiers are backquoted, so the session's SQL mode is never changed either."""

from __future__ import annotations

from sqlalchemy import text

# As Django names its backend, which the profiling code asks.
VENDOR = "mysql"
SCHEMES = {"mysql", "mariadb"}
DRIVER = "mysql+pymysql"
SYSTEM_SCHEMAS = {"information_schema", "mysql", "performance_schema", "sys"}
# A schema is a database there: a connection sees only the one its URL names.
SCHEMA_IS_DATABASE = True
QUOTE = "`"
# URL options passed to the driver: the character set only. Never `local_infile` (a
# hostile server would read the app's files), nor TLS files, init commands or others.
SAFE_OPTIONS = {"charset"}


def connect_args(timeout: float) -> dict:
    return {"connect_timeout": 10, "read_timeout": int(timeout) + 5, "local_infile": False}


def on_connect(dbapi_connection, timeout: float) -> None:
    """A new connection: its statement timeout, and every transaction read-only."""
    mariadb = "mariadb" in dbapi_connection.get_server_info().lower()
    with dbapi_connection.cursor() as cursor:
        # MariaDB counts in seconds (max_statement_time), MySQL in milliseconds.
        if mariadb:
            cursor.execute(f"SET SESSION max_statement_time = {float(timeout)}")
        else:
            cursor.execute(f"SET SESSION max_execution_time = {int(timeout * 1000)}")
        cursor.execute("SET SESSION TRANSACTION READ ONLY")
    # The session's transactions are read-only from the next one on: end this one.
    dbapi_connection.commit()


def begin(connection, timeout: float) -> None:
    """Nothing: `on_connect` set the session up when the connection was opened."""


def row_estimates(connection, schema: str) -> dict[str, int]:
    rows = connection.execute(
        text(
            "SELECT table_name, COALESCE(table_rows, 0) FROM information_schema.tables "
            "WHERE table_schema = :schema"
        ),
        {"schema": schema},
    )
    return {name: int(estimate) for name, estimate in rows}
