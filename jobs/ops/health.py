"""Whether the app can do its work: the database answers and a worker cluster is alive.

The hosting platform asks this often, so it costs a few small queries and never raises.
Anyone learns up or down; the details (queue counts, clusters and workers, the reason)
only staff or a caller sending HEALTH_TOKEN as `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from jobs.engine.queue import alive_clusters
from jobs.ops import stats

logger = logging.getLogger(__name__)
NO_CLUSTER = "no worker cluster alive"


@dataclass
class Health:
    ok: bool
    report: dict = field(default_factory=dict)


def check(now: datetime | None = None) -> Health:
    now = now or timezone.now()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        # The message names the database's host: logged, not shown to an anonymous caller.
        logger.warning("health: database unreachable: %s", exc)
        reason = f"database unreachable: {type(exc).__name__}"
        return Health(False, {"status": "error", "database": "unreachable", "reason": reason})

    report: dict = {"status": "ok", "database": "ok"}
    try:
        report.update(stats.queue_summary(now))
    except Exception:
        logger.exception("health: queue summary failed")

    try:
        clusters = alive_clusters()
    except Exception as exc:
        # Most likely the cache table is missing: `manage.py createcachetable`.
        logger.warning("health: cluster status unavailable: %s", exc)
        report.update(status="error", reason=f"cluster status unavailable: {type(exc).__name__}")
        return Health(False, report)
    report["clusters"] = len(clusters)
    report["workers"] = sum(len(stat.workers) for stat in clusters)
    if not clusters and settings.HEALTH_REQUIRE_WORKER:
        report.update(status="error", reason=NO_CLUSTER)
        return Health(False, report)
    return Health(True, report)


def may_see_details(request: HttpRequest) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if (
        settings.HEALTH_TOKEN
        and scheme.lower() == "bearer"
        and constant_time_compare(token.strip(), settings.HEALTH_TOKEN)
    ):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_staff)
