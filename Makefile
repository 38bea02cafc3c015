# NovaDesk — `make run` serves the demo on http://127.0.0.1:5000, `make test` runs every test.
VENV := .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: run test install install-dev lint migrate clean-db translations messages widget cluster cluster-stop

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

tests/browser/node_modules/.installed: tests/browser/package.json tests/browser/package-lock.json
	@if command -v npm >/dev/null; then cd tests/browser && npm ci --no-audit --no-fund --silent && touch node_modules/.installed; \
	else echo "npm not found: the browser tests will be skipped"; fi

# Compiled message catalogues are built, not committed.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d app/translations >/dev/null

# After changing user-facing strings: refresh the English catalogue, translate, commit the .po.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location -o instance/messages.pot .
	$(BIN)/pybabel update --omit-header -i instance/messages.pot -d app/translations -l en

install: $(VENV)/.installed translations

# The chat widget's sources are bundled into app/static/widget/ (committed: `make run` needs no
# Node); `make widget` rebuilds it, and a test checks that it matches its sources.
widget/node_modules/.installed: widget/package.json widget/package-lock.json
	@if command -v npm >/dev/null; then cd widget && npm ci --no-audit --no-fund --silent && touch node_modules/.installed; \
	else echo "npm not found: the widget build check will be skipped"; fi

widget: widget/node_modules/.installed
	cd widget && npm run build

install-dev: $(VENV)/.dev-installed translations tests/browser/node_modules/.installed widget/node_modules/.installed

# Migrate the SQLite file under instance/, load the demo data if the database is empty, serve
# in demo mode (the demo partner page and its widget channel; never in production).
run: export DEMO_MODE ?= 1
run: install
	$(BIN)/flask novadesk init
	$(BIN)/python run.py

test: install-dev
	$(BIN)/pytest

# ruff, then the layers of app/ (pyproject.toml [tool.importlinter]; `make test` checks them too).
lint: install-dev
	$(BIN)/ruff check app tests seeds bench config.py run.py
	$(BIN)/lint-imports

migrate: install
	$(BIN)/flask db upgrade

clean-db:
	rm -f instance/novadesk.db

# The reference deployment on this machine: PostgreSQL, Redis, two gunicorn nodes, two workers,
# HAProxy on http://127.0.0.1:8080 (Debian packages postgresql, redis-server, haproxy).
cluster: install
	deploy/cluster.sh start

cluster-stop:
	deploy/cluster.sh stop
