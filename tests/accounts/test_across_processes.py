"""The login lock lives in the database: failures counted by one web server lock the
user out of another, and a staff unlock frees both. Run as in production, with gunicorn
(its access log included: no account link token or e-mail address reaches it)."""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from jobs.accounts import invitations
from tests.conftest import ROOT, database_url, wait_for
from tests.factories import PASSWORD, make_user
from tests.test_settings import free_port


class Browser:
    """Cookies and CSRF tokens, like a browser's, over plain HTTP."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )

    def get(self, path: str) -> tuple[int, str]:
        return self.send(urllib.request.Request(self.base + path))

    def post_form(self, path: str, fields: dict) -> tuple[int, str]:
        _, page = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        return self.send(urllib.request.Request(self.base + path, data=data))

    def send(self, request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=20) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def start_server(env: dict, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = log_path.open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def up():
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited:\n{log_path.read_text()}")
        try:
            return urllib.request.urlopen(base + "/accounts/login/", timeout=5).status == 200
        except OSError:
            return False

    wait_for(up, timeout=60, what="gunicorn to answer")
    return server, base


@pytest.fixture
def two_servers(transactional_db, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "2",
        "LOGIN_FAILURE_LIMIT": "3",
        "LOGIN_FAILURE_DELAY_SECONDS": "0",
        "PYTHONUNBUFFERED": "1",
    }
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    started = [start_server(env, path) for path in logs]
    yield [base for _, base in started], logs
    for server, _ in started:
        server.terminate()
        server.wait(30)


def test_failures_on_one_server_lock_the_user_out_of_the_other(two_servers):
    (server_a, server_b), logs = two_servers
    alice = make_user("alice", email="alice@example.com")
    # The servers know only the real hashers, not the tests' fast one.
    hasher = PBKDF2PasswordHasher()
    alice.password = hasher.encode(PASSWORD, hasher.salt())
    alice.save(update_fields=["password"])
    for _ in range(2):
        status, page = Browser(server_a).post_form(
            "/accounts/login/", {"username": "alice", "password": "wrong"}
        )
        assert status == 200 and "Please enter a correct" in page
    status, _ = Browser(server_a).post_form(
        "/accounts/login/", {"username": "alice", "password": "wrong"}
    )
    assert status == 429

    status, page = Browser(server_b).post_form(
        "/accounts/login/", {"username": "alice", "password": PASSWORD}
    )

    assert status == 429 and "Too many failed logins" in page
    assert AccessAttempt.objects.filter(username="alice").exists()
    # Staff unlocking (the admin deletes the attempts) frees every server at once.
    AccessAttempt.objects.all().delete()
    status, _ = Browser(server_b).post_form(
        "/accounts/login/", {"username": "alice", "password": PASSWORD}
    )
    assert status == 302

    # What the access logs saw of account links and addresses: nothing.
    _, link = invitations.invite("newcomer@example.com")
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert Browser(server_a).get(urllib.parse.urlsplit(link).path)[0] == 302
    Browser(server_b).post_form("/accounts/password_reset/", {"email": "nobody@example.com"})
    Browser(server_b).post_form("/accounts/password_reset/", {"email": alice.email + "x"})
    server_logs = "".join(path.read_text() for path in logs)
    assert "/accounts/invitation/[redacted]/" in server_logs
    for secret in (token, "nobody@example.com", alice.email, "newcomer@example.com"):
        assert secret not in server_logs
