# spikeport — `make demo` and `make test` each build .venv on first use.
#
# .venv is built from the system `python3` if it is >= 3.11, else from the newest working
# python3.13 / python3.12 / python3.11 (on PATH or under pyenv); `make PYTHON=/path/to/python3.x
# test` chooses one (a different interpreter rebuilds .venv). scripts/find_python.sh runs each
# candidate before trusting it: pyenv installs shims that exist and fail.
#
# Lava (lava-nc 0.10.0, the reference fixed-point simulator) is installed into the same venv by
# `python -m spikeport.lava_processes.install`: without dependency resolution (its metadata
# refuses Python >= 3.11 and numpy 2, on which it runs), with the packages it imports, and with
# its one-line fix for Python >= 3.11 (see that module's docstring). `make lava` re-runs it.

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# the interpreter the venv is (or will be) built from; empty when none fits
BASE_PYTHON := $(shell scripts/find_python.sh $(PYTHON))

.PHONY: all demo test lint imports interop lava venv clean check-python

all: test

check-python:
	@if [ -z "$(BASE_PYTHON)" ]; then scripts/find_python.sh $(PYTHON) >/dev/null; exit 1; fi
	@if [ -e $(VENV) ] && [ "$$(readlink -f "$$($(PY) -c 'import sys; print(sys._base_executable)' 2>/dev/null)")" \
	      != "$$(readlink -f $(BASE_PYTHON))" ]; then \
	  echo "$(VENV) was built from another Python; rebuilding it from $(BASE_PYTHON)"; \
	  rm -rf $(VENV); fi

$(STAMP): pyproject.toml spikeport/lava_processes/install.py
	@echo "building $(VENV) from $(BASE_PYTHON) ($$($(BASE_PYTHON) --version))"
	@test -x $(PY) || $(BASE_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[events,dev]"
	$(PY) -m spikeport.lava_processes.install
	@touch $(STAMP)

venv: check-python
	@$(MAKE) --no-print-directory $(STAMP)

lava: venv
	$(PY) -m spikeport.lava_processes.install

demo: venv
	$(VENV)/bin/spikeport demo

test: venv
	$(VENV)/bin/lint-imports --no-cache
	SPIKEPORT_REQUIRE_LAVA=1 $(PY) -m pytest -q -p no:cacheprovider

lint: venv
	$(VENV)/bin/ruff check spikeport tests benchmarks scripts

imports: venv
	$(VENV)/bin/lint-imports --no-cache

# Interop with other projects' own code, in a Python 3.10 side environment (.venv-interop: lava-dl,
# torch, neurobench; several GB, kept out of .venv): netx loads an exported network and runs it on
# Lava, NeuroBench scores the same run. Results: benchmarks/results/interop_*.json.
interop: venv
	PY=$(PY) bash scripts/interop/run.sh

clean:
	rm -rf $(VENV) .venv-interop build *.egg-info
