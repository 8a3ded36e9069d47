"""The stems that questions and passages are matched on, the same from any job thread."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from jobs.analysis.texts import vocabulary


def test_stems_from_many_threads_match_a_serial_run():
    # Distinct words per call, so that a stemmer's word cache shared between threads
    # would hand one thread another's stems.
    batches = [
        [f"{stem}{suffix}" for stem in ("measur", "random", "classif", "observ", "particip")
         for suffix in ("ing", "ed", "ations", "es", "ingly")] * (n % 7 + 1) + [f"word{n}s"]
        for n in range(64)
    ]  # fmt: skip
    serial = [vocabulary.stem(words) for words in batches]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            for _ in range(5):
                assert list(pool.map(vocabulary.stem, batches)) == serial
    finally:
        sys.setswitchinterval(interval)
    assert serial[0][:2] == ["measur", "measur"]


def test_each_thread_has_a_stemmer_of_its_own():
    both_running = threading.Barrier(2)

    def ask(_):
        both_running.wait(5)  # two threads alive at once: surely two threads
        return vocabulary.stemmer()

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(ask, range(2))

    assert first is not second
    assert vocabulary.stemmer() is vocabulary.stemmer(), "one per thread, kept"
