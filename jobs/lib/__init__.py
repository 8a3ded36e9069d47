"""Plain helpers that several parts share and that know nothing of the app: the
client's address as the throttles count it (clients.py), link tokens cut out of log
lines (redaction.py), the checks every form shares (validators.py), the request body's
cap (bodies.py), commits that need not wait for the disk (commits.py).

The bottom layer: any part may import it; it imports no part of the app (pyproject.toml's
contracts), only Django and its own libraries.
"""
