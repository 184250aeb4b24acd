#!/usr/bin/env bash
# Set up mmqa in .venv inside this checkout, then run the main job: ingest papers and ask a first question.
#   bash scripts/setup.sh [PDF_FOLDER]   # default folder: ../shared/corpus/pdfs
#   bash scripts/setup.sh --no-run       # install only
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
"$PY" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' \
  || { echo "mmqa needs Python 3.11 (found: $("$PY" --version 2>&1))" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored: it is neither" || true
# torch first, from the local CPU wheel: anything that pulls torch before this downloads GBs of CUDA.
.venv/bin/python -m pip install -q torch==2.13.0 2>&1 | grep -v "is ignored: it is neither" || true
.venv/bin/python -m pip install -q -e ".[dev]" 2>&1 | grep -v "is ignored: it is neither" || true
.venv/bin/python -c "import mmqa, torch, chromadb, sentence_transformers" \
  || { echo "setup failed: mmqa did not install into .venv" >&2; exit 1; }
echo "mmqa installed: .venv/bin/mmqa" >&2

if [ "${1:-}" = "--no-run" ]; then
  exit 0
fi
FOLDER=${1:-../shared/corpus/pdfs}
[ -d "$FOLDER" ] || { echo "no such folder: $FOLDER (give a folder of PDFs)" >&2; exit 1; }
.venv/bin/mmqa ingest "$FOLDER"
.venv/bin/mmqa ask "What is multi-head attention and why is it used?"
