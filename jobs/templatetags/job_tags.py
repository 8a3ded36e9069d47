from __future__ import annotations

from datetime import timedelta

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

from jobs.engine.registry import kind_label as _kind_label

register = template.Library()


@register.simple_tag
def when(moment) -> str:
    """A moment as people say it ("3 minutes ago"), with the exact time, to the second,
    for the pointer and for machines."""
    if moment is None:
        return ""
    exact = date_format(timezone.localtime(moment), "Y-m-d H:i:s e")
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', moment.isoformat(), exact, naturaltime(moment)
    )


@register.filter
def duration(value: timedelta | None) -> str:
    """A short, readable length of time: `45 s`, `3 min 07 s`, `1 h 02 min`."""
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@register.filter
def kind_label(slug: str) -> str:
    """A kind's name for people, from its slug: `{{ job.kind|kind_label }}`."""
    return _kind_label(slug)


MARKS = {"succeeded": "✓", "failed": "✗", "cancelled": "■"}


@register.filter
def tab_title(job) -> str:
    """What the browser tab says: how far along, or that the job has ended and how,
    so a user on another tab sees it finish."""
    if job.is_active:
        state = "Queued" if job.status == "queued" else f"{job.percent}%"
    else:
        state = f"{MARKS.get(job.status, '')} {job.get_status_display()}".strip()
    return f"{state} · {_kind_label(job.kind)} {job.title}".strip()


@register.filter
def get_item(mapping: dict, key):
    """`{{ counts|get_item:status }}`: a dict's value for a key held in a variable."""
    return mapping.get(key)
