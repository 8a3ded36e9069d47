"""gunicorn's settings for the web service: the Procfile, Railway and the benchmarks all
run `gunicorn --config gunicorn.conf.py`, so they run the same server.

Processes rather than threads: a request is mostly Python holding the GIL, so threads of
one process queue behind each other while a core may sit idle. Measured on 2 cores
(docs/benchmarks.md, section 2), 600 users polling every 5 s: 2 workers x 4 threads gave
a p99 of 150 ms and saturated at 135 polls/s; 4 workers x 2 threads gave 100 ms and
173 polls/s. Two threads per worker still let a worker answer while one request waits
on a slow client or the database.
"""

from __future__ import annotations

import os

wsgi_app = "wsgi"
# site/ is a folder on sys.path, not a package (the standard library owns `site`).
pythonpath = "site"
# gunicorn binds to 0.0.0.0:$PORT by itself when PORT is set (Railway sets it).
bind = [f"0.0.0.0:{os.environ.get('PORT', '8000')}"]
# Two per core, at most 8 unless WEB_CONCURRENCY says otherwise: a container may see
# every core of its host, and each worker holds its own copy of the app (~90 MB).
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * len(os.sched_getaffinity(0)), 8))
threads = int(os.environ.get("WEB_THREADS") or 2)
# Every request is short (jobs run in the worker); one that is not is a bug to see.
timeout = 30
accesslog = "-"
