# The two commands of README.md:
#   make demo   install everything into .venv and run the main job on the embedded demo
#   make test   install what the tests need into .venv and run the whole suite
# Both are idempotent: a second run reuses the environment (tools/install.sh stamps it).
# Also: make docs   the HTML API reference from the docstrings (offline, Sphinx), into
#                   docs/_build/html; any Sphinx warning fails it
#
# WHEEL_DIR: a folder that may hold a prebuilt mmcv 2.1.0 wheel (saves a 10-minute
# compile). Defaults to ../shared/wheels when that folder exists, else none.
PYTHON    ?= python3
VENV      ?= .venv
WHEEL_DIR ?= $(wildcard ../shared/wheels)
PYTEST_ARGS ?=

INSTALL = PYTHON=$(PYTHON) tools/install.sh --venv $(VENV) $(if $(WHEEL_DIR),--wheel-dir $(WHEEL_DIR))

.PHONY: install install-tests demo test docs lint clean-venv

install:
	$(INSTALL)

install-tests:
	$(INSTALL) --tests

demo: install
	$(VENV)/bin/python tools/demo.py

test: install-tests
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

docs: install-tests
	$(VENV)/bin/python -m sphinx -b html -W --keep-going -q docs/api docs/_build/html
	@echo "API reference: docs/_build/html/index.html"

lint: install-tests
	$(VENV)/bin/python -m flake8 uniremoval_mm tools tests configs
	$(VENV)/bin/python -m isort --check-only --diff uniremoval_mm tools tests configs

clean-venv:
	rm -rf $(VENV)
