"""My jobs' bulk actions: cancel or delete the selected jobs, the user's own only.

A queued or running job is never deleted: its worker thread would go on writing to a
row that is gone, and the user would lose what it finished. It is cancelled first (a
bulk cancel, or its own page), then deleted once it has ended."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.template.defaultfilters import pluralize

from jobs.engine import retention, submitting
from jobs.models import Job

ACTIONS = {"cancel": "Cancel", "delete": "Delete"}


@dataclass
class Plan:
    """What a bulk action would do: the jobs it acts on, and those it leaves as they are
    (with why), shown on the confirmation page before anything happens."""

    action: str
    acted_on: list[Job]
    left: list[Job]

    @property
    def why_left(self) -> str:
        if self.action == "cancel":
            return "already ended, so nothing to cancel"
        return "still queued or running; cancel first, then delete"


def plan(action: str, jobs: QuerySet[Job]) -> Plan:
    listed = list(jobs.order_by("-created_at").only("id", "title", "kind", "status"))
    wanted = [job for job in listed if job.is_active == (action == "cancel")]
    return Plan(action, wanted, [job for job in listed if job not in wanted])


def carry_out(plan: Plan) -> str:
    """Do what the plan says; what was done, in a sentence or two for the user."""
    if plan.action == "cancel":
        # One by one through the engine: each gets its history line and partial result.
        done = sum(submitting.cancel(job) for job in plan.acted_on)
        text = f"Cancelled {done} job{pluralize(done)}."
    else:
        ended = Job.objects.filter(pk__in=[job.pk for job in plan.acted_on]).exclude(
            status__in=Job.ACTIVE_STATUSES
        )
        # Locked first, the status checked again: a job retried this instant stays.
        done = retention.delete_in_batches(ended, batch_size=100).get(Job._meta.label, 0)
        text = f"Deleted {done} job{pluralize(done)}."
    if plan.left:
        text += f" {_were(len(plan.left))} left alone ({plan.why_left})."
    if changed := len(plan.acted_on) - done:
        text += f" {_were(changed)} left alone (changed meanwhile)."
    return text


def _were(n: int) -> str:
    return "1 job was" if n == 1 else f"{n} jobs were"
