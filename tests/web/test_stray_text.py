"""No page shows template text by mistake: Django's `{# #}` comment must stay on one line,
and a page's first visible text is its skip link."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import make_job

pytestmark = pytest.mark.django_db
TEMPLATES = Path(settings.BASE_DIR) / "templates"


class _FirstText(HTMLParser):
    """The first text a reader sees in <body>, skipping scripts and styles."""

    def __init__(self):
        super().__init__()
        self.in_body = False
        self.hidden = 0
        self.first: str | None = None
        self.first_tag_attrs: dict = {}
        self._open: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self.in_body = True
        if tag in ("script", "style", "template"):
            self.hidden += 1
        self._open.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self.hidden -= 1
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        if self.in_body and not self.hidden and self.first is None and data.strip():
            self.first = data.strip()
            self.first_tag_attrs = self._open[-1][1] if self._open else {}


def test_no_template_comment_spans_lines():
    broken = []
    for path in TEMPLATES.rglob("*.html"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            # Every "{#" must close on its own line; Django prints it as text otherwise.
            if re.search(r"\{#(?!.*#\})", line):
                broken.append(f"{path.relative_to(TEMPLATES)}:{number}")
    assert broken == []


@pytest.mark.parametrize(
    "name",
    [
        "jobs:list",
        "jobs:kinds",
        "jobs:documents",
        "jobs:notification_settings",
        "api_tokens",
        "accounts:profile",
    ],
)
def test_the_first_text_of_a_page_is_its_skip_link(alice_client, name):
    page = alice_client.get(reverse(name)).content.decode()

    parser = _FirstText()
    parser.feed(page)
    assert parser.first == "Skip to content"
    assert parser.first_tag_attrs.get("class") == "skip-link"
    assert "{#" not in page and "#}" not in page


def test_a_job_page_and_the_login_page_start_with_the_skip_link(alice_client, user, client):
    job = make_job(user)
    for page in (
        alice_client.get(reverse("jobs:detail", args=[job.pk])).content.decode(),
        client.get(reverse("login")).content.decode(),
    ):
        parser = _FirstText()
        parser.feed(page)
        assert parser.first == "Skip to content"
