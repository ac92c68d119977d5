# Set-up, tests and the demo. `make demo` and `make test` work on a fresh machine with
# python3 (3.11+) and make; they create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup test test-fast demo lint typecheck browser clean-demo

setup: $(VENV)/.kgx-installed

# (re-run when the version in kgx/__init__.py changes: pip records it at install time)
# torch first, from the pinned CPU build: a plain `torch` requirement resolved by pip
# alongside the rest would pull a multi-GB CUDA build
$(VENV)/.kgx-installed: pyproject.toml kgx/__init__.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -U pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[all,dev]"
	touch $@

# the whole suite, slow tests included (what CI runs)
test: setup
	$(BIN)/python -m pytest -q -ra

# the quick loop while developing
test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

lint: setup
	$(BIN)/ruff check kgx tests benchmarks corpora

# mypy on the package, configured in pyproject.toml ([tool.mypy])
typecheck: setup
	$(BIN)/mypy kgx

# the browser used by the HTML-view tests (Debian/Ubuntu, as root); they skip without it
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium chromium-driver)

# convert the demo corpus, train, extract, graph, RDF, embedded store, queries, HTML view
demo: setup
	$(BIN)/python -m spacy project run demo

clean-demo:
	rm -rf corpus training/demo exports/demo
