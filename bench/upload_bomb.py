"""What a PDF bomb costs before and after uploads were read in the worker, within limits.

    .venv/bin/python bench/upload_bomb.py [--pages 6000] [--rounds 2]

The file: `--pages` pages that all show one content stream (tests/pdfs.py), the shape
of issue 27's 9.6 MB PDF of 60,000 pages. Alternating, each round:

- before: the upload's request read every page's text in the web process, then checked
  the size (pypdf over all the pages, as the old `_extract_pdf` did);
- after, request: what the upload's request does to the file now (`sniff`: a prefix and
  a byte search), before storing it;
- after, worker: the worker's child process reading it within the default limits
  (`extract_isolated`), refused at the page count.

Each runs in a process of its own, so its peak memory (ru_maxrss) is its own.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

STEP = r"""
import io, json, resource, sys, time
sys.path.insert(0, ".")
from tests.pdfs import shared_stream_pdf
from pypdf import PdfReader
from jobs.analysis.texts.extracting import DocumentError, Limits, extract_isolated, sniff
data = shared_stream_pdf(int(sys.argv[2]), repeat=20)
started = time.perf_counter()  # the imports above are the process's, not the step's
if sys.argv[1] == "before":
    chars = sum(len(page.extract_text() or "") for page in PdfReader(io.BytesIO(data)).pages)
    outcome = f"{chars:,} characters read, then refused"
elif sys.argv[1] == "request":
    sniff("bomb.pdf", data)
    outcome = "stored"
else:
    try:
        extract_isolated("bomb.pdf", data, Limits())
        outcome = "read"
    except DocumentError as error:
        outcome = str(error)
seconds = time.perf_counter() - started
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "mb": max(own, child) / 1024, "size": len(data),
                  "outcome": outcome}))
"""


def measure(step: str, pages: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", STEP, step, str(pages)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=6000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    steps = ("before", "request", "worker")
    runs: dict[str, list[dict]] = {step: [] for step in steps}
    for _ in range(args.rounds):
        for step in steps:
            runs[step].append(measure(step, args.pages))
    size = runs["before"][0]["size"]
    print(f"A {size / 1_048_576:.1f} MB PDF of {args.pages:,} pages sharing one content stream")
    print(f"{'':18} {'seconds (median)':>17} {'peak MB':>8}  outcome")
    labels = {"before": "before (request)", "request": "after, request", "worker": "after, worker"}
    for step in steps:
        seconds = statistics.median(run["seconds"] for run in runs[step])
        memory = max(run["mb"] for run in runs[step])
        print(f"{labels[step]:18} {seconds:17.3f} {memory:8.0f}  {runs[step][0]['outcome']}")


if __name__ == "__main__":
    main()
