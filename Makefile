# Relève — the two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install system-deps lint messages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet ".[test]"
	touch $(STAMP)

install: $(STAMP)

## The whole app on embedded defaults: SQLite, Celery worker + beat on the filesystem broker,
## emails as files under var/mail/ (EMAIL_BACKEND or EMAIL_URL in the environment overrides it).
## Everything it writes is git-ignored (db.sqlite3, var/); it ends on one block saying where
## things are.
RUN_ENV := DEBUG=true EMAIL_BACKEND="$${EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend}"
run: install
	@echo "Relève: migrating the database and seeding the demo world (a minute the first time)…"
	@$(RUN_ENV) $(BIN)/python manage.py migrate --noinput --verbosity 0
	@$(RUN_ENV) $(BIN)/python manage.py seed_demo --verbosity 0
	@$(RUN_ENV) PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/run-all.sh

## Debian packages the tests need (WeasyPrint's libraries, Chromium); a no-op when present.
system-deps:
	bash scripts/system-deps.sh

## The whole suite, on SQLite by default, or on DATABASE_URL / REDIS_URL when set.
test: install system-deps
	DEBUG=true $(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## Refresh the translation catalogues (needs GNU gettext); the compiled .mo files are committed.
messages: install
	bash scripts/messages.sh
