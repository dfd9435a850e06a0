# One entry point for developers, CI and the README quickstart.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTRAS ?= dev,local,bench
LOCAL_WORKER ?= smollm2-135m-instruct

.PHONY: install install-node-tools lint typecheck test test-live bench quickstart clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The `local` extra compiles llama-cpp-python the first time (about 6 minutes on 2 cores);
# pip caches the built wheel, so later installs take seconds.
install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	$(MAKE) --no-print-directory install-node-tools

# Optional Node.js tools, pinned by lock files (npm caches the downloads):
# - tools/typescript: the compiler the interview type-checks worker code with (without it, codegen
#   is judged by parsing only and cannot qualify);
# - tools/inspector: the MCP Inspector CLI, a client nobody on the team wrote, used by the tests
#   (`npm install`, not `npm ci`: one of vite's optional dependencies is not on the registry, so
#   the lock file cannot list it and `npm ci` refuses; the lock still pins every other version).
install-node-tools:
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tools/typescript --no-audit --no-fund --loglevel=error && \
		npm install --prefix tools/inspector --no-save --no-audit --no-fund --loglevel=error; \
	else \
		echo "Node.js not found: skipping tools/typescript and tools/inspector"; \
	fi

lint: install
	$(BIN)/ruff check agent_orchestrator tests bench
	$(BIN)/ruff format --check agent_orchestrator tests bench
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/pyright

test: install
	$(BIN)/python -m pytest

test-live: install
	$(BIN)/python -m pytest -m live

bench: install
	cd bench && ../$(BIN)/python interview_concurrency.py
	cd bench && PATH="$(abspath $(BIN)):$$PATH" ../$(BIN)/python cli_startup.py
	cd bench && PATH="$(abspath $(BIN)):$$PATH" ../$(BIN)/python cold_start.py
	cd bench && ../$(BIN)/python tools_list_tokens.py
	cd bench && ../$(BIN)/python inspector_call.py
	cd bench && ../$(BIN)/python policy_checks.py
	cd bench && ../$(BIN)/python leader_worker.py
	cd bench && ../$(BIN)/python resilience.py
	cd bench && ../$(BIN)/python durable_overhead.py
	cd bench && ../$(BIN)/python durable_restart.py
	cd bench && ../$(BIN)/python durable_scaleout.py
	cd bench && ../$(BIN)/python interview_deadline.py --latency 3 --timeout 6  # the 90 s / 180 s figure: no flags

# Set up from a clean clone and interview the embedded local worker: no API key, no network.
quickstart:
	$(MAKE) --no-print-directory install EXTRAS=local
	$(BIN)/ao models list
	$(BIN)/ao worker interview --provider local --model $(LOCAL_WORKER) --save; test $$? -le 1
	$(BIN)/ao worker list

clean:
	rm -rf $(VENV) tools/typescript/node_modules .pytest_cache .ruff_cache
