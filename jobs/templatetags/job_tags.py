from __future__ import annotations

import itertools
from datetime import timedelta

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

from jobs.engine.registry import kind_label as _kind_label
from jobs.provider import reading

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


@register.simple_tag(takes_context=True)
def passage_url(context, document_id, start, end) -> str:
    """The link that opens a document at a cited passage, marked: `{% passage_url id 750 805 %}`.
    Blank for a result that does not say which document (one from before ids were kept)."""
    if document_id in (None, "") or start in (None, "") or end in (None, ""):
        return ""
    # A long result links hundreds of passages of one document: its address is looked
    # up once per rendering (reverse() costs a third of a millisecond).
    bases = context.dicts[0].setdefault("_document_urls", {})
    if document_id not in bases:
        bases[document_id] = reverse("jobs:document", args=[document_id])
    return reading.passage_url(bases[document_id], start, end)


@register.filter
def document_ids(analyses) -> dict:
    """Title to document id, from a review's analysed documents: a theme's evidence names
    its document by title."""
    return {item.get("title"): item.get("document_id") for item in analyses or []}


# Items of a long list shown at once, and at most how many more behind its fold: a 6 MB
# document's 1,491 numbers must not make the page 435,000 px tall.
SHOWN = 12
FOLDED = 200


@register.filter
def fold(items, shown=SHOWN) -> dict:
    """A long list in three: `shown` first, up to FOLDED more behind a fold, and how many
    are left out (they are in the downloads)."""
    items = list(items or [])
    shown = int(shown)
    return {
        "shown": items[:shown],
        "folded": items[shown : shown + FOLDED],
        "left": max(0, len(items) - shown - FOLDED),
        "total": len(items),
    }


@register.filter
def concat(first, second) -> list:
    """Two lists as one: `{% with all=figures|concat:tables %}`."""
    return [*(first or []), *(second or [])]


@register.simple_tag(takes_context=True)
def unique_id(context, prefix: str) -> str:
    """An id no other element of this page has (`quote-7`), for a Copy button's target:
    the same passage may be quoted twice on one page. Counted per rendering: the
    context's first layer is made afresh for each."""
    counter = context.dicts[0].setdefault("_unique_ids", itertools.count(1))
    return f"{prefix}-{next(counter)}"
