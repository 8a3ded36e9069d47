"""The fake OpenAI-compatible server of the tests (tests/fake_openai.py), as a process
of its own for the benchmarks: its hundreds of streaming threads then share no
interpreter lock with the bench that measures, and its CPU time is counted apart.

    .venv/bin/python bench/fake_provider.py PORT --chunks 60 --seconds 60

Every answer streams in --chunks pieces, one every --seconds / --chunks seconds.
"""

from __future__ import annotations

import argparse
import signal
import sys
from http.server import ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--chunks", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.fake_openai import FakeOpenAI, Script

    # socketserver's backlog of 5 would drop connections when hundreds of jobs start
    # their streams in the same second; the kernel caps it at somaxconn.
    ThreadingHTTPServer.request_queue_size = 4096
    script = Script(answer="A steady answer. " * args.chunks, chunks=args.chunks)
    script.delay = args.seconds / args.chunks
    # SIGTERM ends the process through the context manager, which closes the socket.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with FakeOpenAI(args.port, script) as fake:
        print(f"fake OpenAI-compatible server at {fake.base_url}", flush=True)
        fake.thread.join()


if __name__ == "__main__":
    main()
