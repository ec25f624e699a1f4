# Two commands do all the set-up on a fresh clone (DESIGN section 3):
#   make book  - create .venv if absent, install, build the HTML book into _build/html
#   make test  - create .venv if absent, install, run the unit tests, execute every chapter
#                at scale `tiny`, and build the book with warnings as errors
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
JB := $(VENV)/bin/jupyter-book
STAMP := $(VENV)/.genphys-installed
# The CPU build of torch, installed first where no GPU is present (requirements.txt keeps a range).
TORCH_CPU ?= torch==2.13.0
# Notebook kernels start `python`: put the venv first so they import its genphys.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
QUIET_PIP := grep -v "is ignored: it is neither a file nor a directory" || true

.PHONY: help install book test unit notebooks book-strict clean

help:
	@echo "make book   build the HTML book into _build/html (scale: \$$GENPHYS_SCALE, default cpu or gpu)"
	@echo "make test   unit tests + every chapter at scale tiny + strict book build"
	@echo "make clean  remove build outputs (keeps .venv)"

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "== installing into $(VENV)"
	$(PY) -m pip install -q --upgrade pip 2>&1 | $(QUIET_PIP)
	@if ! command -v nvidia-smi >/dev/null 2>&1 && ! $(PY) -c "import torch" 2>/dev/null; then \
		echo "== no GPU: installing $(TORCH_CPU) first"; \
		$(PY) -m pip install -q "$(TORCH_CPU)" 2>&1 | $(QUIET_PIP); fi
	$(PY) -m pip install -q -r requirements.txt 2>&1 | $(QUIET_PIP)
	$(PY) -m pip install -q --no-deps -e . 2>&1 | $(QUIET_PIP)
	@$(PY) -c "import genphys, torch, jupyter_book; print('== installed genphys', genphys.__version__, 'with torch', torch.__version__)"
	@touch $(STAMP)

book: $(STAMP)
	$(JB) build .
	@echo "== the book is at _build/html/index.html"

test: unit notebooks book-strict book-checks
	@echo "== make test: all passed"

# Two pytest workers on two cores: one BLAS/torch thread each, or they oversubscribe the CPU.
unit: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 tests

notebooks: $(STAMP)
	@nbs="$$($(PY) tests/bookfiles.py notebooks)"; \
	if [ -z "$$nbs" ]; then echo "== no chapter notebooks in _toc.yml yet"; else \
	GENPHYS_SCALE=tiny OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 -p no:cacheprovider --nbmake --nbmake-timeout=300 $$nbs; fi

book-strict: $(STAMP)
	GENPHYS_SCALE=tiny $(JB) build -W --keep-going --path-output _build/tiny .

clean:
	rm -rf _build .pytest_cache

# The built HTML as a reader gets it: static checks and headless Chromium over the strict build
# (tests/test_html_static.py, tests/test_browser.py; the browser test skips where no Chromium is
# installed). `make test` runs this after book-strict.
.PHONY: book-checks
book-checks: $(STAMP)
	$(PY) -m pytest -p no:cacheprovider tests/test_html_static.py tests/test_browser.py tests/test_figures.py
