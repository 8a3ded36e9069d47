"""The JSON API for scripts and other front ends, built with django-ninja.

`urls.py` serves it under /api/ with its OpenAPI description; `endpoints.py` holds the
operations, `auth.py` who may call them, `schemas.py` what goes in and out, `errors.py`
how every failure becomes `{"error": ...}`. `views.py` is the page where users manage
their tokens.
"""
