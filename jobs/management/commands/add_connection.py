"""`manage.py add_connection NAME URL`: a user's database for semantic models."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from jobs.analysis.tables import connections
from jobs.models import Connection


class Command(BaseCommand):
    help = (
        "Add a connection to a database whose tables semantic models may profile, after "
        "checking that it answers; print its id. The URL (dialect://user:password@host/db, "
        "or sqlite:////path/file.db) is stored encrypted and never printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("url")
        parser.add_argument("--user", action="append", default=[], help="may use it (repeat)")
        parser.add_argument("--group", action="append", default=[], help="may use it (repeat)")

    def handle(self, *args, name, url, user, group, **options):
        name = name.strip()
        if not name or len(name) > 100:
            raise CommandError("NAME must be 1 to 100 characters.")
        if Connection.objects.filter(name=name).exists():
            raise CommandError(f"A connection named {name!r} exists already.")
        User = get_user_model()  # noqa: N806
        users = list(User.objects.filter(**{f"{User.USERNAME_FIELD}__in": user}))
        groups = list(Group.objects.filter(name__in=group))
        missing = set(user) - {u.get_username() for u in users}
        missing |= set(group) - {g.name for g in groups}
        if missing:
            raise CommandError(f"No such users or groups: {', '.join(sorted(missing))}.")
        try:
            connection = connections.add(name, url, users=users, groups=groups)
        except connections.ConnectionFailed as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(str(connection.pk))
