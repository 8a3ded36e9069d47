"""The main navigation's links, for every page (a context processor).

Reversed once per script prefix and kept for the process: the URL configuration does
not change while the server runs, and the header shows its links twice (a row on wide
screens, a menu on a phone), so reversing them on each page cost 19 lookups, 0.4 ms of
a job page's 5 ms of CPU (docs/benchmarks.md, 6.5)."""

from __future__ import annotations

from functools import cache

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.urls import get_script_prefix, reverse

# The name a template reads (`{{ nav.documents }}`) and the URL pattern's name.
LINKS = {
    "home": "jobs:list",
    "new_job": "jobs:kinds",
    "documents": "jobs:documents",
    "settings": "jobs:notification_settings",
    "api_tokens": "api_tokens",
    "profile": "accounts:profile",
    "stats": "ops_stats",
    "admin": "admin:index",
    "logout": "logout",
}


def links(request: HttpRequest) -> dict:
    return {"nav": _reversed(get_script_prefix())}


@cache
def _reversed(prefix: str) -> dict[str, str]:
    # Keyed by the prefix reverse() puts in front (a deployment under a sub-path). Two
    # threads may both fill it at first: the same values, and nothing else is written.
    return {name: reverse(pattern) for name, pattern in LINKS.items()}


@receiver(setting_changed)
def _forget(setting: str, **kwargs) -> None:
    # A test that swaps the URL configuration gets its own links.
    if setting == "ROOT_URLCONF":
        _reversed.cache_clear()
