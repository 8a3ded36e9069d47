import os

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from jobs.analysis.texts.documents import add_demo_documents


class Command(BaseCommand):
    help = "Create the demo user and the demo data, and print how to log in."

    def handle(self, *args, **options):
        username = os.environ.get("DEMO_USERNAME", "demo")
        password = os.environ.get("DEMO_PASSWORD", "demo-password")
        user, created = get_user_model().objects.get_or_create(username=username)
        user.set_password(password)
        user.is_staff = user.is_superuser = True
        user.save()
        call_command("load_demo_data", if_missing=True, stdout=self.stdout)
        added = add_demo_documents(user)
        self.stdout.write(f"Demo documents: {added} added for {username}.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo user {'created' if created else 'ready'}: log in as "
                f"{username} / {password} at http://localhost:{os.environ.get('PORT', '8000')}/"
            )
        )
