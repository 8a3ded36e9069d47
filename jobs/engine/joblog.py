"""One structured log line per job event.

The message reads well on a console (`job finished id=… kind=… attempt=2 …`); the same
fields travel as the record's extras, so the JSON formatter used in production
(LOG_FORMAT=json) gives log platforms such as Railway's one searchable object per event.
"""

from __future__ import annotations

import logging

logger = logging.getLogger("jobs.events")


def job_event(event: str, job, *, level: int = logging.INFO, **fields) -> None:
    data = {
        "event": event,
        "job_id": str(job.pk),
        "kind": job.kind,
        "attempt": job.attempts,
        **fields,
    }
    details = " ".join(f"{key}={value}" for key, value in fields.items())
    logger.log(
        level,
        "job %s id=%s kind=%s attempt=%s%s",
        event,
        job.pk,
        job.kind,
        job.attempts,
        f" {details}" if details else "",
        extra=data,
    )
