"""The engine's figures, an earlier commit's and this one's, side by side in one run.

    .venv/bin/python bench/side_by_side.py [--old REV] [--new REV] [--rounds 1]
        [--jobs 400 1000] [--stream-seconds 30] [--poll-users 400] [--submit-clients 50]
        [--submit-options "--every 1"] [--only bursts polls submit] [--bench REV]

Each revision is extracted (`git archive`) to a scratch folder and measured by its own
bench scripts, one after the other, alternating when --rounds is more than one:

- `bench/concurrency.py --jobs 400 1000`: how long a burst takes until every job runs
  (starts per second), the cluster's memory (PSS) and PostgreSQL connections with the
  jobs waiting on the fake provider's streams;
- `bench/concurrency.py --jobs N --poll-users N` (N: --poll-users, 400 by default): poll
  p50/p99 while the N start, stream and end, each user polling its own job;
- `bench/submit.py --clients 50`: the form's and the API's submit latency.

With `--bench REV`, both are measured by REV's bench scripts instead of their own, so
that a change of the harness does not pass for one of the code. Both copies get the same
scratch database names and free ports, so a run beside other
people's benchmarks on the same PostgreSQL does not collide with theirs. --old defaults
to where this branch left main (`git merge-base HEAD main`), --new to HEAD.
"""

from __future__ import annotations

import argparse
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def unpack(into: Path, revision: str, *paths: str) -> None:
    """The revision's files (of `paths` only, if given) written into `into`."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, *paths], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)


def extract(revision: str, into: Path, names: dict[str, str], bench: str = "") -> Path:
    """The revision's files in `into`, its bench scripts (or those of `bench`, another
    revision) pointed at our names and ports."""
    into.mkdir(parents=True)
    unpack(into, revision)
    if bench:
        unpack(into, bench, "bench")
    for script, replacements in names.items():
        path = into / "bench" / script
        text = path.read_text()
        for pattern, value in replacements:
            text = re.sub(pattern, value, text)
        path.write_text(text)
    return into


def measure(tree: Path, label: str, args, logs: Path) -> None:
    runs = [
        ("bursts", ["concurrency.py", "--jobs", *map(str, args.jobs),
                    "--stream-seconds", str(args.stream_seconds)]),
        ("polls", ["concurrency.py", "--jobs", str(args.poll_users),
                   "--poll-users", str(args.poll_users),
                   "--stream-seconds", str(args.stream_seconds)]),
        ("submit", ["submit.py", "--clients", *map(str, args.submit_clients),
                    "--seconds", "20", *shlex.split(args.submit_options)]),
    ]  # fmt: skip
    for name, command in runs:
        if name not in args.only or (name == "polls" and not args.poll_users):
            continue
        out = logs / f"{label}-{name}.txt"
        print(f"\n######## {label}: bench/{' '.join(command)}", flush=True)
        started = time.monotonic()
        with out.open("w") as log:
            subprocess.run(
                [sys.executable, str(tree / "bench" / command[0]), *command[1:]],
                cwd=tree, stdout=log, stderr=subprocess.STDOUT, check=False,
            )  # fmt: skip
        print(out.read_text(), flush=True)
        print(f"({time.monotonic() - started:.0f} s; output in {out})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--old", default="")
    parser.add_argument("--new", default="HEAD")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--jobs", type=int, nargs="+", default=[400, 1000])
    parser.add_argument("--stream-seconds", type=float, default=30.0)
    parser.add_argument("--poll-users", type=int, default=400, help="0: no poll run")
    parser.add_argument("--submit-clients", type=int, nargs="+", default=[50])
    parser.add_argument("--submit-options", default="", help="more for submit.py: '--every 1'")
    parser.add_argument("--prefix", default="longjobs_sbs", help="scratch databases' prefix")
    runs = ["bursts", "polls", "submit"]
    parser.add_argument("--only", nargs="+", choices=runs, default=runs)
    parser.add_argument(
        "--bench", default="", help="measure both with this revision's bench/ (the same harness)"
    )
    args = parser.parse_args()
    old = args.old or git("merge-base", "HEAD", "main")
    revisions = {
        "old": git("rev-parse", "--short", old),
        "new": git("rev-parse", "--short", args.new),
    }
    scratch = Path(tempfile.mkdtemp(prefix="bench-side-by-side-"))
    poll_port, submit_port = free_port(), free_port()
    names = {
        "concurrency.py": [(r'"longjobs_bench_concurrency"', f'"{args.prefix}_concurrency"')],
        "poll.py": [(r"\nPORT = \d+", f"\nPORT = {poll_port}"),
                    (r'"longjobs_bench_poll"', f'"{args.prefix}_poll"')],
        "submit.py": [(r"\nPORT = \d+", f"\nPORT = {submit_port}"),
                      (r'"longjobs_bench_submit"', f'"{args.prefix}_submit"')],
    }  # fmt: skip
    trees = {
        label: extract(revision, scratch / label, names, args.bench)
        for label, revision in revisions.items()
    }
    print(f"old {revisions['old']}, new {revisions['new']}; scratch {scratch}", flush=True)
    for round_ in range(args.rounds):
        for label in ("old", "new"):
            measure(trees[label], f"{label}{round_ + 1}", args, scratch)


if __name__ == "__main__":
    main()
