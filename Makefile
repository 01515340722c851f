# The two commands the README promises: `make demo` and `make test`.
# Both create the virtual environment and install everything they need on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
COMPAT := tests/compat

.PHONY: install demo test test-fast lint typecheck pytest docs package test-real bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(COMPAT)/node_modules/.installed: $(COMPAT)/package.json $(COMPAT)/package-lock.json
	cd $(COMPAT) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: install
	$(BIN)/octorelease demo

lint: install
	$(BIN)/ruff check src tests testing bench

typecheck: install
	$(BIN)/mypy

pytest: install $(COMPAT)/node_modules/.installed
	$(BIN)/pytest

# The documentation site (docs/, mkdocs.yml) into site/; --strict fails on a broken link or anchor,
# a page missing from the nav, or a docstring the API reference cannot read.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# The sdist and the wheel a release publishes (.github/workflows/release.yml builds them the same
# way), into dist/, and their metadata and README checked as PyPI checks them.
package: install
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

test: lint typecheck pytest docs package

# The inner loop: the suite less its slow tests and those needing Chromium or Node (markers given in
# tests/conftest.py); `make test` before landing still runs everything.
test-fast: install
	$(BIN)/pytest -m "not slow and not browser and not node"

# The smoke test against a real Octopus Server: create, deploy and wait, a dry run, promote, in the
# throwaway space OCTORELEASE_TEST_SPACE of OCTORELEASE_TEST_SERVER (key: OCTORELEASE_TEST_API_KEY).
# Unset, it is skipped with one line saying why. See docs/real-server.md.
test-real: install
	$(BIN)/pytest tests/real/test_real_server.py -p no:randomly -rs -o addopts="-q"

# One table: octorelease against the official npm client on the same jobs (a few minutes;
# BENCH_ARGS=--smoke checks the harness in about two, --only SECTION runs one part).
bench: install $(COMPAT)/node_modules/.installed
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(COMPAT)/node_modules site dist
