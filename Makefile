# The two commands: `make run` (ModelShip on SQLite + a local broker + a real worker) and `make test`.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
REQ_HASH := $(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)
STAMP := $(VENV)/.modelship-$(REQ_HASH)

.PHONY: run test install lint migrations-check

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(STAMP)

run: install
	$(PY) -m modelship.embedded

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m mypy

migrations-check: install
	$(PY) manage.py makemigrations --check --dry-run
