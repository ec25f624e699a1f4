# Two commands do all the set-up on a fresh clone (DESIGN section 3):
#   make book  - create .venv if absent, install, build the HTML book into _build/html
#   make test  - create .venv if absent, install, run the unit tests (and the torch-free ones on
#                Python 3.10 and 3.13 in throwaway venvs), execute every chapter
#                at scale `tiny` (and its student version, solutions removed), run every chapter
#                on a simulated Colab, and build the book with
#                warnings as errors at `tiny` and at `cpu` (the reader's edition)
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

.PHONY: help install book test unit pythons notebooks colab book-strict book-reader clean

help:
	@echo "make book   build the HTML book into _build/html (scale: \$$GENPHYS_SCALE, default cpu or gpu)"
	@echo "make test   unit tests + torch-free tests on Python 3.10 and 3.13 + every chapter at tiny"
	@echo "            + a simulated Colab + strict builds at tiny and cpu"
	@echo "make assignments  every chapter's student version run at tiny (its self-checks say Not yet)"
	@echo "make pythons  only the torch-free tests on Python $(PYTHONS) (throwaway venvs: core + [test])"
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

# Strict (-W): a cell that raises, a missing glue key or a broken reference fails the build, and
# --keep-going still writes every page, so the failure is both reported and visible.
book: $(STAMP)
	@start=$$(date +%s); $(JB) build -W --keep-going . ; \
	echo "== the book is at _build/html/index.html ($$(( $$(date +%s) - start )) s)"

test: unit pythons notebooks assignments colab book-strict book-reader book-checks
	@echo "== make test: all passed"

# Two pytest workers on two cores: one BLAS/torch thread each, or they oversubscribe the CPU.
unit: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 tests

# The torch-free tests on the oldest and newest supported Pythons (pyenv's builds, else python3.X on
# the PATH), each in a throwaway venv holding only genphys's wheel, the core and [test]
# (tests/pythons.py: about 2 minutes on 2 cores).
PYTHONS ?= 3.10 3.13
pythons: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) tests/pythons.py $(PYTHONS)

notebooks: $(STAMP)
	@nbs="$$($(PY) tests/bookfiles.py notebooks)"; \
	if [ -z "$$nbs" ]; then echo "== no chapter notebooks in _toc.yml yet"; else \
	GENPHYS_SCALE=tiny OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 -p no:cacheprovider --nbmake --nbmake-timeout=300 $$nbs; fi

# Every chapter as an assignment (tests/test_student_versions.py): its student version, solutions removed,
# runs top to bottom at tiny and each self-check answers "Not yet".
.PHONY: assignments
assignments: $(STAMP)
	GENPHYS_SCALE=tiny OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 -p no:cacheprovider -m student tests/test_student_versions.py

book-strict: $(STAMP)
	GENPHYS_SCALE=tiny $(JB) build -W --keep-going --path-output _build/tiny .

# The reader's edition, what `make book` builds without a GPU and what is published: every cell
# executed at scale `cpu`, strictly (its time is printed; DESIGN section 3 allows 8 minutes).
book-reader: $(STAMP)
	@start=$$(date +%s); GENPHYS_SCALE=cpu $(JB) build -W --keep-going . ; \
	echo "== the reader's edition (scale cpu) built in $$(( $$(date +%s) - start )) s"

clean:
	rm -rf _build .pytest_cache

# The built HTML as a reader gets it: static checks and headless Chromium over the strict build
# (tests/test_html_static.py, tests/test_browser.py; the browser test skips where no Chromium is
# installed). `make test` runs this after book-strict.
.PHONY: book-checks
book-checks: $(STAMP)
	$(PY) -m pytest -p no:cacheprovider tests/test_html_static.py tests/test_browser.py tests/test_figures.py
	GENPHYS_HTML=_build/html $(PY) -m pytest -p no:cacheprovider tests/test_html_static.py tests/test_browser.py

# Every chapter top to bottom on a simulated Colab (tests/test_colab.py): Colab's pinned versions in
# .venv-colab, a stand-in google.colab module, the repository cloned from a local copy.
colab: $(STAMP)
	$(PY) -m pytest -p no:cacheprovider -m colab -s tests/test_colab.py
