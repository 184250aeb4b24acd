#!/usr/bin/env bash
# Install (if needed) and run the lint and the whole test suite. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --no-run
.venv/bin/ruff check .
.venv/bin/python -m pytest -q "$@"
