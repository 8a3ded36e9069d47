"""Django's admin finds the app's registrations here; they live in jobs/ops/admin.py."""

from jobs.ops import admin  # noqa: F401
