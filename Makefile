# Task runner: `make run` starts the app, `make test` runs every test. See README.md.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
PORT ?= 8000
# Links in e-mails point at the port the app runs on, unless SITE_URL says otherwise.
SITE_URL ?= http://localhost:$(PORT)
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/longjobs
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: run setup test lint format migrations-check chromium ci clean

# Set everything up (virtualenv, install, migrate, demo user and data), then run web and
# worker on http://localhost:$(PORT) (another port: make run PORT=8080).
run: setup
	PORT=$(PORT) SITE_URL=$(SITE_URL) $(BIN)/honcho start -f Procfile web worker

# Install, migrate and create the demo user and data, without starting anything.
setup: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py setup_demo

# Run the whole test suite (unit, worker and browser tests) on PostgreSQL.
test: $(VENV)/.installed chromium
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest $(PYTEST_ARGS)

# Lint, check formatting, and check that imports run one way (pyproject.toml's contracts).
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Format the code in place.
format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Fail when a model change has no migration.
migrations-check: $(VENV)/.installed
	$(BIN)/python manage.py makemigrations --check --dry-run

# Everything CI checks.
ci: lint migrations-check test

# The virtualenv, rebuilt when a requirements file changes. Needs Python 3.12+ (Django 6).
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Python 3.12 or newer is needed (Django 6.1); $(PYTHON) is " + sys.version.split()[0] + ". Install it (for example: pyenv install 3.12) or run: make PYTHON=/path/to/python3.12 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
chromium:
	@command -v chromium >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else echo "Browser tests need Debian's Chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

# Remove the virtualenv, the SQLite database and collected static files.
clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-shm db.sqlite3-wal staticfiles
