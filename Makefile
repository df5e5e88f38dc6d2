# One-word tasks. `make run` serves the app, `make test` runs every test.
# Without DATABASE_URL both use the project's own PostgreSQL under .data/ (started by `make db`).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
MANAGE := $(BIN)/python manage.py

.PHONY: run test db db-stop secret-key migrate demo messages lint format check audit clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python >= 3.11 is required (found: $$($(PYTHON) --version))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# The local install's random SECRET_KEY in .data/secret_key, made once (production sets
# SECRET_KEY instead; settings refuse to start with neither).
secret-key: $(STAMP)
	@$(BIN)/python -m crm_site.embedded_db secret-key

# Start (or reuse) the embedded PostgreSQL unless DATABASE_URL points elsewhere.
db: secret-key
ifeq ($(strip $(DATABASE_URL)),)
	@$(BIN)/python -m crm_site.embedded_db start >/dev/null
	@echo "Embedded PostgreSQL is running (data in .data/postgres; stop it with 'make db-stop')."
else
	@echo "Using the database in DATABASE_URL."
endif

db-stop: $(STAMP)
	$(BIN)/python -m crm_site.embedded_db stop

migrate: db
	$(MANAGE) migrate --noinput

demo: migrate
	$(MANAGE) seed_demo

run: migrate
	$(MANAGE) seed_demo --if-empty
	$(MANAGE) collectstatic --noinput --verbosity 0
	@echo "Serving on http://127.0.0.1:8000/ (Ctrl-C to stop)"
	$(BIN)/gunicorn --config crm_site/gunicorn.conf.py crm_site.wsgi

# As root on Debian/Ubuntu, first installs the system packages the tests need (Chromium, the
# libraries of Playwright's driver, gettext) when they are missing; elsewhere says what is.
test: db
	@bash scripts/ensure-system-packages
	$(BIN)/pytest $(PYTEST_ARGS)

# Dutch catalogue: gather the strings (needs GNU gettext), translate the new ones in
# locale/nl/LC_MESSAGES/django.po, then run this again to compile django.mo (committed too).
messages: secret-key
	$(MANAGE) makemessages -l nl --no-location --ignore=.venv --ignore=staticfiles \
		--ignore=bench --ignore=tests --ignore=scripts
	$(MANAGE) compilemessages -l nl --ignore=.venv

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: db
	$(MANAGE) makemigrations --check --dry-run
	DEBUG=False HTTPS=True SECRET_KEY=check-deploy-$$(date +%s)-a-long-random-production-secret-key \
		ALLOWED_HOSTS=crm.example.com $(MANAGE) check --deploy --fail-level WARNING

# Known vulnerabilities in the installed dependencies (asks PyPI's advisory data: needs the
# network, so it is not part of CI; run it before a release and after changing pyproject.toml).
# --strict: a package it could not look up fails the audit instead of passing unseen.
audit: $(STAMP)
	$(BIN)/pip-audit --progress-spinner off --skip-editable --strict

clean:
	rm -rf $(VENV) staticfiles
