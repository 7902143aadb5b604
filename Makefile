# The two commands of the README:
#   make run    install, migrate, load the demo data, train, and serve web + worker + beat
#   make test   install and run the whole test suite
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed
WEB_PORT ?= 8000
export WEB_PORT
# gunicorn and celery default to the production settings; the demo runs on the local ones.
DJANGO_SETTINGS_MODULE ?= retail_site.settings.local
export DJANGO_SETTINGS_MODULE

.PHONY: install run setup test lint bench-tools clean cluster

install: $(STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-nodeps.txt
	touch $(STAMP)

setup: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py setup_demo

run: setup
	@echo "Starting web, worker and beat. Open http://127.0.0.1:$(WEB_PORT)/ (Ctrl-C stops all three)."
	$(BIN)/honcho start -f Procfile

# Web, beat and three workers with their own node names (Procfile.cluster), on the Redis or RabbitMQ
# of CELERY_BROKER_URL and the PostgreSQL of DATABASE_URL: the layout of several machines, on one.
cluster: setup
	@case "$${CELERY_BROKER_URL:-}" in redis://*|amqp://*|pyamqp://*) ;; \
	  *) echo "make cluster needs CELERY_BROKER_URL=redis://... or amqp://... (workers on several machines share it)"; exit 2;; esac
	$(BIN)/honcho start -f Procfile.cluster

test: install
	DJANGO_SETTINGS_MODULE=retail_site.settings.test $(BIN)/python -m pytest $(PYTEST_ARGS)

# The load generator of bench/bench_api.py, in its own environment.
bench-tools: .venv-bench/.installed

.venv-bench/.installed: bench/requirements.txt
	test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip install --quiet -r bench/requirements.txt
	touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf var staticfiles
