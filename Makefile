# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# daphne refuses frames over this size outright; the app refuses frames over 64 KiB with
# a `too_large` error first (see docs/protocol.md).
DAPHNE_LIMITS := --websocket-max-message-size 131072 --websocket-max-frame-size 131072

.PHONY: run test lint format serve

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $@ $(VENV)/.installed

# Development only: the engine's compile cache under var/ (the developer's own), so a
# second `make run` starts in a fraction of a second instead of compiling for seconds.
run: export PEERCHAT_ENGINE_CACHE_DIR ?= $(CURDIR)/var/engine-cache
run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/daphne -b $(HOST) -p $(PORT) $(DAPHNE_LIMITS) server.asgi:application

serve: $(VENV)/.installed
	$(BIN)/daphne -b $(HOST) -p $(PORT) $(DAPHNE_LIMITS) server.asgi:application

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)
