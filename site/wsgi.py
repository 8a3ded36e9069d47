"""WSGI entry point, for `gunicorn --config gunicorn.conf.py` (site/ is a folder on sys.path).

The job page's polls are answered in front of Django's middleware when they can be
(jobs/web/shortcut.py); everything else is Django's, as usual. What Django would do on
the process's first requests is done here, before it takes any (jobs/web/warming.py).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")

application = get_wsgi_application()

from jobs.web.shortcut import StatusShortcut  # noqa: E402  (needs the settings loaded)
from jobs.web.warming import warm_up  # noqa: E402

application = StatusShortcut(application)
warm_up()
