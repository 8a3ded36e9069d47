"""A session's User-Agent in words: browser and system by ua-parser's bundled rules."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from jobs.accounts.devices import describe

HEADERS = {
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36": "Chrome 120 on Linux",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 "
    "Firefox/128.0": "Firefox 128 on Windows 10",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/121.0.0.0 Mobile Safari/537.36": "Chrome Mobile 121 on Android 14 (Google Pixel 8)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1": (
        "Mobile Safari 17.1 on iOS 17.1 (Apple iPhone)"
    ),
    "curl/8.4.0": "curl 8.4",
    "": "Unknown browser",
    "   ": "Unknown browser",
    "Laptop Firefox": "Laptop Firefox",
}


@pytest.mark.parametrize(("header", "words"), HEADERS.items())
def test_a_header_in_words(header, words):
    assert describe(header) == words


def test_a_long_unknown_header_is_cut_short():
    words = describe("Acme-Internal-Monitor " + "z" * 100)

    assert len(words) == 60 and words.endswith("…") and words.startswith("Acme-Internal")


def test_many_threads_read_the_same_as_one():
    # gunicorn's threads share the parser, whose rules compile on first use: the threads
    # go first, so in a fresh process they are the ones compiling.
    headers = [f"{header} {n}".strip() for n in range(40) for header in HEADERS]
    describe.cache_clear()
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(describe, headers))
    describe.cache_clear()

    serial = [describe(header) for header in headers]

    assert threaded == serial
    assert serial.count("Firefox 128 on Windows 10") == 40
