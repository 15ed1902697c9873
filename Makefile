# electrolyx: set-up, demo and tests. Everything a fresh clone needs is here.
#   make demo   create .venv, install, run the default case (the DFN 1C discharge) and plot it
#               against PyBaMM; `make demo DEMO_CASE=cases/edl-gouy-chapman NP=2` for another
#   make test   create .venv, install, lint, run the serial tests, then the MPI tests on 2 ranks
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
NP ?= 1
DEMO_CASE ?= cases/dfn-chen2020-1C
DEMO_OUT ?= $(DEMO_CASE)/results
# Peer-code reference overlaid on the demo's figures when the case ships one.
DEMO_REFERENCE = $(if $(wildcard $(DEMO_CASE)/pybamm_voltage_vs_capacity.csv),--reference $(DEMO_CASE)/pybamm_voltage_vs_capacity.csv)
PYTEST_ARGS ?=

.PHONY: venv lock demo test lint test-serial test-mpi browser docs clean bench-venv bench-quick

# requirements.lock pins every package to the versions tested together (constraints: only what
# pyproject.toml asks for is installed, at those versions); docker/Dockerfile runs this target.
$(BIN)/.installed: pyproject.toml requirements.lock scripts/find-python.sh
	@py=$$(./scripts/find-python.sh) || exit 1; \
	echo "Using $$py ($$($$py --version))"; \
	[ -x $(BIN)/python ] || $$py -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[test]"
	@touch $@

venv: $(BIN)/.installed

# Rewrite requirements.lock from the working .venv (after changing dependencies; then make test).
lock: venv
	@head -4 requirements.lock > requirements.lock.new
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^#' >> requirements.lock.new
	mv requirements.lock.new requirements.lock

demo: venv
	$(BIN)/mpiexec -n $(NP) $(BIN)/electrolyx run $(DEMO_CASE) --out $(DEMO_OUT)
	$(BIN)/electrolyx plot $(DEMO_OUT) $(DEMO_REFERENCE)
	$(BIN)/electrolyx report $(DEMO_OUT)
	@echo "Results: $(DEMO_OUT)/ (run.json, timeseries.csv, profiles.csv);" \
	      "fields for ParaView: $(DEMO_OUT)/fields/fields.pvd; figures: $(DEMO_OUT)/figures/;" \
	      "report: $(DEMO_OUT)/report.html"
	@[ -z "$(DEMO_REFERENCE)" ] || echo "Voltage against capacity with PyBaMM overlaid: $(DEMO_OUT)/figures/reference_voltage_V.png"

# PyBaMM for the benchmarks only, in an environment of its own (never a dependency of electrolyx).
BENCH_VENV := .bench-venv
$(BENCH_VENV)/.installed:
	@py=$$(./scripts/find-python.sh) || exit 1; \
	[ -x $(BENCH_VENV)/bin/python ] || $$py -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet pybamm==26.10.1.1
	@touch $@

bench-venv: $(BENCH_VENV)/.installed

# Speed regression guard (issue 18): the 1D DFN's whole-process ratio to PyBaMM and the 3D PNP's
# Newton iteration over one Poisson solve, against the figures in bench/README.md (fails when
# either is more than 20 % worse). Under a minute once both environments exist.
bench-quick: venv bench-venv
	$(BIN)/python bench/quick.py --pybamm $(BENCH_VENV)/bin/python

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The HTML report test opens the page in headless Chromium (Debian's package, installed if missing).
browser:
	./scripts/ensure-chromium.sh

# The serial tests on every core (pytest-xdist; a test file stays on one worker, so its
# module-level fixtures are built once): most of their time is one core compiling forms or
# solving. TEST_WORKERS=0 runs them in this process. A worker that dies (a crash, no Python
# traceback) ends the run at once, naming its test ("worker 'gw0' crashed while running ..."):
# pytest-xdist 3.8 replaces it and runs the test's file again, whose test takes the new worker
# down too, and with --dist loadfile it may then wait for ever (a make test on 2026-12-07 hung
# so at 99 %; reproduced with a test that kills its own process: killed by timeout after 60 s
# with restarts, 1 failed in 3.5 s without).
TEST_WORKERS ?= auto
test-serial: venv browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --max-worker-restart=0 \
	  $(PYTEST_ARGS) tests

# One mpiexec per test file with MPI tests, so that a file that fails or hangs leaves the others
# their own processes. (The "exit 15, no traceback" that first led here was a test signalling
# processes by the word "electrolyx" in their command line: in a clone under .../electrolyx/ it
# hit MPICH's hydra_pmi_proxy and with it the whole process group; the tests now pick the
# electrolyx script itself.) Exit 5 is "no MPI test here".
MPI_FILES = $(shell grep -l "mark.mpi" tests/test_*.py)
test-mpi: venv
	@set -e; for file in $(MPI_FILES); do \
	  echo "== mpiexec -n 2: $$file"; \
	  $(BIN)/mpiexec -n 2 $(BIN)/python -m mpi4py -m pytest -m mpi -p no:cacheprovider \
	    $(PYTEST_ARGS) $$file || [ $$? -eq 5 ]; \
	done

test: lint test-serial test-mpi

# docs/case-format.md is generated from the settings models (a test checks it is current).
docs: venv
	$(BIN)/electrolyx docs > docs/case-format.md

clean:
	rm -rf $(VENV) build *.egg-info
