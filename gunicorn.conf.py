"""gunicorn's settings for the web service: the Procfile, Railway and the benchmarks all
run `gunicorn --config gunicorn.conf.py`, so they run the same server.

One worker process per core, four threads each. Measured on 2 cores (docs/benchmarks.md,
section 2) against 4 workers x 2 threads, in alternating runs: polls, which reconnect
each time, went about 20% faster with more processes (173 against 135 to 163 a second at
saturation), but submissions from clients that keep their connections went about 20%
slower (106 to 120 against 126 to 168 a second), since a kept connection stays with the
worker that accepted it and fewer threads per worker let an unlucky one queue up. Behind
a proxy that keeps connections to the app, the second case is the likelier one; tune
with WEB_CONCURRENCY and WEB_THREADS.
"""

from __future__ import annotations

import os

wsgi_app = "wsgi"
# site/ is a folder on sys.path, not a package (the standard library owns `site`).
pythonpath = "site"
# No bind: gunicorn takes 0.0.0.0:$PORT by itself when PORT is set (Railway and
# honcho set it), and keeps to 127.0.0.1:8000 otherwise.
# One per core, at most 8 unless WEB_CONCURRENCY says otherwise: a container may see
# every core of its host, and each worker holds its own copy of the app (~90 MB).
workers = int(os.environ.get("WEB_CONCURRENCY") or min(len(os.sched_getaffinity(0)), 8))
threads = int(os.environ.get("WEB_THREADS") or 4)
# Every request is short (jobs run in the worker); one that is not is a bug to see.
timeout = 30
accesslog = "-"
