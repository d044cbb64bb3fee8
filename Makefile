# Two commands do everything on a fresh machine (Python >= 3.10):
#   make demo   train a network with ember and report its accuracy
#   make test   lint, format check and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint format bench notebooks docs diagrams report clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[examples]"
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@

demo: $(VENV)/.demo-installed
	$(BIN)/ember train

test: $(VENV)/.test-installed
	$(BIN)/ruff check src tests bench examples tools
	$(BIN)/ruff format --check src tests bench examples tools
	$(BIN)/python -m pytest

format: $(VENV)/.test-installed
	$(BIN)/ruff format src tests bench examples tools
	$(BIN)/ruff check --fix src tests bench examples tools

bench: $(VENV)/.test-installed
	$(BIN)/python bench/core.py
	$(BIN)/python bench/floor.py
	$(BIN)/python bench/mlp.py
	$(BIN)/python bench/data.py
	$(BIN)/python bench/optim.py
	$(BIN)/python bench/cnn.py

notebooks: $(VENV)/.test-installed
	$(BIN)/python examples/make_notebooks.py

$(VENV)/.docs-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[docs]'
	touch $@

# the documentation site, built without warnings into build/site
docs: $(VENV)/.docs-installed
	$(BIN)/python tools/diagrams.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# class diagrams (mermaid) generated from the code into docs/diagrams/
diagrams: | $(BIN)/python
	$(BIN)/python tools/diagrams.py

# runs the benches and redraws the report's charts and tables (docs/report/)
report: $(VENV)/.test-installed
	$(BIN)/python tools/report.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .ruff_cache
