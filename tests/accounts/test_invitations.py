"""Staff invite by e-mail (admin, `manage.py invite`); the link lets the invitee choose
a username and password once, before it expires. Without a mail server the link is
handed back to the inviter."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jobs.models import Invitation
from tests.accounts.conftest import LINK, link_in_last_email, path_of
from tests.factories import make_user

NEW_PASSWORD = "plum-orchard-velvet-9"


def invite(*args) -> str:
    out = StringIO()
    call_command("invite", *args, stdout=out)
    return out.getvalue()


def accept(client: Client, link: str, username: str = "newbie", password: str = NEW_PASSWORD):
    opened = client.get(path_of(link))
    assert opened.status_code == 302
    return client.post(
        opened["Location"], {"username": username, "password1": password, "password2": password}
    )


@pytest.mark.django_db
def test_the_command_prints_the_link_when_no_mail_is_sent(settings):
    settings.EMAIL_ENABLED = False

    output = invite("new@example.com")

    assert "No e-mail was sent" in output
    (link,) = LINK.findall(output)
    assert link.startswith(settings.SITE_URL + "/accounts/invitation/")
    assert mail.outbox == []
    response = accept(Client(), link)
    assert response.status_code == 302 and response["Location"] == reverse("jobs:list")
    user = get_user_model().objects.get(username="newbie")
    assert user.email == "new@example.com" and not user.is_staff
    assert user.check_password(NEW_PASSWORD)


@pytest.mark.django_db
def test_the_development_console_is_no_mail_server_and_the_link_is_printed_whole(settings):
    # The console backend prints the mail quoted-printable: a long link broken by "=".
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    settings.SITE_URL = "http://localhost:8000/" + "a-long-site-path/" * 6

    output = invite("new@example.com")

    assert "No e-mail was sent: no mail server is set up" in output
    assert "sent by e-mail" not in output
    (link,) = LINK.findall(output)
    assert link.startswith(settings.SITE_URL.rstrip("/") + "/accounts/invitation/")
    assert len(link) > 120 and "=" not in link
    assert link in output.splitlines()


@pytest.mark.django_db
def test_a_refused_mail_says_so_and_prints_the_link(settings):
    # Nothing listens on the discard port: the connection is refused at once.
    smtp = {"host": "127.0.0.1", "port": 9, "timeout": 2}
    settings.MAILERS = {
        "default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": smtp}
    }

    output = invite("new@example.com")

    assert "No e-mail was sent: the mail server refused it" in output
    (link,) = LINK.findall(output)
    assert Client().get(path_of(link)).status_code == 302


@pytest.mark.django_db
def test_accepting_an_invitation_logs_the_invitee_in(settings):
    settings.EMAIL_ENABLED = False
    (link,) = LINK.findall(invite("new@example.com"))
    client = Client()

    response = accept(client, link)

    assert response.status_code == 302 and response["Location"] == reverse("jobs:list")
    page = client.get(reverse("jobs:list"))
    assert page.status_code == 200 and "Welcome, newbie" in page.text
    assert page.context["user"].username == "newbie"
    # Recorded as any login is: listed on the sessions page.
    assert client.get(reverse("accounts:sessions")).context["sessions"]


@pytest.mark.django_db
def test_the_command_mails_the_link_and_does_not_print_it():
    output = invite("boss@example.com", "--staff")

    assert output.strip() == "Invitation sent by e-mail."
    link = link_in_last_email("boss@example.com")
    accept(Client(), link, username="boss")
    assert get_user_model().objects.get(username="boss").is_staff


@pytest.mark.django_db
def test_a_link_works_once(settings):
    invite("new@example.com")
    link = link_in_last_email("new@example.com")
    accept(Client(), link)

    again = Client().get(path_of(link))

    assert again.status_code == 404
    assert "This invitation link does not work" in again.text
    assert get_user_model().objects.filter(email="new@example.com").count() == 1


@pytest.mark.django_db
def test_an_expired_link_does_not_work():
    invite("late@example.com")
    link = link_in_last_email("late@example.com")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert Client().get(path_of(link)).status_code == 404


@pytest.mark.django_db
def test_a_new_invitation_replaces_the_open_one():
    invite("twice@example.com")
    first = link_in_last_email("twice@example.com")
    invite("twice@example.com")
    second = link_in_last_email("twice@example.com")

    assert Client().get(path_of(first)).status_code == 404
    assert Client().get(path_of(second)).status_code == 302


@pytest.mark.django_db
def test_the_form_page_has_no_token_in_its_url_and_refuses_a_weak_password():
    invite("new@example.com")
    link = link_in_last_email("new@example.com")
    client = Client()
    opened = client.get(path_of(link))
    token = path_of(link).rstrip("/").rsplit("/", 1)[1]

    assert token not in opened["Location"]
    page = client.get(opened["Location"])
    assert "new@example.com" in page.text
    weak = client.post(
        opened["Location"], {"username": "newbie", "password1": "123", "password2": "123"}
    )
    assert weak.status_code == 400 and 'class="errorlist' in weak.text
    assert not get_user_model().objects.filter(username="newbie").exists()


@pytest.mark.django_db
def test_a_taken_username_is_refused():
    make_user("taken")
    invite("new@example.com")
    response = accept(Client(), link_in_last_email("new@example.com"), username="taken")
    assert response.status_code == 400 and "already exists" in response.text


@pytest.mark.django_db
def test_an_existing_address_or_a_bad_one_cannot_be_invited():
    make_user("alice", email="alice@example.com")
    with pytest.raises(CommandError, match="already exists"):
        invite("ALICE@example.com")
    with pytest.raises(CommandError, match="Not an e-mail address"):
        invite("nope")
    assert Invitation.objects.count() == 0


@pytest.fixture
def staff_client(client, db):
    staff = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(staff)
    return client


def test_the_admin_shows_the_link_once_without_a_mail_server(staff_client, settings):
    settings.EMAIL_ENABLED = False
    add = reverse("admin:jobs_invitation_add")
    assert 'name="email"' in staff_client.get(add).text

    response = staff_client.post(add, {"email": "new@example.com", "is_staff": "on"})

    assert response.status_code == 200
    link = re.search(r"<code data-invitation-link>([^<]+)</code>", response.text)[1]
    assert "/accounts/invitation/" in link
    listing = staff_client.get(reverse("admin:jobs_invitation_changelist"))
    assert "new@example.com" in listing.text and link not in listing.text
    invitation = Invitation.objects.get()
    assert invitation.is_staff
    detail = staff_client.get(reverse("admin:jobs_invitation_change", args=[invitation.pk]))
    assert link not in detail.text
    accept(Client(), link)
    assert get_user_model().objects.get(username="newbie").is_staff


def test_the_admin_mails_the_invitation_when_it_can(staff_client):
    response = staff_client.post(reverse("admin:jobs_invitation_add"), {"email": "m@example.com"})

    assert response.status_code == 302
    link = link_in_last_email("m@example.com")
    listing = staff_client.get(response["Location"], follow=True)
    assert "The invitation was sent by e-mail" in listing.text and link not in listing.text


def test_the_admin_refuses_bad_input(staff_client):
    make_user("alice", email="alice@example.com")
    add = reverse("admin:jobs_invitation_add")
    for email, error in [("", "required"), ("x@", "valid email"), ("alice@example.com", "exists")]:
        response = staff_client.post(add, {"email": email})
        assert response.status_code == 200 and error in response.text
    assert Invitation.objects.count() == 0


def test_only_staff_may_invite(alice_client):
    response = alice_client.post(reverse("admin:jobs_invitation_add"), {"email": "x@example.com"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Invitation.objects.count() == 0
