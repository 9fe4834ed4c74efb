# The two commands a newcomer needs: `make dev` (run everything) and `make test` (run the tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARGS ?=

.PHONY: dev test lint install lock histories chaos clean

# (Re)install into a project-local virtualenv whenever the lockfile changes: the exact, hashed
# versions of requirements.lock, then the project itself without resolving anything again.
$(BIN)/.installed: pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
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
	$(BIN)/lint-imports

## Re-resolve dependencies from pyproject.toml into requirements.lock (hashes for every file).
lock:
	test -x $(BIN)/pip-compile || $(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --extra dev --generate-hashes --strip-extras --allow-unsafe \
		-o requirements.lock pyproject.toml

## Record workflow histories for the replay test (tests/histories/README.md); ARGS=--overwrite to redo.
histories: install
	$(BIN)/python tests/histories/record.py $(ARGS)

## The chaos suite (not part of `make test`): PostgreSQL, dev server, 1 worker, 2 API processes,
## broken on purpose. ARGS=--partners 30 for a shorter run; docs/measurements.md has the figures.
chaos: install
	$(BIN)/python bench/chaos.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
