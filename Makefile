# escalation-sim: set-up, run, test.  `make run` and `make test` work on a fresh clone.
SHELL := /bin/bash
VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed

# A Python >= 3.12 interpreter: python3.12/python3.13 on PATH, else one that pyenv holds.
# (Mesa 3.5 needs 3.12; with an older Python pip silently installs an old Mesa.)
define find_python
for v in 3.12 3.13; do \
  for c in "python$$v" "$$(pyenv root 2>/dev/null)/versions/$$(pyenv versions --bare 2>/dev/null | grep -E "^$$v(\.[0-9]+)?$$" | tail -n 1)/bin/python$$v"; do \
    if "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then command -v "$$c"; exit 0; fi; \
  done; \
done; exit 1
endef
PYTHON ?= $(shell $(find_python))

.PHONY: help setup run test test-fast lint clean figures bench bench-sweep bench-analysis notebooks app golden doc-tables
help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python >= 3.12 not found (install python3.12, or set PYTHON=...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

setup: $(STAMP)  ## create .venv (Python 3.12+) and install the project with its dev tools

run: $(STAMP)  ## run the default scenario (one replicate, 365 days from 2019-10-01)
	$(BIN)/escalation-sim $(ARGS)

# the tests run in one process per core (pytest-xdist); TEST_WORKERS=0 runs them in this one
TEST_WORKERS ?= auto

test: $(STAMP)  ## run the whole test suite, one worker per core
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-fast: $(STAMP)  ## run the tests not marked slow (under 2 minutes)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not slow" $(PYTEST_ARGS)

golden: $(STAMP)  ## regenerate the golden outputs (tests/golden/); only for a change meant to alter the numbers
	$(BIN)/python tests/golden/regenerate.py

doc-tables: $(STAMP)  ## rewrite the doctrine tables of docs/doctrines.md (from configs/doctrine*/) and the coverage table of docs/data.md (from data/)
	$(BIN)/escalation-doctables
	$(BIN)/python -m sim.coverage --doc docs/data.md

lint: $(STAMP)  ## ruff lint and format check
	$(BIN)/ruff check sim tests benchmarks hydra_plugins notebooks
	$(BIN)/ruff format --check sim tests benchmarks hydra_plugins notebooks

app: $(STAMP)  ## start the seminar app on http://127.0.0.1:8765/ (ARGS="--port 8800")
	$(BIN)/escalation-app $(ARGS)

bench-sweep: $(STAMP)  ## time a 1,000-job sweep end to end (joblib_batched launcher); append to benchmarks/sweeps.json
	$(BIN)/escalation-bench --sweep 1000 $(ARGS)

bench-analysis: $(STAMP)  ## time Morris, Sobol and the doctrine tournament at the issue's sizes; append to benchmarks/analysis.json
	$(BIN)/python -m sim.bench_analysis $(ARGS)

bench: $(STAMP)  ## benchmark the Mesa path, ensembles up to 10,000 replicates, a 1,000-point design and a 10,000-replicate command-line run; append to benchmarks/results.json
	$(BIN)/escalation-bench $(ARGS)

clean:  ## remove the virtual environment and caches (keeps results/)
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

figures: $(STAMP)  ## redraw the documentation figures (docs/images/) from their runs
	rm -rf .figures-run
	$(BIN)/escalation-sim hydra.run.dir=.figures-run output.quiet=true
	mkdir -p docs/images && cp .figures-run/figures/timeline.png docs/images/timeline.png
	$(BIN)/escalation-compare doctrine/us=red_line doctrine/us=decapitation doctrine/us=syria_only \
	    --common scenario=dec2019_crisis --replicates 500 --seed 1 --out .figures-run/compare >/dev/null
	cp .figures-run/compare/compare.png docs/images/doctrines.png
	$(BIN)/escalation-validate --events data/events_seeds.csv --replicates 100 scenario=calibrated_seeds --out .figures-run/validation >/dev/null
	cp .figures-run/validation/validation.png docs/images/validation.png
	rm -rf .figures-run

NOTEBOOKS     ?= $(wildcard notebooks/[0-9][0-9]_*.py)
NOTEBOOKS_OUT ?= results/notebooks
notebooks: $(STAMP)  ## run the three notebooks at full size into results/notebooks/ (.ipynb with outputs)
	mkdir -p $(NOTEBOOKS_OUT)
	for f in $(NOTEBOOKS); do \
	  out=$(NOTEBOOKS_OUT)/$$(basename $${f%.py}).ipynb; \
	  $(BIN)/jupytext --quiet --to ipynb -o $$out $$f && $(BIN)/jupyter-execute --inplace $$out || exit 1; \
	done
