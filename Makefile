# attune-packs: `make demo` and `make test` are the two commands.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP_RUN  := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test lint unit bench examples constraints clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# constraints.txt pins every dependency of the test environment, so that a new
# release of a library cannot turn a fresh clone red; refresh it on purpose
# (make constraints) and let CI prove the new set.
$(STAMP_RUN): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $@

$(STAMP_TEST): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

lint: $(STAMP_TEST)
	$(BIN)/ruff check attune_packs migrations tests benchmarks scripts
	$(BIN)/ruff format --check attune_packs migrations tests benchmarks scripts

# Two workers: the suite is mostly in-process CLI runs and file work (2-core machines).
unit: $(STAMP_TEST)
	$(BIN)/python -m pytest -q -n 2

test: lint unit

bench: $(STAMP_RUN)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/run_all.py

examples: $(STAMP_RUN)
	$(BIN)/python scripts/build_examples.py

constraints: $(STAMP_TEST)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^attune-packs' > constraints.txt

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
