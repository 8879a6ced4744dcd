# lendline — the handful of commands a newcomer needs.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: demo test bench lint deps test-deps services clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.deps

deps: $(VENV)/.deps
	./scripts/apt-deps.sh

test-deps: $(VENV)/.test-deps
	./scripts/apt-deps.sh

services:
	./scripts/ensure-services.sh

## make demo: install, create the SQLite database, seed demo data, serve, print the URLs
demo: deps
	$(BIN)/lendline demo

## make test: install test dependencies, start PostgreSQL/Redis if down, run the whole suite
test: test-deps services
	$(BIN)/pytest $(PYTEST_ARGS)

## make bench: every benchmark, printing measured figures
bench: test-deps services
	$(BIN)/lendline bench routing
	$(BIN)/lendline bench routing-erlang
	$(BIN)/lendline bench nlu
	$(BIN)/lendline bench dialogue
	$(BIN)/lendline bench sip
	$(BIN)/lendline bench media
	$(BIN)/lendline bench desktop
	$(BIN)/lendline bench vault
	$(BIN)/lendline simulate scenarios/loan-center.yaml --compare
	$(BIN)/lendline campaign simulate campaigns/collection-m1.yaml

lint: test-deps
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy --strict src

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
