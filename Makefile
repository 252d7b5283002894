# Two commands: `make run` (set up and launch Desk) and `make test` (set up and run all tests).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test setup lint bench

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Desk needs Python 3.11 ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip wheel
	# The CPU build of torch first: an unpinned torch would pull a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	@# the ONNX embedder files, made once here rather than at a lawyer's first import
	$(PY) -m desk.index.embedder
	touch $(STAMP)

setup: $(STAMP)

MODEL_STAMP := $(VENV)/.default-model

$(MODEL_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,default-model]'
	touch $(MODEL_STAMP)

run: $(MODEL_STAMP)
	@# the window's system libraries (Linux xcb): names the apt-get command if any are missing
	$(PY) -m desk.ui.system_libs
	$(VENV)/bin/desk

lint: $(STAMP)
	$(VENV)/bin/ruff check desk tests
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: $(STAMP) lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: $(STAMP)
	$(VENV)/bin/desk bench --pdfs ../shared/data/cuad-dev/pdf --set ../shared/data/cuad-dev/cuad-dev.json --scale-chunks 100000
