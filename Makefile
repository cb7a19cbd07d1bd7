# The two commands of the README: `make run` (install + run the bot), `make test` (install + test).
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: install run test lint format

$(BIN)/tsunagi: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/tsunagi

run: install
	$(BIN)/tsunagi db upgrade
	@if [ -n "$$TSUNAGI_ORG_FILE" ]; then $(BIN)/tsunagi org load "$$TSUNAGI_ORG_FILE"; fi
	$(BIN)/tsunagi run $(ARGS)

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest $(PYTEST_ARGS)

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
