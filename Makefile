# spikeport — `make demo` and `make test` each build .venv on first use.
#
# lava-nc 0.10 needs Python 3.10 exactly. On these machines `python3.10` on PATH may be a
# pyenv shim that fails unless pyenv selects it, so each candidate is *run* before it is used.

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTHON310 ?= $(shell for c in python3.10 $$(pyenv root 2>/dev/null)/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do \
	  if [ -x "$$(command -v $$c 2>/dev/null)" ] && $$c -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then echo $$c; break; fi; done)

.PHONY: all demo test lint venv clean

all: test

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON310)" ]; then \
	  echo "error: no working Python 3.10 found (lava-nc 0.10 requires exactly 3.10)."; \
	  echo "Install it, e.g. 'pyenv install 3.10.13', or 'apt-get install python3.10 python3.10-venv',"; \
	  echo "or pass PYTHON310=/path/to/python3.10 to make."; exit 1; fi
	@echo "building $(VENV) from $(PYTHON310)"
	@test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[events,dev]"
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/spikeport demo

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(VENV)/bin/ruff check spikeport tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
