from django.apps import AppConfig
from django.db.models.signals import post_migrate


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        post_migrate.connect(schedule_recovery, sender=self)


def schedule_recovery(sender, using="default", **kwargs) -> None:
    """Every deploy's migrate makes sure the cluster looks for lost jobs every minute."""
    from django_q.models import Schedule

    Schedule.objects.using(using).update_or_create(
        name="recover-lost-jobs",
        defaults={
            "func": "jobs.tasks.recover_lost_jobs",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
