from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class JobQuerySet(models.QuerySet):
    def for_user(self, user) -> JobQuerySet:
        return self.filter(owner=user)

    def active(self) -> JobQuerySet:
        return self.filter(status__in=Job.ACTIVE_STATUSES)


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs"
    )
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=200, blank=True)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=Status, default=Status.QUEUED)
    stage = models.CharField(max_length=40, blank=True)
    progress = models.FloatField(default=0.0, help_text="Fraction of the whole job done, 0 to 1.")
    message = models.CharField(max_length=500, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    # False when the job failed in a way that running it again as it is would repeat (a
    # question no document matches): its owner is offered to edit it instead of a retry.
    retryable = models.BooleanField(default=True)
    attempts = models.PositiveIntegerField(default=0)
    # Attempts made before the last manual retry: automatic retries count from there.
    attempt_offset = models.PositiveIntegerField(default=0)
    # Set by staff in the admin: when every worker is busy, higher runs first.
    priority = models.SmallIntegerField(default=0)
    # A retry waits out its backoff: no worker takes the job before this time.
    not_before = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    # Sent with a submission so a double click or a retried POST gives back the same job.
    idempotency_key = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)
    # Written by the worker every few seconds while it runs the job, whatever the job
    # is doing; a running job whose heartbeat stops had its worker die.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Last time the owner's open job page asked for news: a job that ends long after it
    # ended with nobody watching, and its owner gets an e-mail.
    watched_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="job_owner_created"),
            models.Index(fields=["status", "created_at"], name="job_status_created"),
            # What the dispatcher reads to pick the next job; only queued rows, so small.
            models.Index(
                fields=["-priority", "owner", "created_at"],
                condition=models.Q(status="queued"),
                name="job_queued_dispatch",
            ),
            models.Index(fields=["owner", "started_at"], name="job_owner_started"),
            # The admin's newest-first list of everyone's jobs.
            models.Index(fields=["-created_at"], name="job_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="job_owner_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.title or self.pk}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("jobs:detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def attempts_this_round(self) -> int:
        return self.attempts - self.attempt_offset

    @property
    def percent(self) -> int:
        return round(max(0.0, min(1.0, self.progress)) * 100)

    @property
    def elapsed(self) -> timedelta:
        """Running time, or time spent waiting while the job is still queued."""
        start = self.started_at or self.created_at
        end = self.finished_at or timezone.now()
        return max(end - start, timedelta(0))


class JobEvent(models.Model):
    """One entry of a job's history: every status change, every stage entered, and some
    of the messages a stage reported (`name` is then the stage's key; see
    jobs/engine/context.py for which)."""

    class Type(models.TextChoices):
        STATUS = "status", "Status"
        STAGE = "stage", "Stage"
        MESSAGE = "message", "Message"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=10, choices=Type)
    name = models.CharField(max_length=40)
    message = models.TextField(blank=True)
    attempt = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["job", "at"], name="jobevent_job_at")]

    def __str__(self) -> str:
        return f"{self.type}:{self.name}"


class JobCheckpoint(models.Model):
    """The saved output of one finished step of a job.

    A later attempt (after a lost worker or a retry) reuses it instead of doing the step
    again, and a cancelled or failed job builds its partial result from them.
    """

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="checkpoints")
    key = models.CharField(max_length=200)
    value = models.JSONField()
    attempt = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["job", "key"], name="jobcheckpoint_job_key")]

    def __str__(self) -> str:
        return self.key


class Preferences(models.Model):
    """A user's choices about the app."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences"
    )
    email_when_done = models.BooleanField(
        "E-mail me when a job ends while I am away from its page", default=True
    )

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self) -> str:
        return f"Preferences of {self.user}"


class DocumentQuerySet(models.QuerySet):
    def for_user(self, user) -> DocumentQuerySet:
        return self.filter(owner=user)

    def ready(self) -> DocumentQuerySet:
        return self.filter(status=Document.Status.READY)


class Document(models.Model):
    """A user's text, extracted once and reused by any number of jobs.

    Only the text is kept: the jobs need nothing else, and hosts such as Railway have no
    lasting disk for uploaded files. An uploaded file waits in `upload` (the database,
    which web and worker share) until a worker has read it, then goes.
    """

    class Source(models.TextChoices):
        UPLOAD = "upload", "Uploaded file"
        PASTE = "paste", "Pasted text"
        DEMO = "demo", "Demo document"

    class Status(models.TextChoices):
        EXTRACTING = "extracting", "Extracting…"
        READY = "ready", "Ready"
        REFUSED = "refused", "Refused"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="documents"
    )
    title = models.CharField(max_length=200)
    source = models.CharField(max_length=10, choices=Source, default=Source.UPLOAD)
    filename = models.CharField(max_length=255, blank=True)
    size_bytes = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(null=True, blank=True)
    text = models.TextField(blank=True)
    chars = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status, default=Status.READY)
    # Why the file was refused, naming it and the limit it reached.
    error = models.TextField(blank=True)
    upload = models.BinaryField(null=True, blank=True, editable=False)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="document_owner_created")]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        self.chars = len(self.text)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("jobs:document", args=[self.pk])


class ApiTokenQuerySet(models.QuerySet):
    def for_user(self, user) -> ApiTokenQuerySet:
        return self.filter(user=user)


class ApiToken(models.Model):
    """A personal key to the JSON API, sent as `Authorization: Bearer <key>`.

    Only a SHA-256 hash of the key is stored: the user sees the key once, when it is
    made. Revoking deletes the row, so the key stops working at once.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    # The key's first characters, stored in clear so a user can tell their keys apart.
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class ConnectionQuerySet(models.QuerySet):
    def for_user(self, user) -> ConnectionQuerySet:
        """The connections staff let this user model: named, or through a group."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(models.Q(users=user) | models.Q(groups__in=user.groups.all())).distinct()


class Connection(models.Model):
    """A user's database that semantic models may profile. Its URL, credentials and all,
    is stored encrypted (jobs/analysis/tables/secrets.py) and never shown back; `location` is what
    people see of it."""

    name = models.CharField(max_length=100, unique=True)
    vendor = models.CharField(max_length=30)
    secret_url = models.TextField()
    location = models.CharField(max_length=300, help_text="Host and database, no credentials.")
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="connections",
        help_text="Users who may model this database's tables.",
    )  # fmt: skip
    groups = models.ManyToManyField(
        "auth.Group", blank=True, related_name="connections",
        help_text="Groups whose members may model this database's tables.",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    tested_at = models.DateTimeField(null=True, blank=True)
    test_ok = models.BooleanField(null=True)
    test_message = models.TextField(blank=True)

    objects = ConnectionQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.location})"

    @property
    def key(self) -> str:
        """How table keys name this connection: `c<id>:<schema>.<table>`."""
        return f"c{self.pk}"


class InvitationQuerySet(models.QuerySet):
    def open(self) -> InvitationQuerySet:
        """Not yet used and not yet expired: the ones a link may still accept."""
        return self.filter(accepted_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """Staff asked someone to join by e-mail. The link's token is stored as a SHA-256
    hash only; accepting it creates the account and closes the invitation for good."""

    email = models.EmailField()
    is_staff = models.BooleanField(default=False)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="invitation",
    )  # fmt: skip

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation #{self.pk}"


class EmailChange(models.Model):
    """A new e-mail address waiting for its owner to open the link sent to it. The
    account keeps its old address until then."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_changes"
    )
    new_email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"E-mail change #{self.pk}"


class UserSessionQuerySet(models.QuerySet):
    def for_user(self, user) -> UserSessionQuerySet:
        return self.filter(user=user)

    def live(self) -> UserSessionQuerySet:
        """Those whose Django session still exists and has not expired."""
        from django.contrib.sessions.models import Session

        return self.filter(
            models.Exists(
                Session.objects.filter(
                    session_key=models.OuterRef("session_key"), expire_date__gt=timezone.now()
                )
            )
        )


class UserSession(models.Model):
    """One login of a user, written when they log in, so they can see where they are
    logged in and end it. Django's session rows are signed blobs keyed by session, not by
    user: listing a user's sessions from them would decode every row in the table."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="logins"
    )
    session_key = models.CharField(max_length=40, unique=True)
    user_agent = models.CharField(max_length=300, blank=True)
    # A name the user gives the device ("work laptop"): the User-Agent alone does not
    # tell two laptops with one browser apart.
    label = models.CharField(max_length=60, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    objects = UserSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"Session #{self.pk} of user {self.user_id}"


class BadTokenAttempt(models.Model):
    """A request with an API token that matched none, by client address: a burst of them
    from one address is answered 429 for a while. In the database, so every web process
    counts the same attempts."""

    ip_address = models.GenericIPAddressField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["ip_address", "at"], name="bad_token_ip_at")]

    def __str__(self) -> str:
        return f"Bad token from {self.ip_address} at {self.at:%Y-%m-%d %H:%M:%S}"


class MailAttempt(models.Model):
    """One account e-mail asked for (a password reset, an address to confirm, an
    invitation), by the SHA-256 of what it counts against: an address or an account
    (jobs/accounts/throttling.py)."""

    key = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["key", "at"], name="mail_attempt_key_at")]

    def __str__(self) -> str:
        return f"Mail attempt at {self.at:%Y-%m-%d %H:%M:%S}"
