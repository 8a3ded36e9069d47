"""A paginator for big admin lists that asks PostgreSQL's planner how many rows there are.

An exact COUNT(*) reads every matching row, on every page load. On PostgreSQL, once the
planner expects more than ESTIMATE_ABOVE rows, the page shows its estimate instead: the
table's `reltuples` (kept by ANALYZE and autovacuum) when nothing filters the list, else
the row estimate of EXPLAIN for the filtered query. Below that, and on other databases,
the count stays exact, so small lists and searches show true totals.
"""

from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Tests lower it to make a small table count as big.
ESTIMATE_ABOVE = 10_000


def planner_estimate(queryset: QuerySet) -> int | None:
    """PostgreSQL's estimate of the rows in `queryset`, without reading them; None
    elsewhere, or when the planner knows nothing yet."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    query = queryset.query
    with connection.cursor() as cursor:
        if not query.where and not query.distinct and not query.combinator:
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)",
                [connection.ops.quote_name(queryset.model._meta.db_table)],
            )
            row = cursor.fetchone()
            # -1 until the table's first ANALYZE or VACUUM: ask the planner instead.
            if row and row[0] >= 0:
                return int(row[0])
        # Ordering and joins for display change the plan's cost, not its row count.
        query = queryset.order_by().select_related(None).query
        sql, params = query.get_compiler(using=queryset.db).as_sql()
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """Counts exactly up to ESTIMATE_ABOVE rows; past that, trusts the planner."""

    estimated = False

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, QuerySet):
            estimate = planner_estimate(self.object_list)
            if estimate is not None and estimate > ESTIMATE_ABOVE:
                self.estimated = True
                return estimate
            return self.object_list.count()
        return len(self.object_list)
