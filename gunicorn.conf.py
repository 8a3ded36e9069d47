"""gunicorn's settings for the web service: the Procfile, Railway and the benchmarks all
run `gunicorn --config gunicorn.conf.py`, so they run the same server.

One worker process per core, four threads each. Chosen by measuring polls and
submissions together (bench/shape.py, docs/benchmarks.md section 2): 2,000 open job
pages polling every 5 s and 40 form submissions a second on 2 cores, alternating
2 x 4, 4 x 2, 2 x 8 and 4 x 1 over two rounds. Every shape kept up, with poll p99 68 to
97 ms and submission p99 91 to 140 ms; the shapes differed by less than two rounds of
one shape did. One process per core holds half the memory of two (each holds its own
copy of the app, about 90 MB), and its threads cover requests waiting on PostgreSQL.
Tune with WEB_CONCURRENCY and WEB_THREADS.
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
# The access log without the tokens of account links (password reset, invitations).
logger_class = "jobs.lib.redaction.GunicornAccessLogger"
# What gunicorn reads before Django sees a request: a request line (the URL with its
# query) of at most 8 KB, at most 100 headers of 8 KB each. Bodies have no gunicorn
# limit: Django refuses one announced over REQUEST_MAX_BYTES before reading it
# (jobs/lib/bodies.py), and too many query or form fields (DATA_UPLOAD_MAX_NUMBER_FIELDS).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
