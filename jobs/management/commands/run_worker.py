"""Run the django-q2 cluster so that a stop signal stops it cleanly.

Process managers (honcho locally, some platforms on redeploy) send SIGTERM to the whole
process group. Sent to django-q2's worker processes directly, it kills running tasks and
can leave the cluster's main process hanging. So the cluster runs in a session of its
own, and this process passes the first SIGTERM or SIGINT on to its main process alone,
which then lets the running tasks finish and stops its workers in order.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the task cluster (qcluster), stopping it cleanly on SIGTERM or SIGINT."

    def handle(self, *args, **options):
        manage = Path(settings.BASE_DIR) / "manage.py"
        cluster = subprocess.Popen(
            [sys.executable, str(manage), "qcluster"], start_new_session=True
        )

        told = []

        def pass_on(signum, frame):
            # Once: some process managers send SIGTERM twice in quick succession, and a
            # second one while django-q2's main process stops leaves it hung on a lock.
            if not told and cluster.poll() is None:
                told.append(signum)
                cluster.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, pass_on)
        signal.signal(signal.SIGINT, pass_on)
        code = cluster.wait()
        if code:
            sys.exit(code)
