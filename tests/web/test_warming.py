"""A web process does Django's first-request work before it takes any request
(jobs/web/warming.py, called by site/wsgi.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.template import engines

from jobs.web import warming

ROOT = Path(settings.BASE_DIR)


def cached_templates() -> set[str]:
    """The names the Django engine's cached loader holds compiled."""
    (loader,) = engines["django"].engine.template_loaders
    return set(loader.get_template_cache)


def test_every_template_of_the_project_is_compiled_before_the_first_request():
    (loader,) = engines["django"].engine.template_loaders
    loader.reset()

    warming.warm_up()

    names = warming.project_templates(engines["django"])
    assert "jobs/job_detail.html" in names and "base.html" in names
    # This project's, not every template of the installed apps.
    assert len(names) == len(list((ROOT / "templates").rglob("*.html")))
    assert cached_templates() >= set(names)


def test_the_wsgi_module_warms_the_process_up_as_gunicorn_imports_it():
    script = (
        "import json, wsgi\n"
        "from django.template import engines\n"
        "from django.urls import get_resolver\n"
        "(loader,) = engines['django'].engine.template_loaders\n"
        "print(json.dumps({'templates': sorted(loader.get_template_cache),\n"
        "    'reverse_filled': bool(get_resolver()._reverse_dict)}))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings", "PYTHONPATH": "site"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    warmed = json.loads(done.stdout.strip().splitlines()[-1])

    assert set(warmed["templates"]) >= set(warming.project_templates(engines["django"]))
    assert warmed["reverse_filled"]


def test_a_template_that_does_not_compile_is_logged_not_fatal(tmp_path, settings, caplog):
    (tmp_path / "good.html").write_text("{{ fine }}")
    (tmp_path / "broken.html").write_text("{% if %}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]

    warming.warm_up()

    assert "good.html" in cached_templates()
    assert "Template broken.html does not compile" in caplog.text
