"""Django's PostgreSQL backend with a health check that costs no round trip while the
connection is quiet (base.py). settings.py names it for every PostgreSQL DATABASE_URL."""
