# gangmap: two commands to start (see README): `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install demo test test-fast lint typecheck check lab bench clean strip-notebooks hooks

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)  ## create .venv if missing and install gangmap with its test tools

demo: install  ## build the demo maps from the fictional county and print where they are
	$(BIN)/gangmap demo --out demo-output

test: install  ## run the whole suite (browser tests need /usr/bin/chromium)
	$(BIN)/python -m pytest

test-fast: install  ## the inner loop: no browser, JupyterLab, notebook or real-data tests (about a minute)
	GANGMAP_FAST=1 $(BIN)/python -m pytest -m "not browser and not jupyterlab and not notebook and not realdata"

lint: install  ## ruff: lint and import order
	$(BIN)/ruff check gangmap tests benchmarks tools

typecheck: install  ## mypy on the public API (files listed in pyproject.toml)
	$(BIN)/mypy

check: lint typecheck  ## lint and type checks (what CI runs before the tests)

lab: install  ## open the notebooks in JupyterLab on the project's environment
	$(BIN)/python -m ipykernel install --user --name gangmap --display-name "gangmap (.venv)" >/dev/null
	$(BIN)/jupyter lab notebooks/

bench: install  ## print the performance tables (needs ../shared/data)
	$(BIN)/python benchmarks/run.py

strip-notebooks:  ## remove outputs and execution counts from notebooks/*.ipynb
	$(BIN)/python tools/nbstrip.py notebooks/*.ipynb

hooks:  ## install the git pre-commit hook that strips notebook outputs
	git config core.hooksPath .githooks

clean:
	rm -rf $(VENV) demo-output .pytest_cache
