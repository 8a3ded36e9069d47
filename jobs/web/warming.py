"""What Django does once per process on its first requests, done as the process starts.

A web process's first pages each cost ten times the CPU of a later one (measured in
gunicorn, docs/benchmarks.md 6.7: 17 to 48 ms against 4 to 5): Django sets up its
template engine on the first render (importing every template tag library), compiles
each template the first time it is asked for, fills the URL resolver on the first
lookup and loads the translation catalogs on the first translated string. Right after a
deploy or a restart, the first pages are those of people who came back to their jobs
all at once; each of them waited behind that work while the process's other threads
waited for the GIL. Done before the process takes its first request instead, it costs
each worker process about a tenth of a second more to start.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.template import TemplateSyntaxError, engines
from django.urls import get_resolver, reverse
from django.utils import translation

logger = logging.getLogger(__name__)


def warm_up() -> None:
    get_resolver().url_patterns  # noqa: B018  (imports the URL configuration's views)
    reverse("jobs:list")  # fills the resolver's reverse lookups
    translation.gettext("Log in")  # loads the catalogs of the active language
    for engine in engines.all():
        for name in project_templates(engine):
            try:
                engine.get_template(name)  # compiled, and kept by the cached loader
            except TemplateSyntaxError:
                # The pages that use it fail, with the error, not the whole site.
                logger.exception("Template %s does not compile", name)


def project_templates(engine) -> list[str]:
    """The names of the templates in the engine's DIRS (this project's, not those the
    installed apps bring, which only the admin's pages use)."""
    names = []
    for folder in getattr(engine, "dirs", ()):
        root = Path(folder)
        names += sorted(str(path.relative_to(root)) for path in root.rglob("*.html"))
    return names
