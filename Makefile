# attune-packs: `make demo` and `make test` are the two commands.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP_RUN  := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test lint unit bench examples clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

lint: $(STAMP_TEST)
	$(BIN)/ruff check attune_packs migrations tests benchmarks scripts
	$(BIN)/ruff format --check attune_packs migrations tests benchmarks scripts

unit: $(STAMP_TEST)
	$(BIN)/python -m pytest -q

test: lint unit

bench: $(STAMP_RUN)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/run_all.py

examples: $(STAMP_RUN)
	$(BIN)/python scripts/build_examples.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
