# The interface for people: `make run`, `make test`, `make bench`, `make lint`, `make vendor`.
# Every target bootstraps what is missing and is idempotent.
SHELL    := /bin/bash
VENV     ?= .venv
PY       := $(VENV)/bin/python
PYTHON   ?= python3
APT_PKGS := libdmtx0b chromium poppler-utils fonts-dejavu-core postgresql socat openssl
HTMX     := 2.0.11
HTMX_SSE := 2.2.4

# The modules whose docstring examples run in `make test`: the pure core and the drivers, none imports Flask.
# A module that becomes a package is listed by its folder; tests/test_doctests.py fails when one is missing.
DOCTESTS := warehouse/codes.py warehouse/canonical.py warehouse/identifiers.py warehouse/messages.py \
            warehouse/vocab.py warehouse/layouts.py warehouse/matching.py warehouse/transfer_act warehouse/signing/cms.py \
            warehouse/signing/acceptance.py warehouse/signing/verdict.py warehouse/station warehouse/events.py reports/codes_text.py hardware \
            warehouse/scan_limits.py warehouse/services/devices.py warehouse/operator/outbox.py warehouse/operator/decision.py warehouse/operator/cis.py

.PHONY: run test bench lint vendor setup sysdeps i18n clean
.DEFAULT_GOAL := run

setup: sysdeps $(VENV)/.installed

# apt only when a package is missing; without root, print the exact command and stop.
sysdeps:
	@missing=$$(for p in $(APT_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$(echo $$missing)"; \
	  if [ "$$(id -u)" = 0 ]; then echo "installing: $$missing"; bash -c "$$cmd"; \
	  else echo "Missing Debian packages: $$missing. Run as root:"; echo "  sudo sh -c '$$cmd'"; exit 1; fi; \
	fi

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

# `make run OPERATOR=1`: the station beside an operator emulator where a demo act waits (README).
run: setup
	$(VENV)/bin/warehouse db upgrade
ifdef OPERATOR
	$(VENV)/bin/warehouse demo --operator --port 5000
else
	$(VENV)/bin/warehouse demo
	$(VENV)/bin/warehouse run --host 127.0.0.1 --port 5000
endif

test: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m pytest -q --doctest-modules $(DOCTESTS)
	$(PY) -m pytest -q

bench: setup
	@for b in tests/bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done
	@echo "figures also in bench-results/*.json"

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

# Extract, update and compile the Russian, Kazakh and English catalogs.
i18n: setup
	$(VENV)/bin/pybabel extract -w 120 -F babel.cfg -k _l -k lazy_gettext -k N_ -o warehouse/translations/messages.pot .
	$(VENV)/bin/pybabel update -w 120 -i warehouse/translations/messages.pot -d warehouse/translations --no-fuzzy-matching
	$(VENV)/bin/pybabel compile -d warehouse/translations

# Refresh the vendored htmx from npm; the files and their sha256 are committed, so set-up never needs npm.
vendor:
	cd $$(mktemp -d) && npm pack -q htmx.org@$(HTMX) htmx-ext-sse@$(HTMX_SSE) >/dev/null && \
	  tar -xzf htmx.org-$(HTMX).tgz package/dist/htmx.min.js && tar -xzf htmx-ext-sse-$(HTMX_SSE).tgz package/dist/sse.min.js && \
	  cp package/dist/htmx.min.js package/dist/sse.min.js $(CURDIR)/static/vendor/
	cd static/vendor && sha256sum htmx.min.js sse.min.js > SHA256SUMS

clean:
	rm -rf $(VENV) instance test-artifacts
