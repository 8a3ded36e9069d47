from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from jobs.api import tokens


class Command(BaseCommand):
    help = "Make an API token for a user and print it (only the token, for scripts)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="Command line", help="What the token is for.")

    def handle(self, *args, username, name, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise CommandError(f"No user {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"{username!r} is inactive: a token of theirs would not work.")
        if not name.strip() or len(name) > 100:
            raise CommandError("--name must be 1 to 100 characters.")
        _, key = tokens.create(user, name.strip())
        self.stdout.write(key)
