from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from jobs.accounts import invitations


class Command(BaseCommand):
    help = (
        "Invite someone by e-mail: they choose a username and password through a link that "
        "works once. Without a mail server, the link is printed to pass on by hand."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--staff", action="store_true", help="May use the admin.")

    def handle(self, *args, email, staff, **options):
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError("Not an e-mail address.") from None
        try:
            invitation, link = invitations.invite(email, is_staff=staff)
        except invitations.InvitationError as exc:
            raise CommandError(str(exc)) from None
        if invitations.send(invitation, link):
            self.stdout.write("Invitation sent by e-mail.")
            return
        why = (
            "the mail server refused it (see the log)"
            if invitations.mail_goes_out()
            else "no mail server is set up (EMAIL_HOST)"
        )
        # The terminal, not a log: the link must reach whoever runs the command, whole,
        # on a line of its own (a terminal wraps it, but copies it in one piece).
        self.stdout.write(f"No e-mail was sent: {why}. Pass on this link yourself:")
        self.stdout.write(link)
