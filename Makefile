# Robotfabrik: `make demo` runs the product, `make test` runs the whole suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/robotfabrik
PGHOST_ARGS := -h 127.0.0.1 -U postgres

.PHONY: demo test lint bench messages system-deps pgdb oidc-provider

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q ".[test]"
	rm -f $(VENV)/.installed-*
	touch $@

# Debian packages: Chromium for the browser tests, gettext for translations,
# Pango and fonts for WeasyPrint, psql client tools. Installed only when missing.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	command -v createdb >/dev/null || missing="$$missing postgresql-client"; \
	ldconfig -p | grep -q libpango-1.0 || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	fc-list 2>/dev/null | grep -qi dejavu || missing="$$missing fonts-dejavu-core"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

messages: $(STAMP)
	@if [ -d locale ]; then ROBOTFABRIK_DEMO=1 $(PY) manage.py compilemessages -v0 --ignore=.venv --ignore=state; fi

# ROBOTFABRIK_DEMO=1: a local run (a secret key generated in state/, plain HTTP).
demo: $(STAMP) messages
	DATABASE_URL= ROBOTFABRIK_DEMO=1 $(PY) manage.py run_demo

pgdb:
	@psql $(PGHOST_ARGS) -tAc "SELECT 1 FROM pg_database WHERE datname='robotfabrik'" | grep -q 1 \
	  || createdb $(PGHOST_ARGS) robotfabrik

# The tests' OpenID Connect provider (tests/oidc/provider: node-oidc-provider, pinned in
# its package-lock.json); installed when missing.
oidc-provider:
	@command -v npm >/dev/null || { echo "node and npm are needed for tests/oidc"; exit 1; }
	@[ -d tests/oidc/provider/node_modules/oidc-provider ] || npm ci --prefix tests/oidc/provider --no-audit --no-fund

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	DATABASE_URL= ROBOTFABRIK_DEMO=1 $(PY) manage.py makemigrations --check --dry-run -v1

test: system-deps $(STAMP) messages pgdb lint oidc-provider
	$(PY) -m pytest -n 2

bench: $(STAMP) pgdb
	ROBOTFABRIK_DEMO=1 $(PY) bench/inbox.py
	ROBOTFABRIK_DEMO=1 $(PY) bench/roster.py
	ROBOTFABRIK_DEMO=1 $(PY) bench/warm_worker.py -n 10
	ROBOTFABRIK_DEMO=1 $(PY) bench/case_cost.py -n 20 --rate 1 --burst 20 --serve-cases 2
