"""WSGI entry point of the minimal poll app: `gunicorn ... --pythonpath bench minimal.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

# Not setdefault: the bench's environment names the app's settings.
os.environ["DJANGO_SETTINGS_MODULE"] = "minimal.settings"

application = get_wsgi_application()
