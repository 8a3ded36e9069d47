"""Whether the app can do its work: the database answers and a worker cluster is alive.

The hosting platform asks this often, so it costs a few small queries and never raises.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_q.conf import Conf
from django_q.status import Stat

from jobs import stats

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


def alive_clusters() -> list[Stat]:
    """The clusters that reported in the last few seconds and can take work.

    Each cluster writes its status to the cache every half second, kept for 3 seconds, so
    a dead one drops out by itself; one shutting down takes no new task and says so. One
    still starting reports before it has spawned its workers (with none listed), so it
    counts once it is up.
    """
    not_ready = {str(Conf.STARTING), str(Conf.STOPPING), str(Conf.STOPPED)}
    return [stat for stat in Stat.get_all() if str(stat.status) not in not_ready]
