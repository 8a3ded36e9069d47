"""The JSON API for scripts and other front ends, built with django-ninja, and the page
where users make and revoke their tokens.

`urls.py` serves it under /api/ with its OpenAPI description; `endpoints.py` holds the
operations, `auth.py` and `tokens.py` who may call them, `schemas.py` what goes in and
out, `errors.py` how every failure becomes `{"error": ...}`; `pages.py` and
`page_urls.py` are the tokens page (/settings/tokens/).

May import the engine, the kind registry and jobs.models; never web or ops.
"""
