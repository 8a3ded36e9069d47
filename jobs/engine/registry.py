"""The registry of job kinds.

A kind is one module that exposes `KIND`, a `JobKind`: its form, its named stages, the
function that does the work, and how its result is shown and downloaded. The modules
are listed in settings.JOB_KIND_MODULES (jobs/kinds/ holds the app's own), and loaded
by path, so the engine runs a new kind without importing it by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import timezone

if TYPE_CHECKING:
    from django import forms

    from jobs.engine.context import JobContext


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    # Share of the whole job's running time, so the progress bar moves evenly.
    weight: float = 1.0


@dataclass(frozen=True)
class Download:
    suffix: str
    content_type: str
    render: Callable[[dict], str]


@dataclass(frozen=True)
class JobKind:
    slug: str
    label: str
    description: str
    form_class: type[forms.Form]
    stages: tuple[Stage, ...]
    run: Callable[[JobContext, dict], dict]
    result_template: str
    # The form's fields on the new-job page, where `form.as_div` is not enough.
    form_template: str = ""
    downloads: dict[str, Download] = field(default_factory=dict)
    title: Callable[[dict], str] = lambda params: ""
    # What tells two jobs with the same title apart in a list, from their params.
    details: Callable[[dict], str] = lambda params: ""
    # What a job that stopped early (cancelled, failed) shows: built from its params and
    # checkpoints, or None when it finished nothing worth showing.
    partial: Callable[[dict, dict], dict | None] = lambda params, saved: None
    # Offered on the new-job pages and the API; a kind only the app submits is not.
    listed: bool = True

    @property
    def budget_seconds(self) -> float:
        """How long a job of this kind may run (JOB_BUDGETS, else JOB_DEFAULT_BUDGET_SECONDS)."""
        return settings.JOB_BUDGETS.get(self.slug, settings.JOB_DEFAULT_BUDGET_SECONDS)

    def stage(self, key: str) -> Stage:
        for stage in self.stages:
            if stage.key == key:
                return stage
        raise KeyError(f"{self.slug} has no stage {key!r}")

    def stage_keys(self) -> list[str]:
        return [stage.key for stage in self.stages]


@cache
def all_kinds() -> dict[str, JobKind]:
    kinds: dict[str, JobKind] = {}
    for path in settings.JOB_KIND_MODULES:
        kind = import_module(path).KIND
        kinds[kind.slug] = kind
    return kinds


@receiver(setting_changed)
def _reload_kinds(*, setting, **kwargs):
    if setting == "JOB_KIND_MODULES":
        all_kinds.cache_clear()


def get_kind(slug: str) -> JobKind | None:
    return all_kinds().get(slug)


def kind_label(slug: str) -> str:
    """The kind's name for people; the slug itself for a kind no longer installed."""
    kind = get_kind(slug)
    return kind.label if kind else slug


def listed_kinds() -> list[JobKind]:
    """The kinds people may start themselves."""
    return [kind for kind in all_kinds().values() if kind.listed]


def kind_choices() -> list[tuple[str, str]]:
    return [(kind.slug, kind.label) for kind in all_kinds().values()]


@dataclass(frozen=True)
class StageState:
    stage: Stage
    state: str  # done, current, failed, todo
    # When the stage was entered and left, if known (engine/timeline.py).
    since: datetime | None = None
    until: datetime | None = None
    # What happened in the stage, over every attempt (engine/timeline.py's LogEntry).
    log: tuple = ()

    @property
    def duration(self) -> timedelta | None:
        if self.since is None:
            return None
        return max((self.until or timezone.now()) - self.since, timedelta(0))


def stage_states(
    kind: JobKind, status: str, current: str, times=None, log=None
) -> list[StageState]:
    """Where each stage stands, for a job of this kind in `status` at stage `current`;
    with `times` (key to entered, left), when each was entered and left; with `log` (key
    to entries), what happened in each."""
    keys = kind.stage_keys()
    index = keys.index(current) if current in keys else -1
    if status == "succeeded":
        index = len(keys)  # past the last: every stage done
    ended = status in ("failed", "cancelled")
    states = []
    for position, stage in enumerate(kind.stages):
        if position < index:
            state = "done"
        elif position == index:
            state = "failed" if ended else "current"
        else:
            state = "todo"
        since, until = (times or {}).get(stage.key, (None, None))
        entries = tuple((log or {}).get(stage.key, ()))
        states.append(StageState(stage, state, since, until, entries))
    return states
