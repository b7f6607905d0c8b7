# Two entry points do all set-up on a fresh machine (Python 3.11+, nothing else):
#   make demo   runs the bundled race-audit workflow on the offline sim model
#   make test   runs the linter and the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	FANFLOW_SIM_LATENCY=$${FANFLOW_SIM_LATENCY:-0.3} $(BIN)/fanflow run examples/race_audit/audit.py --model sim --yes

lint: $(STAMP)
	$(BIN)/ruff check src tests examples bench
	$(BIN)/ruff format --check src tests examples bench

test: lint
	$(BIN)/pytest -q

format: $(STAMP)
	$(BIN)/ruff format src tests examples bench
	$(BIN)/ruff check --fix src tests examples bench

bench: $(STAMP)
	$(BIN)/python bench/overhead.py
	$(BIN)/python bench/provider_overhead.py
	$(BIN)/python bench/suite.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
