"""The job admin's computed columns and read-only fields, all from the row itself."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html

from jobs.engine.registry import kind_label
from jobs.models import Job
from jobs.templatetags.job_tags import duration


class JobColumns:
    @admin.display(description="id", ordering="id")
    def short_id(self, job: Job) -> str:
        # The whole id would wrap over four lines; its start is enough to tell jobs apart.
        return format_html('<span title="{}">{}</span>', job.pk, str(job.pk)[:8])

    @admin.display(description="kind", ordering="kind")
    def kind_label(self, job: Job) -> str:
        return kind_label(job.kind)

    @admin.display(description="progress", ordering="progress")
    def progress_percent(self, job: Job) -> str:
        return f"{job.percent} %"

    @admin.display(description="waited")
    def waiting(self, job: Job) -> str:
        """Time in the queue before the first start; so far, while still queued."""
        if job.started_at:
            end = job.started_at
        elif job.status == Job.Status.QUEUED:
            end = timezone.now()
        else:
            end = job.finished_at  # cancelled before it started
        if end is None:
            return self.get_empty_value_display()
        return duration(max(end - job.created_at, timedelta(0)))

    @admin.display(description="ran")
    def running(self, job: Job) -> str:
        """Time from the first start to the end; so far, while running. A job queued
        again after an attempt shows nothing: it is not running and has not ended."""
        end = timezone.now() if job.status == Job.Status.RUNNING else job.finished_at
        if job.started_at is None or end is None:
            return self.get_empty_value_display()
        return duration(max(end - job.started_at, timedelta(0)))

    @admin.display(description="parameters")
    def params_json(self, job: Job) -> str:
        return _pretty_json(job.params)

    @admin.display(description="result")
    def result_json(self, job: Job) -> str:
        if job.result is None:
            return self.get_empty_value_display()
        return _pretty_json(job.result)


def _pretty_json(value) -> str:
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return format_html('<pre class="job-json">{}</pre>', text)
