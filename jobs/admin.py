"""Django's admin finds the app's registrations here; they live in jobs/ops/admin.py,
and the invitations' in jobs/accounts/admin.py."""

from jobs.accounts import admin as accounts_admin  # noqa: F401
from jobs.ops import admin  # noqa: F401
