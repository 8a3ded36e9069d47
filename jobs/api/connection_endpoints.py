"""The connections a user may model, and their tables: quick answers from the catalog,
for choosing what a semantic-model job profiles."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from jobs.analysis.tables import connections
from jobs.api import serializers
from jobs.api.endpoints import AUTH_ERRORS
from jobs.api.errors import ApiError
from jobs.api.schemas import ConnectionOut, ConnectionTablesOut, ErrorOut
from jobs.models import Connection

router = Router(tags=["connections"])
NO_SUCH_CONNECTION = "No such connection."


@router.get(
    "/connections",
    url_name="connections",
    response={200: list[ConnectionOut], **AUTH_ERRORS},
    summary="List the databases you may model",
)
def list_connections(request: HttpRequest):
    return [serializers.connection_summary(c) for c in Connection.objects.for_user(request.user)]


@router.get(
    "/connections/{connection_id}/tables",
    url_name="connection_tables",
    response={200: ConnectionTablesOut, 404: ErrorOut, 502: ErrorOut, **AUTH_ERRORS},
    summary="List a database's tables",
    by_alias=True,
)
def list_tables(
    request: HttpRequest,
    connection_id: int,
    schema_name: str | None = Query(None, alias="schema", description="Only this schema."),
):
    """Each table (or view) with its row estimate and the key a job's `params.tables`
    takes. Another user's connection, or one you were not given: 404."""
    connection = Connection.objects.for_user(request.user).filter(pk=connection_id).first()
    if connection is None:
        raise ApiError(404, NO_SUCH_CONNECTION)
    try:
        found = connections.tables_of(connection, schema_name)
    except connections.ConnectionFailed as exc:
        raise ApiError(502, str(exc)) from None
    return {
        "connection": serializers.connection_summary(connection),
        "tables": [
            {"key": connections.table_key(connection, t), "schema": t.schema, "table": t.name,
             "rows": t.rows}
            for t in found
        ],
    }  # fmt: skip
