# gangmap: two commands to start (see README): `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install demo test lab bench clean strip-notebooks hooks

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
