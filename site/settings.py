"""Settings, all read from the environment with safe development defaults.

Production (APP_ENV=production, or any Railway environment) refuses to start without
SECRET_KEY or with DEBUG on. Every variable is listed in `.env.example`.
"""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value.strip() else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}") from exc


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    try:
        return float(value) if value.strip() else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


APP_ENV = env_str(
    "APP_ENV", "production" if os.environ.get("RAILWAY_ENVIRONMENT_NAME") else "development"
)
PRODUCTION = APP_ENV == "production"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
SECRET_KEY = env_str("SECRET_KEY")
if PRODUCTION:
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set in production.")
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off in production.")
elif not SECRET_KEY:
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"
# Encrypts the credentials of users' databases at rest (jobs/analysis/tables/secrets.py).
# Production needs its own, kept apart from SECRET_KEY; development derives one.
CONNECTION_KEY = env_str("CONNECTION_KEY")
if PRODUCTION and not CONNECTION_KEY:
    raise ImproperlyConfigured(
        "CONNECTION_KEY must be set in production: it encrypts database credentials."
    )
CONNECTION_KEY = CONNECTION_KEY or f"connections:{SECRET_KEY}"
# Profiling a user's database: at most this long per statement, in a read-only session.
CONNECTION_STATEMENT_TIMEOUT_SECONDS = env_int("CONNECTION_STATEMENT_TIMEOUT_SECONDS", 60)

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1],testserver"
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
if railway_domain := os.environ.get("RAILWAY_PUBLIC_DOMAIN"):
    ALLOWED_HOSTS.append(railway_domain)
    CSRF_TRUSTED_ORIGINS.append(f"https://{railway_domain}")
if os.environ.get("RAILWAY_ENVIRONMENT_NAME"):
    # Railway's health checks come from this host name.
    ALLOWED_HOSTS.append("healthcheck.railway.app")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_q",
    # Failed logins, counted in the database: see "Accounts" below.
    "axes",
    # Serves the API docs page's Swagger UI from the app's own static files.
    "ninja",
    "jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # A body over REQUEST_MAX_BYTES is refused before it is read (jobs/lib/bodies.py).
    "jobs.lib.bodies.RequestSizeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Turns a locked-out login into the page that says so (answered 429).
    "axes.middleware.AxesMiddleware",
    # Keeps the "last seen" of the user's session list current, once every few minutes.
    "jobs.accounts.middleware.SessionSeenMiddleware",
]

ROOT_URLCONF = "urls"
WSGI_APPLICATION = "wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jobs.web.navigation.links",
            ],
        },
    },
]

# Persistent connections with health checks: with CONN_MAX_AGE=0 the ORM broker opens
# several connections per task and moves about a tenth of the tasks per second.
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)
    }
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # Django's backend, with a health check that skips its SELECT 1 while the
        # connection is quiet (jobs/lib/postgresql/base.py).
        DATABASES["default"]["ENGINE"] = "jobs.lib.postgresql"
        # An unreachable host fails a request (and /health) in seconds, not at a timeout.
        DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
else:
    if PRODUCTION:
        raise ImproperlyConfigured("DATABASE_URL must be set in production.")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH") or BASE_DIR / "db.sqlite3",
            # WAL and a busy timeout let the web server and the worker write side by side.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: it refuses a locked-out username or address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "jobs:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

if PRODUCTION:
    # Behind Railway's proxy (or any that sets X-Forwarded-Proto): every page on HTTPS,
    # and browsers told to keep to it. The platform's health probe comes over plain
    # HTTP, so /health answers it as it is.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^health/?$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    # Preloading is a promise for the whole domain, the owner's to make (hstspreload.org).
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Django's Content-Security-Policy: scripts, styles and images from the app itself only;
# no inline script and no eval (htmx is set not to need them, base.html). Only style
# attributes are allowed inline: the progress bars' widths. The API's docs page has its
# own (jobs/api/urls.py).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "style-src-attr": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# One line per record; in production one JSON object per line, which log platforms
# (Railway's among them) index by field: job_id, kind, attempt, duration_s, ...
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    # Tokens of account links never reach a log line (jobs/lib/redaction.py).
    "filters": {"redact_account_links": {"()": "jobs.lib.redaction.RedactAccountLinks"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["redact_account_links"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django_q": {"level": env_str("Q_LOG_LEVEL", "INFO")},
        # runserver's request lines, through the same filtered handler.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# E-mail: through an SMTP server when one is configured; in development, printed to the
# console otherwise. In production without one, nothing pretends to send: EMAIL_ENABLED
# is off, notifications are not sent, and the settings page says so.
EMAIL_ENABLED = bool(env_str("EMAIL_HOST")) or not PRODUCTION
if env_str("EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env_str("EMAIL_HOST"),
                "port": env_int("EMAIL_PORT", 587),
                "username": env_str("EMAIL_HOST_USER"),
                "password": env_str("EMAIL_HOST_PASSWORD"),
                "use_tls": env_bool("EMAIL_USE_TLS", default=True),
                "timeout": env_int("EMAIL_TIMEOUT", 10),
            },
        }
    }
elif not PRODUCTION:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Long jobs <noreply@localhost>")
# Links in e-mails point here.
SITE_URL = env_str(
    "SITE_URL",
    f"https://{os.environ['RAILWAY_PUBLIC_DOMAIN']}"
    if os.environ.get("RAILWAY_PUBLIC_DOMAIN")
    else "http://localhost:8000",
)

# --- Accounts ------------------------------------------------------------------------

# Invitation links (staff invite by e-mail, `manage.py invite`) work once, for this long.
INVITATION_DAYS = env_int("INVITATION_DAYS", 7)
# A link confirming a new e-mail address works once, for this long.
EMAIL_CHANGE_HOURS = env_int("EMAIL_CHANGE_HOURS", 24)
# Password reset links work once (Django's tokens change with the password), for this long.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_HOURS", 2) * 3600
# How many proxies in front of the app append to X-Forwarded-For (Railway's: one). The
# client's address is read that many entries from the right, where no client can write;
# with 0 it is the connection's own address.
TRUSTED_PROXY_COUNT = env_int(
    "TRUSTED_PROXY_COUNT", 1 if os.environ.get("RAILWAY_ENVIRONMENT_NAME") else 0
)
# Logins (django-axes): after LOGIN_FAILURE_LIMIT failures for one username from one
# address, or from one address whatever the usernames, that address is refused for
# LOGIN_LOCKOUT_MINUTES (staff can unlock in the admin). A username alone locks nothing:
# whoever guesses someone's password locks themselves out, not the account's owner;
# before that, each failure is answered after a growing pause (LOGIN_FAILURE_DELAY_SECONDS
# per failure so far, at most 5 s). The failures are rows in the database, so every web
# process counts the same ones and honours the same lock.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "jobs.lib.clients.client_ip"
# Axes' own log lines name the path only: a username may be an e-mail address.
AXES_CLIENT_STR_CALLABLE = "jobs.lib.clients.client_str"
AXES_VERBOSE = False
# A successful login is not logged with its username and address in a table nobody reads.
AXES_DISABLE_ACCESS_LOG = True
LOGIN_FAILURE_DELAY_SECONDS = env_float("LOGIN_FAILURE_DELAY_SECONDS", 0.5)
# Account e-mails (password reset, confirming a new address, invitations) are sent by the
# worker, never in the request, and at most ACCOUNT_MAIL_LIMIT go to one address, or for
# one account, in ACCOUNT_MAIL_WINDOW_MINUTES (jobs/accounts/throttling.py).
ACCOUNT_MAIL_LIMIT = env_int("ACCOUNT_MAIL_LIMIT", 3)
ACCOUNT_MAIL_WINDOW_MINUTES = env_int("ACCOUNT_MAIL_WINDOW_MINUTES", 60)
# API tokens: a client address that sent this many unknown tokens within the window is
# answered 429 until the window has passed over them.
API_BAD_TOKEN_LIMIT = env_int("API_BAD_TOKEN_LIMIT", 20)
API_BAD_TOKEN_WINDOW_SECONDS = env_int("API_BAD_TOKEN_WINDOW_SECONDS", 300)

# --- Jobs -------------------------------------------------------------------------

# Each module listed here defines one job kind; adding a kind touches no engine code.
JOB_KIND_MODULES = [
    "jobs.kinds.semantic_model",
    "jobs.kinds.review",
    "jobs.kinds.deep_dive",
    # Uploaded files are read by this kind, in the worker (not offered on the pages).
    "jobs.kinds.document_extraction",
    # More kinds from elsewhere without editing this file (the benchmarks' no-op kind).
    *env_list("JOB_EXTRA_KIND_MODULES"),
]
# How often the job page polls for progress, in seconds.
JOB_POLL_SECONDS = env_float("JOB_POLL_SECONDS", 5.0)
# How long the signed URL a job page polls stays good. Each answer past half of it gives
# the page a new one; a page that stopped polling for longer reloads itself, which checks
# the session again. Every poll also checks that the session is alive and its user
# active (jobs/web/polling.py).
JOB_POLL_TOKEN_SECONDS = env_int("JOB_POLL_TOKEN_SECONDS", 300)
# A job that ends when its page has not polled for this long ended with its owner away:
# they get an e-mail (unless they turned that off).
JOB_NOTIFY_AWAY_SECONDS = env_float("JOB_NOTIFY_AWAY_SECONDS", 30.0)
# Each web process writes the marks of the pages that polled in one UPDATE this often,
# so that a poll costs no write of its own (jobs/watching.py); 0 writes them at once.
JOB_WATCH_FLUSH_SECONDS = env_float("JOB_WATCH_FLUSH_SECONDS", 5.0)
# How long a web process answers where queued jobs stand in line from one reading of
# the whole line, rather than an aggregate per request (jobs/engine/line.py); 0 asks
# about each job alone.
JOB_LINE_SECONDS = env_float("JOB_LINE_SECONDS", 1.0)
# A running job writes its progress at most this often (stage changes always write).
JOB_PROGRESS_WRITE_SECONDS = env_float("JOB_PROGRESS_WRITE_SECONDS", 1.0)
# A stage's later messages go into the job's log (its history) when they change, at most
# one every JOB_LOG_MESSAGE_SECONDS and JOB_LOG_MESSAGES a stage, the stage's last message
# always among them: a chatty job cannot flood the table.
JOB_LOG_MESSAGE_SECONDS = env_float("JOB_LOG_MESSAGE_SECONDS", 5.0)
JOB_LOG_MESSAGES = env_int("JOB_LOG_MESSAGES", 50)
# Each kind's time budget, in seconds: a job past it stops at its next progress write
# and fails. JOB_BUDGETS overrides per kind, e.g. "review=1200,deep_dive=900".
JOB_DEFAULT_BUDGET_SECONDS = env_int("JOB_DEFAULT_BUDGET_SECONDS", 30 * 60)
JOB_BUDGETS = {
    slug: int(seconds)
    for slug, _, seconds in (item.partition("=") for item in env_list("JOB_BUDGETS"))
}
# The broker's hard limit on one task, above every budget so that a budget stops a job
# cleanly first; the broker's lease is set just above it.
JOB_TIMEOUT_SECONDS = env_int(
    "JOB_TIMEOUT_SECONDS", max([JOB_DEFAULT_BUDGET_SECONDS, *JOB_BUDGETS.values()]) + 5 * 60
)
# Active (queued or running) jobs one user may have at once.
MAX_ACTIVE_JOBS_PER_USER = env_int("MAX_ACTIVE_JOBS_PER_USER", 10)
# Jobs running at once across every worker cluster on the database. Each running job is
# a thread of a worker process, so one worker service carries hundreds of jobs that wait
# on a model (docs/benchmarks.md: 400 in 273 MiB and 7 database connections).
# When all are busy, the highest-priority job starts next, users taking turns within a
# priority.
MAX_CONCURRENT_JOBS = env_int("MAX_CONCURRENT_JOBS", 400)
# Worker processes per cluster: each runs any number of jobs in threads; more than one
# spreads the Python work of many streams over the cores.
Q_WORKERS = env_int("Q_WORKERS", 2)
# Job threads of one worker process that hold a database connection at once. A job
# waiting on a model holds none; its progress and heartbeats go through the process's
# one keeper connection (jobs/engine/worker/keeper.py).
JOB_DB_CONNECTIONS_PER_WORKER = env_int("JOB_DB_CONNECTIONS_PER_WORKER", 4)
# Worker processes run at this niceness, so that on a machine they share with the web
# server, pages answer first while hundreds of jobs start; on Linux the cluster's session
# (its autogroup) too, when the cluster leads it (jobs/engine/queue.py). A burst's starts
# pay for it (docs/benchmarks.md, 6.2); 0 keeps the default priority.
JOB_WORKER_NICE = env_int("JOB_WORKER_NICE", 10)
# CPU-bound steps (profiling a table, ranking, reading a long text) running at once on
# the machine, across every worker process: file locks in JOB_CPU_SLOT_DIR.
JOB_CPU_SLOTS = env_int("JOB_CPU_SLOTS", os.cpu_count() or 1)
JOB_CPU_SLOT_DIR = env_str("JOB_CPU_SLOT_DIR") or str(
    Path(tempfile.gettempdir()) / "long-jobs-cpu-slots"
)

# Documents: only their extracted text is kept. Limits apply per file, per upload and
# per user, each with a message that says which one was reached.
DOCUMENT_MAX_BYTES = env_int("DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)
DOCUMENT_MAX_FILES_PER_UPLOAD = env_int("DOCUMENT_MAX_FILES_PER_UPLOAD", 10)
DOCUMENT_MAX_COUNT = env_int("DOCUMENT_MAX_COUNT", 200)
DOCUMENT_MAX_TOTAL_CHARS = env_int("DOCUMENT_MAX_TOTAL_CHARS", 20_000_000)
DOCUMENT_MAX_PASTE_CHARS = env_int("DOCUMENT_MAX_PASTE_CHARS", 1_000_000)
# An upload is stored as it comes and read by a worker, in a child process held to these
# limits (jobs/analysis/texts/extracting.py): a file past one is refused, naming it.
DOCUMENT_MAX_CHARS = env_int("DOCUMENT_MAX_CHARS", 5_000_000)
DOCUMENT_MAX_PAGES = env_int("DOCUMENT_MAX_PAGES", 2_000)
DOCUMENT_MAX_NESTING = env_int("DOCUMENT_MAX_NESTING", 100)
DOCUMENT_EXTRACT_MEMORY_MB = env_int("DOCUMENT_EXTRACT_MEMORY_MB", 1_024)
DOCUMENT_EXTRACT_SECONDS = env_float("DOCUMENT_EXTRACT_SECONDS", 120.0)
# A request's body past this is refused (413) before it is read (uploads: every file at
# its limit, and room for the form), by jobs/lib/bodies.py; gunicorn.conf.py caps the request
# line and headers, and Django's DATA_UPLOAD_MAX_MEMORY_SIZE the fields besides files.
REQUEST_MAX_BYTES = env_int(
    "REQUEST_MAX_BYTES", DOCUMENT_MAX_FILES_PER_UPLOAD * DOCUMENT_MAX_BYTES + 1024 * 1024
)
# A review reads at most this many documents.
REVIEW_MAX_DOCUMENTS = env_int("REVIEW_MAX_DOCUMENTS", 50)
# Uploads above this size go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# The OpenAI-compatible provider. Unset, every kind runs its offline analysis.
AI_BASE_URL = env_str("AI_BASE_URL")
AI_API_KEY = env_str("AI_API_KEY")
AI_MODEL = env_str("AI_MODEL")
# Per request: connecting, and each wait between streamed chunks.
AI_TIMEOUT_SECONDS = env_float("AI_TIMEOUT_SECONDS", 60.0)
# A 429 waits (Retry-After, capped) and tries again this many times before failing.
AI_MAX_RATE_LIMIT_WAITS = env_int("AI_MAX_RATE_LIMIT_WAITS", 5)
AI_MAX_RETRY_AFTER_SECONDS = env_float("AI_MAX_RETRY_AFTER_SECONDS", 120.0)

# A running job's worker writes a heartbeat this often. A job whose heartbeat is older
# than JOB_UNLOCKED_STALE_SECONDS and whose advisory lock no worker holds (PostgreSQL),
# or older than JOB_STALE_SECONDS whatever its lock (SQLite), lost its worker and is
# queued again, up to MAX_JOB_RETRIES times, then fails with "worker lost". Each worker
# process's sweep thread looks every JOB_SWEEP_SECONDS (0: none; tests only).
JOB_HEARTBEAT_SECONDS = env_float("JOB_HEARTBEAT_SECONDS", 10.0)
JOB_UNLOCKED_STALE_SECONDS = env_float("JOB_UNLOCKED_STALE_SECONDS", 2 * JOB_HEARTBEAT_SECONDS)
JOB_STALE_SECONDS = env_float("JOB_STALE_SECONDS", 60.0)
JOB_SWEEP_SECONDS = env_float("JOB_SWEEP_SECONDS", 5.0)
MAX_JOB_RETRIES = env_int("MAX_JOB_RETRIES", 3)
# A failed attempt that may pass is tried again after about this long, doubling each time.
JOB_RETRY_BASE_SECONDS = env_float("JOB_RETRY_BASE_SECONDS", 10.0)
# A worker whose database goes away mid-job keeps trying this long to record how the
# attempt ended (queued again, to resume), so a PostgreSQL restart strands no job.
JOB_OUTAGE_WAIT_SECONDS = env_float("JOB_OUTAGE_WAIT_SECONDS", 120.0)

# Databases the semantic-model job may profile: Django database aliases. The app's own
# tables are never offered, whichever database they sit in.
SEMANTIC_MODEL_DATABASES = env_list("SEMANTIC_MODEL_DATABASES", "default")
# Rows in the demo loan table that `setup_demo` creates.
DEMO_LOAN_ROWS = env_int("DEMO_LOAN_ROWS", 20_000)

# django-q2 on the ORM broker: the queue is a table in the app's own database, so a
# job and its queue entry are written in one transaction.
Q_CLUSTER = {
    "name": "jobs",
    "orm": "default",
    "workers": Q_WORKERS,
    # Tasks only say "start the best job now", so prefetching a few costs no ordering.
    "queue_limit": Q_WORKERS * 2,
    # A task only hands a job to a thread, so a process would reach django-q2's default
    # of 500 tasks in an hour of busy work, then stop taking tasks until its threads end.
    "recycle": 1_000_000,
    "bulk": 1,
    # How long an idle cluster waits between looks at the queue: a new job starts about
    # half of it after its submission (measured: 0.5 s gave a median 227 ms pickup, 0.2 s
    # 121 ms) for five cheap queries a second per idle cluster.
    "poll": env_float("JOB_PROCESSING_INTERVAL", 0.2),
    "timeout": JOB_TIMEOUT_SECONDS,
    # The lease: a task not acknowledged by then is handed out again. Tests shorten it
    # to prove a second delivery never runs a job twice.
    "retry": env_int("JOB_LEASE_SECONDS", JOB_TIMEOUT_SECONDS + 60),
    "max_attempts": 1,
    "ack_failures": True,
    "save_limit": 1000,
    "catch_up": False,
    "label": "Task queue",
    # How often a cluster checks its processes and reports itself alive (to /health);
    # django-q2's default of 0.5 s doubles the writes for no gain.
    "guard_cycle": 1,
}

# Operations: health, stats, retention.
# Ended jobs, with their history and checkpoints, are deleted once they ended this many
# days ago, and django-q2's task records of that age with them (a daily task, or
# `manage.py prune_jobs`); failed jobs are kept longer, to look into. 0 for either
# keeps those forever. Queued and running jobs are never deleted.
JOB_CLEANUP_DAYS = env_int("JOB_CLEANUP_DAYS", 7)
JOB_CLEANUP_FAILED_DAYS = env_int("JOB_CLEANUP_FAILED_DAYS", 30)
# /health answers 503 while no worker cluster is alive. A web service whose health check
# must pass while the worker is down (deployed separately) turns this off.
HEALTH_REQUIRE_WORKER = env_bool("HEALTH_REQUIRE_WORKER", default=True)
# /health tells anyone only "ok" or "error"; its details (queue counts, clusters, workers,
# the reason) go to staff and to a caller sending `Authorization: Bearer <HEALTH_TOKEN>`.
HEALTH_TOKEN = env_str("HEALTH_TOKEN")
# django-q2 clusters report that they are alive through Django's cache. A table in the
# app's own database lets the web process see clusters running in other processes and
# machines (a per-process memory cache would not); `createcachetable` creates it.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "cluster_status": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "django_q_cluster_status",
        # Each cluster's entry lasts 3 s unless renewed; the list of clusters must not
        # lapse under the default 300 s, or a check could find it empty for an instant.
        "TIMEOUT": None,
    },
}
Q_CLUSTER["cache"] = "cluster_status"
