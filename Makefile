# The two commands: `make run` (ModelShip on SQLite + a local broker + a real worker) and `make test`.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
# The stamp is named by the requirement files' content, not dated by them: a fresh clone (new file
# times) with a ready environment installs nothing, and any change to either file installs again.
REQ_HASH := $(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)
STAMP := $(VENV)/.modelship-$(REQ_HASH)
# uv installs the pinned requirements several times faster than pip (bench/first_start.sh), from the
# sources pip is configured with (scripts/pip_sources.py); INSTALLER=pip uses pip alone, and pip
# takes over if uv cannot be had.
INSTALLER ?= uv
UV_VERSION := 0.13.8

.PHONY: run test install lint migrations-check

$(STAMP):
	@echo "==> Installing the Python dependencies into $(VENV) (first start only; each package is listed as it installs)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	if [ "$(INSTALLER)" = uv ] && $(PY) -m pip install --progress-bar on uv==$(UV_VERSION); then \
	  $(VENV)/bin/uv pip install --python $(PY) $$($(PY) scripts/pip_sources.py) -r requirements-dev.txt; \
	else \
	  $(PY) -m pip install --progress-bar on -r requirements-dev.txt; \
	fi
	rm -f $(VENV)/.modelship-*
	touch $@

install: $(STAMP)

run: install
	$(PY) -m modelship.embedded

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .

migrations-check: install
	$(PY) manage.py makemigrations --check --dry-run
