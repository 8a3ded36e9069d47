"""The poll "the plain Django way", as the baseline for bench/poll.py.

One URL, `/jobs/<uuid>/`, that shows a job's status the way a Django view would without
the signed poll URL (jobs/web/polling.py): the session from the database
(django.contrib.sessions, db backend) and the user (django.contrib.auth,
AuthenticationMiddleware), then one owner-scoped row of the same `jobs_job` table
(`WHERE id = %s AND owner_id = <the user's id>`, a raw query), rendered through a small
template by the cached template loader, DEBUG off. So each poll makes three queries:
the session, the user, the job; no ETag, no 304.

It shares the app's database and SECRET_KEY (the session rows are the app's, and the
user's session hash is signed with it) and nothing else: no other middleware, apps or
context processors. gunicorn runs it with the app's config (gunicorn.conf.py, so the same
workers, threads and persistent database connections), pointed here instead of site/:

    DATABASE_URL=postgres://... SECRET_KEY=... .venv/bin/python -m gunicorn \\
        --config gunicorn.conf.py --pythonpath bench minimal.wsgi
"""
