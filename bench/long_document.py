"""How long a deep dive goes between progress reports on a long document.

    .venv/bin/python bench/long_document.py [--chars 10000000]

Builds a text of the given size from the quality set's documents (their words shuffled
into paragraphs, with a fixed seed), runs the deep-dive analysis on it with a progress
callback, and prints the total time and the longest gaps between two reports.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "site")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chars", type=int, default=10_000_000)
    args = parser.parse_args()
    import django

    django.setup()
    from jobs.analysis.texts import dissecting
    from tests.analysis.texts.quality.evaluate import documents

    words = " ".join(text for _, text in documents().values()).split()
    rng = random.Random(1)
    paragraphs, size = [], 0
    while size < args.chars:
        rng.shuffle(words)
        paragraphs.append(f"Paragraph {len(paragraphs)} reports that {' '.join(words[:120])}.")
        size += len(paragraphs[-1]) + 2
    text = "\n\n".join(paragraphs)
    last, gaps = [time.monotonic()], []

    def on_step(name: str, fraction: float) -> None:
        now = time.monotonic()
        gaps.append((now - last[0], name, fraction))
        last[0] = now

    started = time.monotonic()
    dissecting.analyse(text, "effect of the rate on the outcome", on_step=on_step)
    print(f"{len(text):,} characters: {time.monotonic() - started:.1f} s in all")
    for gap, name, fraction in sorted(gaps, reverse=True)[:5]:
        print(f"  {gap:5.1f} s before {name} at {fraction:.0%}")


if __name__ == "__main__":
    main()
