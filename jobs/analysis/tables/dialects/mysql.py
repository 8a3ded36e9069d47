"""MySQL and MariaDB users' databases (PyMySQL: pure Python, no client library)."""

from __future__ import annotations

from sqlalchemy import text

# As Django names its backend, which the profiling code asks.
VENDOR = "mysql"
SCHEMES = {"mysql", "mariadb"}
DRIVER = "mysql+pymysql"
SYSTEM_SCHEMAS = {"information_schema", "mysql", "performance_schema", "sys"}


def connect_args(timeout: float) -> dict:
    return {"connect_timeout": 10, "read_timeout": int(timeout) + 5}


def begin(connection, timeout: float) -> None:
    # MariaDB counts in seconds (max_statement_time), MySQL in milliseconds.
    if connection.dialect.is_mariadb:
        connection.execute(text(f"SET SESSION max_statement_time = {float(timeout)}"))
    else:
        connection.execute(text(f"SET SESSION max_execution_time = {int(timeout * 1000)}"))
    # The server's own SQL mode: SQLAlchemy's reflection reads backquoted definitions.
    connection.execute(text("SET SESSION sql_mode = @@GLOBAL.sql_mode"))
    connection.execute(text("SET SESSION TRANSACTION READ ONLY"))
    # The session's transactions are read-only from the next one on: start it now.
    connection.commit()


def row_estimates(connection, schema: str) -> dict[str, int]:
    rows = connection.execute(
        text(
            "SELECT table_name, COALESCE(table_rows, 0) FROM information_schema.tables "
            "WHERE table_schema = :schema"
        ),
        {"schema": schema},
    )
    return {name: int(estimate) for name, estimate in rows}


def prepare_cursor(cursor) -> None:
    """For the profiling's own SQL: identifiers in double quotes, as the model writes
    them for Snowflake too (`begin` sets the mode back for the next session)."""
    cursor.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')")
