# 再生资源信息服务平台 — the two commands people need are `make run` and `make test`.
# Needs only Python 3.11 (python3.11 if present, else python3; override with PYTHON=...).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements.stamp
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# Sources scanned for translatable strings (`make messages`, and the catalogue check in CI).
MESSAGES_ARGS := -l zh_Hans -l en --ignore=.venv --ignore=staticfiles --ignore=media --ignore=node_modules \
	--ignore=tests --ignore=bench

.PHONY: help run test venv lint format messages check-messages clean

help:
	@echo "make run             set up, migrate, load the demo data and serve http://$(HOST):$(PORT)/"
	@echo "make test            the test suite on the embedded default (SQLite, in-memory channel layer)"
	@echo "                     (PYTEST_ARGS='-k bid' to pass options; DATABASE_URL/REDIS_URL to use real services)"
	@echo "make lint            ruff check + ruff format --check"
	@echo "make format          ruff format + ruff check --fix"
	@echo "make messages        update and compile the zh_Hans and en catalogues (needs GNU gettext)"
	@echo "make check-messages  fail if a translatable string is missing from the catalogues (CI)"
	@echo "make clean           remove the virtualenv, caches and collected static files"

# Serves until Ctrl-C. Every process of the platform (Daphne, the auction clock) is started in
# the background inside one shell; the first to exit (or Ctrl-C) ends the recipe and the trap
# stops the others.
run: venv
	$(MANAGE) migrate --noinput
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) load_demo
	@echo "Serving on http://$(HOST):$(PORT)/ — API docs at http://$(HOST):$(PORT)/api/v1/docs/ (Ctrl-C stops)"
	@trap 'kill $$(jobs -p) 2>/dev/null || true; wait' EXIT; \
	trap 'exit 130' INT TERM; \
	$(BIN)/daphne -b $(HOST) -p $(PORT) recycling.asgi:application & \
	$(MANAGE) run_auction_clock & \
	$(MANAGE) run_logistics_clock & \
	wait -n

# pytest-django builds its own test database (SQLite: in memory), so db.sqlite3 is never used.
# Exit code 5 ("no tests collected") fails like any other non-zero code.
test: venv
	@rc=0; $(BIN)/pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; \
	exit $$rc

venv: $(STAMP)

$(STAMP): requirements.txt
	@if [ -z "$(PYTHON)" ]; then echo "No python3.11 or python3 found: install Python 3.11 or pass PYTHON=..." >&2; exit 1; fi
	@if [ ! -x $(BIN)/python ]; then echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); fi
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -r requirements.txt
	@touch $@

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: venv
	$(MANAGE) makemessages $(MESSAGES_ARGS)
	$(MANAGE) compilemessages --ignore=.venv

check-messages: venv
	$(BIN)/python .ci/check_messages.py $(MESSAGES_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
