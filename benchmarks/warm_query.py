"""Warm query latency (as in the UI or `mmqa chat`): one process, components loaded, every dev question.

.venv/bin/python benchmarks/warm_query.py [--home DIR] [--rounds 3]
"""

from __future__ import annotations

import argparse
import logging
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "pdfs"
QA = REPO.parent / "shared" / "eval" / "dev_qa.jsonl"


def main() -> None:
    """Print p50/p95 of query embedding, retrieval, and the whole search and ask calls."""
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=REPO / "benchmarks" / "out" / "home")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from mmqa.evaluation import load_qa, percentile
    from mmqa.service import MMQA
    from mmqa.settings import Settings

    service = MMQA(Settings.load(home=args.home))
    service.ingest([CORPUS])
    questions = [q.question for q in load_qa(QA)]
    service.search(questions[0])  # warm up: model, Chroma, BM25
    timings: dict[str, list[float]] = {"embed": [], "retrieve": [], "search": [], "ask": []}
    for _ in range(args.rounds):
        for question in questions:
            result = service.search(question)
            timings["embed"].append(result.timings_ms["embed"])
            timings["retrieve"].append(result.timings_ms["retrieve"])
            timings["search"].append(sum(result.timings_ms.values()))
            timings["ask"].append(service.ask(question).timings_ms["total"])
    print(f"{len(questions)} questions × {args.rounds} rounds, backend {service.embedder.backend}\n")
    print("| step | p50 (ms) | p95 (ms) |\n|---|---|---|")
    for step, values in timings.items():
        print(f"| {step} | {percentile(values, 50):.1f} | {percentile(values, 95):.1f} |")


if __name__ == "__main__":
    main()
