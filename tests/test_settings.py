"""Production settings: refuse to start unsafe, and fit Railway."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys

import pytest

from tests.conftest import ROOT, wait_for

PRINT = (
    "from django.conf import settings; import json; print(json.dumps({"
    "'hosts': settings.ALLOWED_HOSTS, 'origins': settings.CSRF_TRUSTED_ORIGINS, "
    "'debug': settings.DEBUG, 'storage': settings.STORAGES['staticfiles']['BACKEND'], "
    "'secure': settings.SESSION_COOKIE_SECURE}))"
)


def django_settings(**env) -> subprocess.CompletedProcess:
    """Load the settings in a fresh process with only these variables set."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RAILWAY_", "DJANGO"))}
    clean.pop("DEBUG", None)
    clean.pop("SECRET_KEY", None)
    clean.pop("APP_ENV", None)
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PRINT],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


PRODUCTION = {"APP_ENV": "production", "DATABASE_URL": "postgres://u@db.invalid/x"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SECRET_KEY must be set in production."),
        ({"SECRET_KEY": "s" * 50, "DEBUG": "true"}, "DEBUG must be off in production."),
        ({"SECRET_KEY": "s" * 50}, "CONNECTION_KEY must be set in production"),
    ],
)
def test_production_refuses_to_start_unsafe(env, message):
    result = django_settings(**PRODUCTION, **env)

    assert result.returncode != 0
    assert message in result.stderr


def test_on_railway_it_is_production_and_trusts_its_own_domain():
    result = django_settings(
        RAILWAY_ENVIRONMENT_NAME="production",
        RAILWAY_PUBLIC_DOMAIN="jobs.up.railway.app",
        SECRET_KEY="s" * 50,
        CONNECTION_KEY="c" * 50,
        DATABASE_URL="postgres://u@db.invalid/x",
    )

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["debug"] is False and loaded["secure"] is True
    assert {"jobs.up.railway.app", "healthcheck.railway.app"} <= set(loaded["hosts"])
    assert loaded["origins"] == ["https://jobs.up.railway.app"]
    # Compressed files with hashed names, served by whitenoise.
    assert loaded["storage"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_railway_config_matches_the_procfile():
    procfile = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    web = json.loads((ROOT / "railway.json").read_text())["deploy"]
    worker = json.loads((ROOT / "railway.worker.json").read_text())["deploy"]

    assert web["healthcheckPath"] == "/health"
    # Hashed, compressed static files exist only once collected, at build time.
    assert json.loads((ROOT / "railway.json").read_text())["build"]["buildCommand"] == (
        "python manage.py collectstatic --noinput"
    )
    assert web["preDeployCommand"] == [procfile["release"]]
    # No shell expansion needed: gunicorn binds to $PORT and runs $WEB_CONCURRENCY workers.
    # Other hosts may have no build step: the Procfile collects static files at start.
    assert procfile["web"] == (
        f"python manage.py collectstatic --noinput -v0 && exec {web['startCommand']}"
    )
    assert procfile["worker"] == f"exec {worker['startCommand']}"
    assert isinstance(worker["drainingSeconds"], int)


def test_production_logs_one_json_object_per_job_event(tmp_path):
    script = (
        "import logging; from jobs.engine.joblog import job_event; from jobs.models import Job; "
        "job_event('finished', Job(kind='review', attempts=2), status='succeeded', duration_s=1.5)"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env={
            **os.environ,
            **PRODUCTION,
            "SECRET_KEY": "s" * 50,
            "DEBUG": "false",
            "CONNECTION_KEY": "c" * 50,
        },  # fmt: skip
        capture_output=True,
        text=True,
        timeout=60,
    )

    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["event"] == "finished" and line["kind"] == "review" and line["attempt"] == 2
    assert line["duration_s"] == 1.5 and line["level"] == "INFO" and line["logger"] == "jobs.events"
    assert line["message"].startswith("job finished id=")


def web_command() -> list[str]:
    """The Procfile's web command, run by a shell as honcho and other hosts run it."""
    web = next(line for line in (ROOT / "Procfile").read_text().splitlines() if "web:" in line)
    return ["sh", "-c", web.removeprefix("web: ")]


def venv_path() -> str:
    # `python` and `gunicorn` in the Procfile are the virtualenv's, as on a host.
    return f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_check_deploy_is_clean_with_the_documented_production_variables():
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RAILWAY_", "DJANGO"))}
    for name in ("DEBUG", "SECRET_KEY", "APP_ENV", "ALLOWED_HOSTS", "EMAIL_HOST"):
        clean.pop(name, None)
    secret = secrets.token_urlsafe(50)
    env = {**clean, **PRODUCTION, "SECRET_KEY": secret, "ALLOWED_HOSTS": "jobs.example.com",
           "CONNECTION_KEY": secrets.token_urlsafe(32)}  # fmt: skip

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def gunicorn_config(**env) -> dict:
    """The settings the Procfile's config file gives, loaded in a fresh process."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WEB_")}
    script = (
        "import json, runpy; c = runpy.run_path('gunicorn.conf.py'); print(json.dumps({k: c[k] "
        "for k in ('workers', 'threads', 'wsgi_app', 'pythonpath')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_web_server_runs_a_process_a_core_with_four_threads_each():
    config = gunicorn_config()

    assert config["workers"] == min(len(os.sched_getaffinity(0)), 8)
    assert config["threads"] == 4
    assert config["wsgi_app"] == "wsgi" and config["pythonpath"] == "site"
    overridden = gunicorn_config(WEB_CONCURRENCY="3", WEB_THREADS="5")
    assert (overridden["workers"], overridden["threads"]) == (3, 5)


def test_the_web_command_serves_the_app_on_port(tmp_path):
    import urllib.request

    port = free_port()
    env = {**os.environ, "PORT": str(port), "WEB_CONCURRENCY": "1", "PATH": venv_path()}
    env["STATIC_ROOT"] = str(tmp_path / "static")
    log_path = tmp_path / "web.log"

    def login_page():
        if server.poll() is not None:
            pytest.fail(f"the web command exited:\n{log_path.read_text()}")
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/")
        except OSError:
            return None

    with log_path.open("wb") as log:
        server = subprocess.Popen(web_command(), cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            page = wait_for(login_page, timeout=30, what="the web command to answer on $PORT")
            assert page.status == 200
            assert b'name="password"' in page.read()
        finally:
            server.terminate()
            server.wait(30)


def test_in_production_the_web_command_serves_https_only_with_its_static_files(
    tmp_path, django_db_setup
):
    """Nothing collected beforehand (a host with no build step), behind a proxy that says
    which scheme the browser used: pages over HTTPS with HSTS and a CSP, their static
    files served, plain HTTP redirected, and the health probe answered over plain HTTP."""
    import urllib.error
    import urllib.request

    from tests.conftest import database_url

    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("RAILWAY_", "DJANGO"))},
        "APP_ENV": "production", "DEBUG": "false", "SECRET_KEY": "s" * 60,
        "CONNECTION_KEY": "c" * 40,
        "DATABASE_URL": database_url(), "ALLOWED_HOSTS": "127.0.0.1",
        "PORT": str(port), "WEB_CONCURRENCY": "1", "PATH": venv_path(),
        "STATIC_ROOT": str(tmp_path / "static"), "HEALTH_REQUIRE_WORKER": "false",
    }  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)

    def get(path: str, https: bool = True):
        request = urllib.request.Request(base + path)
        if https:
            request.add_header("X-Forwarded-Proto", "https")
        try:
            return opener.open(request)
        except urllib.error.HTTPError as error:
            return error

    def up():
        if server.poll() is not None:
            pytest.fail(f"the web command exited:\n{log_path.read_text()}")
        try:
            return get("/accounts/login/")
        except OSError:
            return None

    log_path = tmp_path / "web.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(web_command(), cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            page = wait_for(up, timeout=60, what="the production web command to answer")
            body = page.read().decode()
            plain = get("/accounts/login/", https=False)
            health = get("/health", https=False)
            stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]+\.css)"', body)
            css = get(stylesheet.group(1)) if stylesheet else None
        finally:
            server.terminate()
            server.wait(30)

    assert page.status == 200, log_path.read_text()
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert stylesheet, "a hashed stylesheet name, from the manifest collected at start"
    assert css.status == 200
    assert plain.status == 301
    assert plain.headers["Location"] == f"https://127.0.0.1:{port}/accounts/login/"
    assert health.status in (200, 503), "the platform's probe is answered, not redirected"
