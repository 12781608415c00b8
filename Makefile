# The two set-up commands: `make run` (portal with demo data) and `make test` (the whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: install setup run lint test audit bench load backup restore clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

setup: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_regions
	$(BIN)/python manage.py load_reference
	$(BIN)/python manage.py seed_demo

# Web server, Celery worker and beat side by side; Ctrl-C stops all three.
run: setup
	$(BIN)/honcho --procfile Procfile.dev start

# Static checks before the tests: ruff (rules in pyproject.toml), its formatting, and the apps'
# layers (import-linter, contract in pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Known vulnerabilities of the installed packages (pip-audit); see .ci/audit.py for what a skip means.
audit: install
	$(BIN)/python .ci/audit.py

# Speed and memory against measured floors; figures go to docs/benchmarks.md.
# make bench BENCH_ARGS="--quick" or BENCH_ARGS="--database-url postgres://portal:portal@127.0.0.1:5432/postgres"
bench: install
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# 200 county clerks against the deployment's parts on loopback (nginx, two gunicorns, PostgreSQL,
# Redis, S3, Celery workers); LOAD_ARGS=--faults for the fault run. Figures to docs/benchmarks.md.
# make load LOAD_ARGS="--quick" (20 users) or LOAD_ARGS="--request-timeout 200" on a busy machine
load: install
	$(BIN)/python benchmarks/load.py $(LOAD_ARGS)

# Database dump, every media object and manifest.json (docs/operations.md): make backup [BACKUP_DIR=…]
backup: install
	$(BIN)/python manage.py backup $(if $(BACKUP_DIR),--output $(BACKUP_DIR))

# Into an EMPTY database and media store only, then checked against the manifest: make restore BACKUP=<dir>
restore: install
	@test -n "$(BACKUP)" || { echo "用法：make restore BACKUP=<备份目录>"; exit 2; }
	$(BIN)/python manage.py restore $(BACKUP)

clean:
	rm -rf var .pytest_cache
