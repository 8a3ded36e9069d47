"""The header's links: reversed once per process, the same on every page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jobs.web import navigation
from tests.conftest import at_once


def test_the_links_are_the_named_urls():
    navigation._reversed.cache_clear()

    links = navigation.links(None)["nav"]

    assert links == {name: reverse(pattern) for name, pattern in navigation.LINKS.items()}


def test_many_threads_at_once_get_what_one_gets_alone():
    navigation._reversed.cache_clear()
    alone = dict(navigation.links(None)["nav"])
    navigation._reversed.cache_clear()

    results = at_once(16, lambda: [dict(navigation.links(None)["nav"]) for _ in range(50)])

    seen = [links for each in results for links in each]
    assert len(seen) == 16 * 50
    assert all(links == alone for links in seen)


def test_a_new_url_configuration_is_not_served_old_links(settings):
    navigation._reversed.cache_clear()
    before = navigation.links(None)["nav"]["documents"]

    settings.ROOT_URLCONF = "tests.web.prefixed_urls"

    assert before == "/documents/"
    assert navigation.links(None)["nav"]["documents"] == "/prefixed/documents/"


@pytest.mark.django_db
def test_the_header_links_a_member_to_each_page_and_staff_to_more(alice_client, client):
    from django.contrib.auth.models import User

    member = alice_client.get(reverse("jobs:list")).content.decode()
    User.objects.create_user("boss", password="pw-boss-123", is_staff=True)
    client.login(username="boss", password="pw-boss-123")
    staff = client.get(reverse("jobs:list")).content.decode()

    for pattern in ("jobs:kinds", "jobs:documents", "api_tokens", "accounts:profile", "logout"):
        # Once in the row for wide screens, once in the phone's menu.
        assert member.count(f'"{reverse(pattern)}"') == 2, pattern
    assert f'href="{reverse("admin:index")}"' not in member
    assert staff.count(f'href="{reverse("admin:index")}"') == 2
    assert staff.count(f'href="{reverse("ops_stats")}"') == 2
