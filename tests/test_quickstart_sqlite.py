"""The quick start runs on SQLite: the same engine, dispatcher and worker must work there.

The rest of the suite runs on PostgreSQL; this test starts the app's own commands in
fresh processes on an SQLite file, as `make run` does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, Worker, wait_for

SUBMIT = """
import json
from django.contrib.auth.models import User
from jobs.engine import submitting
from jobs.analysis.tables import warehouse
from jobs.engine.registry import get_kind
from jobs.kinds.table_choice import browse
owner = User.objects.get(username="demo")
# As the page offers them: the app's database, its one schema, its tables counted.
browser = browse(owner, "default")
assert browser.schemas == ["main"] and browser.schema == "main", browser
rows = {t.table: t.rows for t in browser.tables}
assert rows["loan_applications"] == 500, rows
keys = [t.key for t in browser.tables if t.table in ("loan_applications", "lenders")]
(table,) = [t for t in warehouse.list_all_tables() if t.table == "loan_applications"]
kind = get_kind("semantic_model")
jobs = [submitting.submit(owner=owner, kind=kind, params={"tables": keys}),
        submitting.submit(owner=owner, kind=kind, params=table.as_params())]
print(json.dumps([str(job.pk) for job in jobs]))
"""
STATUS = """
import json, sys
from jobs.models import Job
print(json.dumps({str(j.pk): [j.status, j.error, (j.result or {}).get("summary", {})]
                  for j in Job.objects.all()}))
"""


@pytest.mark.worker
def test_make_run_on_sqlite_sets_up_and_runs_jobs_in_a_real_worker(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(SQLITE_PATH=str(tmp_path / "db.sqlite3"), DEMO_LOAN_ROWS="500")

    def manage(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    manage("migrate", "--noinput")
    assert "log in as demo / demo-password" in manage("setup_demo")
    submitted = json.loads(manage("shell", "-c", SUBMIT).strip().splitlines()[-1])

    worker = Worker(tmp_path / "qcluster.log", {**env, "JOB_PROCESSING_INTERVAL": "0.1"}).start()
    try:

        def statuses() -> dict:
            return json.loads(manage("shell", "-c", STATUS).strip().splitlines()[-1])

        final = wait_for(
            lambda: (
                (s := statuses()) and all(s[pk][0] not in ("queued", "running") for pk in s) and s
            ),
            timeout=90,
            interval=1,
            what="both jobs to end on SQLite",
        )
    finally:
        worker.stop()
    assert {pk: final[pk][0] for pk in submitted} == dict.fromkeys(submitted, "succeeded"), (
        final,
        worker.log()[-3000:],
    )
    both_tables, one_table = (final[pk][2] for pk in submitted)
    assert both_tables["tables"] == 2 and both_tables["relationships"] == 1
    assert one_table["tables"] == 2, "lenders, reached by the foreign key, joins it"
