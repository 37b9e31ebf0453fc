# SkillsUp portal. `make run` serves the demo; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app skillsup
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=
# Test processes: one per core by default; `make test PYTEST_WORKERS=0` runs in one process.
PYTEST_WORKERS ?= auto

.DEFAULT_GOAL := help
.PHONY: help install install-dev translations db demo run test lint format messages bench screenshots clean oidc-provider

help:
	@echo "make run     install, migrate, load the demo data and serve on http://$(HOST):$(PORT)"
	@echo "make test    install the test tools and run ruff, mypy and the whole test suite"
	@echo "make format  format the code with ruff"
	@echo "make messages  extract translatable text into the catalogues"
	@echo "make bench   load-test the portal on PostgreSQL (results in bench/results/latest.md)"
	@echo "make screenshots  retake the README's pictures of the demo in Chromium (docs/screenshots)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Compiled catalogues are built here from the .po files, never committed.
translations: $(VENV)/.installed
	@if ls skillsup/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel compile --statistics -d skillsup/translations 2>&1 | grep -v '^$$' || true; \
	fi

db: $(VENV)/.installed
	SKILLSUP_ENV=development $(FLASK) db upgrade

demo: db
	SKILLSUP_ENV=development $(FLASK) seed-demo

run: translations demo
	SKILLSUP_ENV=development $(FLASK) run --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The single sign-on tests' OpenID Connect provider (tests/oidc/provider): the npm packages
# of its lock file, installed again only when the lock file is newer than them.
OIDC_PROVIDER := tests/oidc/provider
$(OIDC_PROVIDER)/node_modules/.installed: $(OIDC_PROVIDER)/package-lock.json
	@command -v npm >/dev/null || { echo "the single sign-on tests need Node.js and npm (Debian packages nodejs npm)"; exit 1; }
	cd $(OIDC_PROVIDER) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

oidc-provider: $(OIDC_PROVIDER)/node_modules/.installed

test: $(VENV)/.installed-dev translations oidc-provider
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output --width 100 \
		-o skillsup/translations/messages.pot .
	$(BIN)/pybabel update -i skillsup/translations/messages.pot -d skillsup/translations --width 100 \
		--no-fuzzy-matching

# Load tests against PostgreSQL (SKILLSUP_BENCH_DATABASE_URL, else the local server);
# BENCH_SCALE=0.1 for a quick run. Results: bench/results/latest.md.
bench: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[bench]'
	@command -v wrk >/dev/null || apt-get install -y wrk || { echo "make bench needs wrk (Debian package wrk)"; exit 1; }
	$(BIN)/python -m bench.run

# The README's pictures: the demo served at a fixed moment, photographed in Debian's Chromium
# (never a downloaded browser) with its CJK fonts. `python -m docs.screenshots --help` takes a subset.
screenshots: $(VENV)/.installed-dev translations
	@{ [ -x /usr/bin/chromium ] && dpkg -s fonts-noto-cjk >/dev/null 2>&1; } \
		|| { apt-get update -qq && apt-get install -y chromium fonts-noto-cjk; } \
		|| { echo "make screenshots needs Chromium and CJK fonts (Debian packages chromium fonts-noto-cjk)"; exit 1; }
	$(BIN)/python -m docs.screenshots

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
