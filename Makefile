# The two commands a newcomer needs: `make dev` (run everything) and `make test` (run the tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARGS ?=

.PHONY: dev test lint install clean histories

# (Re)install into a project-local virtualenv whenever pyproject.toml changes.
$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $@

install: $(BIN)/.installed

## Run the whole service locally: Temporal dev server + worker + API on embedded defaults.
dev: install
	$(BIN)/partnerflow dev $(ARGS)

## Lint, type-check and run every test (CI runs exactly this).
test: install lint
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Record workflow histories for the replay test (tests/histories/README.md); ARGS=--overwrite to redo.
histories: install
	$(BIN)/python tests/histories/record.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
