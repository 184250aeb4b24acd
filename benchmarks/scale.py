"""Scale: ingest time, index size on disk, peak RSS, query latency and cold `mmqa ask` as the corpus grows
(6 → 50 → 200 papers), through a Chroma server, on real papers and then synthetic perturbed copies of them
(see synthetic_corpus.py).

    .venv/bin/python benchmarks/scale.py [--sizes 6,50,200] [--max-pages 12] [--rounds 3] [--json]
    .venv/bin/python benchmarks/scale.py --real 2 --sizes 2,4 --max-pages 3     # smoke run, a few minutes
    .venv/bin/python benchmarks/scale.py --neighbourhood --sizes 6,54,200,400   # real 6 -> 54, then synthetic

Each size ingests the folder holding papers 1..size into the same index, so the ingest figures are those
of the increment (papers already indexed come back unchanged). Queries: the dev questions × rounds, warm,
in one process; hit@5 over the answerable ones shows what the synthetic distractors do to retrieval.
Cold ask: `mmqa ask` in a new process against the server, median of --cold-runs, side by side with the
bare import floor (`python -c "import chromadb, onnxruntime, tokenizers"`) run in the same loop.
The ingest of the real papers gives pages/s, from which the report projects a corpus of N real papers.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import logging
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synthetic_corpus import CORPUS, LINE_CHARS, PAGE_LINES, REPO, SyntheticCorpus, smallest_real  # the script's folder

QA = REPO.parent / "shared" / "eval" / "dev_qa.jsonl"


# -- the Chroma server ------------------------------------------------------------------------------
def free_port() -> int:
    """A TCP port nobody listens on right now (127.0.0.1)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def chroma_server(data: Path, log: Path, timeout: float = 60) -> Iterator[str]:
    """Run ``chroma run`` on ``data`` on a free port until the block ends (also on errors and Ctrl-C); yield its URL."""
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_heartbeat(port, proc, timeout)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_for_heartbeat(port: int, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Chroma server exited with code {proc.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the Chroma server did not answer within {timeout:.0f} s")


# -- measuring --------------------------------------------------------------------------------------
def make_service(home: Path, chroma_url: str, models: Path) -> Any:
    """An MMQA service on ``home`` whose chunks live in the Chroma server (extractive answers, no LLM)."""
    from mmqa.service import MMQA
    from mmqa.settings import Settings

    settings = Settings.load(home=home, chroma_url=chroma_url, llm="", **{"embedding.models_dir": models})
    return MMQA(settings)


def ingest_step(service: Any, folder: Path) -> dict[str, Any]:
    """Ingest ``folder`` and time it: seconds, and the papers/pages/chunks it added (the rest were unchanged)."""
    started = time.perf_counter()
    report = service.ingest([folder])
    seconds = time.perf_counter() - started
    added = [f for f in report.files if f.status in ("added", "updated")]
    pages = sum(f.pages for f in added)
    return {
        "ingest_s": seconds,
        "added_papers": len(added),
        "added_pages": pages,
        "added_chunks": sum(f.chunks for f in added),
        "ingest_s_per_page": seconds / pages if pages else 0.0,
        "cache_reused": sum(f.reused for f in report.files),
        "unchanged": sum(1 for f in report.files if f.status == "unchanged"),
        "failed": [f"{f.path}: {f.reason}" for f in report.failed],
    }


def tree_mb(path: Path, skip: tuple[str, ...] = ()) -> float:
    """Bytes of the files under ``path`` (apparent size; top-level entries named in ``skip`` left out), in MB."""
    total = 0
    for root, dirs, files in os.walk(path):
        if Path(root) == path:
            dirs[:] = [d for d in dirs if d not in skip]
        total += sum((Path(root) / name).lstat().st_size for name in files if name not in skip)
    return total / 1e6


def index_counts(service: Any) -> dict[str, int]:
    """Papers, pages and chunks in the index, from the manifest."""
    status = service.status()
    return {
        "papers": len(status["papers"]),
        "pages": sum(p["pages"] for p in status["papers"]),
        "chunks": status["total_chunks"],
    }


def query_step(home: Path, chroma_url: str, models: Path, rounds: int, real_ids: set[str]) -> dict[str, Any]:
    """Warm search/ask latency over the dev questions × ``rounds`` in a fresh service, plus hit@5 on the
    answerable ones about the real papers in the corpus and the share of top-5 passages from synthetic papers."""
    from mmqa.evaluation import first_hit_rank, load_qa, percentile

    service = make_service(home, chroma_url, models)
    records = load_qa(QA)
    scored = {r.id for r in records if not r.unanswerable and r.arxiv_id in real_ids}
    service.search(records[0].question)  # warm up: model, Chroma client, BM25
    search_ms: list[float] = []
    ask_ms: list[float] = []
    hits = synthetic = returned = 0
    for round_no in range(rounds):
        for record in records:
            result = service.search(record.question)
            search_ms.append(sum(result.timings_ms.values()))
            ask_ms.append(service.ask(record.question).timings_ms["total"])
            if round_no == 0:
                hits += record.id in scored and first_hit_rank(result.passages, record, 5) is not None
                synthetic += sum(p.doc_id.startswith("synthetic-") for p in result.passages)
                returned += len(result.passages)
    return {
        "search_p50_ms": percentile(search_ms, 50),
        "search_p95_ms": percentile(search_ms, 95),
        "ask_p50_ms": percentile(ask_ms, 50),
        "ask_p95_ms": percentile(ask_ms, 95),
        "hit@5": hits / len(scored) if scored else 0.0,
        "hit@5_questions": len(scored),
        "synthetic_top5_share": synthetic / returned if returned else 0.0,
        "queries": len(search_ms),
    }


COLD_QUESTION = "What is multi-head attention and why is it used?"
_FLOOR = "import chromadb, onnxruntime, tokenizers"


def cold_step(dirs: dict[str, Path], url: str, runs: int) -> dict[str, Any]:
    """Median wall time of `mmqa ask` in a new process against the server, and of the bare import floor,
    alternated in one loop so both see the same machine load."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMQA_")}
    env.update(MMQA_HOME=str(dirs["home"]), MMQA_CHROMA_URL=url, MMQA_EMBEDDING__MODELS_DIR=str(dirs["models"]))
    ask = [str(Path(sys.executable).with_name("mmqa")), "ask", COLD_QUESTION]
    floor = [sys.executable, "-c", _FLOOR]
    asks: list[float] = []
    floors: list[float] = []
    for _ in range(runs):
        for cmd, out in ((ask, asks), (floor, floors)):
            started = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, capture_output=True)
            out.append(time.perf_counter() - started)
    ask_s, floor_s = statistics.median(asks), statistics.median(floors)
    return {"cold_ask_s": ask_s, "import_floor_s": floor_s, "cold_ratio": ask_s / floor_s}


def measure_size(
    size: int, corpus: SyntheticCorpus, service: Any, dirs: dict[str, Path], url: str, rounds: int, cold_runs: int
) -> dict[str, Any]:
    """Grow the corpus to ``size`` papers, ingest the increment, then measure disk and queries."""
    started = time.perf_counter()
    corpus.grow(size)
    row: dict[str, Any] = {"size": size, "generate_s": time.perf_counter() - started}
    row.update(ingest_step(service, corpus.folder))
    row.update(index_counts(service))
    row["chroma_mb"] = tree_mb(dirs["chroma"])
    row["home_mb"] = tree_mb(dirs["home"])
    row["home_cache_mb"] = tree_mb(dirs["home"] / "cache")
    row["total_mb"] = row["chroma_mb"] + row["home_mb"]
    row["peak_rss_mb"] = peak_rss_mb()  # this process (ingest and queries; the Chroma server apart), so far
    row.update(query_step(dirs["home"], url, dirs["models"], rounds, {p.stem for p in corpus.real}))
    row["real_papers"] = min(size, len(corpus.real))
    if cold_runs:
        row.update(cold_step(dirs, url, cold_runs))
    return row


def peak_rss_mb() -> float:
    """The high-water mark of this process's resident memory (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- reporting --------------------------------------------------------------------------------------
def machine() -> str:
    """CPU model name and core count (from /proc/cpuinfo), and the Python version."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"


COLUMNS = [
    ("papers", "papers", "{:d}"),
    ("pages", "pages", "{:d}"),
    ("chunks", "chunks", "{:d}"),
    ("added_pages", "+pages", "{:d}"),
    ("ingest_s", "ingest (s)", "{:.1f}"),
    ("ingest_s_per_page", "s / added page", "{:.2f}"),
    ("chroma_mb", "Chroma (MB)", "{:.1f}"),
    ("home_mb", "home (MB)", "{:.1f}"),
    ("home_cache_mb", "of it emb. cache (MB)", "{:.1f}"),
    ("total_mb", "total (MB)", "{:.1f}"),
    ("peak_rss_mb", "peak RSS (MB)", "{:.0f}"),
    ("search_p50_ms", "search p50 (ms)", "{:.1f}"),
    ("search_p95_ms", "search p95 (ms)", "{:.1f}"),
    ("ask_p50_ms", "ask p50 (ms)", "{:.1f}"),
    ("ask_p95_ms", "ask p95 (ms)", "{:.1f}"),
    ("cold_ask_s", "cold ask (s)", "{:.2f}"),
    ("cold_ratio", "cold ask / import floor", "{:.2f}×"),
    ("hit@5", "hit@5", "{:.3f}"),
    ("synthetic_top5_share", "synthetic in top 5", "{:.0%}"),
]
GROWTH = ["papers", "pages", "chunks", "ingest_s_per_page", "total_mb", "search_p50_ms", "search_p95_ms",
          "ask_p50_ms", "ask_p95_ms"]  # fmt: skip


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """One row per size."""
    head = "| " + " | ".join(title for _, title, _ in COLUMNS) + " |"
    rule = "|" + "---|" * len(COLUMNS)
    body = [
        "| " + " | ".join(fmt.format(row[key]) if key in row else "–" for key, _, fmt in COLUMNS) + " |" for row in rows
    ]
    return "\n".join([head, rule, *body])


def growth_table(rows: list[dict[str, Any]]) -> str:
    """Each measure at every size divided by its value at the first size."""
    titles = {key: title for key, title, _ in COLUMNS}
    head = "| measure | " + " | ".join(f"{row['papers']} papers" for row in rows) + " |"
    rule = "|---|" + "---|" * len(rows)
    body = []
    for key in GROWTH:
        base = rows[0][key] or float("nan")
        body.append(f"| {titles[key]} | " + " | ".join(f"{row[key] / base:.2f}×" for row in rows) + " |")
    return "\n".join([head, rule, *body])


def print_markdown(result: dict[str, Any]) -> None:
    """The command, machine and corpus, the table of figures, and the growth relative to the first size."""
    meta, rows = result["meta"], result["rows"]
    print(f"command: `{meta['command']}`")
    print(f"machine: {meta['machine']}; date {meta['date']}")
    print(f"corpus: {meta['corpus']}")
    print(f"queries: {meta['queries']}")
    print(f"hit@5: the {rows[0]['hit@5_questions']} answerable dev questions about the real papers in the corpus\n")
    print(markdown_table(rows))
    print(f"\nGrowth relative to {rows[0]['papers']} papers:\n")
    print(growth_table(rows))
    print("\nIngest of each increment, corpus generation not included:")
    for row in rows:
        print(
            f"- {row['size']} papers: +{row['added_papers']} papers ({row['added_chunks']} chunks) in "
            f"{row['ingest_s']:.1f} s, {row['unchanged']} unchanged, {row['cache_reused']} vectors from the "
            f"embedding cache, {len(row['failed'])} failed; generating the new PDFs took {row['generate_s']:.1f} s"
        )
        for failure in row["failed"]:
            print(f"  - failed: {failure}")
    print(projection(rows, meta.get("project", [])))
    print(f"\nThe whole run took {meta['wall_s'] / 60:.1f} min.")


def projection(rows: list[dict[str, Any]], sizes: list[int]) -> str:
    """Ingest time of a corpus of N real papers, from the pages/s and pages per paper of the real rows."""
    real = [r for r in rows if r["real_papers"] == r["papers"] and r["added_pages"]]
    if not real or not sizes:
        return ""
    pages = sum(r["added_pages"] for r in real)
    seconds = sum(r["ingest_s"] for r in real)
    per_paper = real[-1]["pages"] / real[-1]["papers"]
    rate = pages / seconds
    lines = [f"\nProjection from the real papers ({pages} pages in {seconds:.0f} s, {rate:.2f} pages/s, "
             f"{per_paper:.1f} pages a paper):"]  # fmt: skip
    for n in sizes:
        lines.append(f"- {n} real papers ≈ {n * per_paper:.0f} pages ≈ {n * per_paper / rate / 60:.0f} min")
    return "\n".join(lines)


def corpus_note(corpus: SyntheticCorpus, rows: list[dict[str, Any]]) -> str:
    """What the corpus is at each size (real papers, synthetic copies, pages)."""
    synthetic = max(0, corpus.count - len(corpus.real))
    pages = ", ".join(f"{row['papers']} papers = {row['pages']} pages" for row in rows)
    return (
        f"{len(corpus.real)} real PDFs ({', '.join(p.stem for p in corpus.real)}) + {synthetic} synthetic copies "
        f"(round-robin; the first {corpus.max_pages} pages of the source, ~10% of the words replaced, "
        f"rewritten at ≤ {LINE_CHARS} chars × {PAGE_LINES} lines a page); {pages}"
    )


# -- main -------------------------------------------------------------------------------------------
def parse_args() -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="6,50,200", help="corpus sizes in papers, ascending (default 6,50,200)")
    parser.add_argument("--max-pages", type=int, default=12, help="source pages per synthetic paper (default 12)")
    parser.add_argument("--real", type=int, default=None, help="base corpus: only the N real PDFs with fewest pages")
    parser.add_argument(
        "--neighbourhood",
        action="store_true",
        help="after the base corpus, the 48 real papers of ../shared/corpus/neighbourhood, then copies",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds over the dev questions (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the word perturbation")
    parser.add_argument("--cold-runs", type=int, default=3, help="cold `mmqa ask` runs per size (0: skip)")
    parser.add_argument("--project", default="50,400", help="real-paper corpus sizes to project ingest time for")
    parser.add_argument("--workdir", type=Path, default=None, help="keep corpus, home and Chroma data here")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON instead of markdown")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    if args.sizes != sorted(set(args.sizes)) or args.sizes[0] < 1:
        parser.error("--sizes must be positive and ascending, e.g. 6,50,200")
    return args


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Start the Chroma server, then grow, ingest and measure at each size."""
    started = time.perf_counter()
    dirs = {name: work / name for name in ("papers", "home", "chroma", "models")}
    real = smallest_real(CORPUS, args.real)
    if args.neighbourhood:
        real += sorted((CORPUS.parent / "neighbourhood").glob("*.pdf"))
    corpus = SyntheticCorpus(dirs["papers"], real, args.max_pages, args.seed)
    rows = []
    with chroma_server(dirs["chroma"], work / "chroma.log") as url:
        service = make_service(dirs["home"], url, dirs["models"])
        # Export (and quantise) the model once in another process: torch, which the export needs, would
        # otherwise set this process's peak RSS before anything is ingested.
        export = (
            "import sys; from pathlib import Path; from mmqa.index.embedder import Embedder; "
            "from mmqa.settings import EmbeddingSettings; Embedder(EmbeddingSettings(), Path(sys.argv[1])).embed(['x'])"
        )
        subprocess.run([sys.executable, "-c", export, str(dirs["models"])], check=True)
        service.embedder.embed(["warm-up, outside the timing"])
        for size in args.sizes:
            rows.append(measure_size(size, corpus, service, dirs, url, args.rounds, args.cold_runs))
            print(f"[{size} papers measured, {(time.perf_counter() - started) / 60:.1f} min]", file=sys.stderr)
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)  # the figures so far survive a failed size
    meta = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine(),
        "date": datetime.date.today().isoformat(),
        "corpus": corpus_note(corpus, rows),
        "queries": f"{rows[0]['queries'] // args.rounds} dev questions × {args.rounds} rounds, warm, one process; "
        "search = embedding + retrieval (k=5), ask = search + extractive answer",
        "wall_s": time.perf_counter() - started,
        "project": [int(n) for n in args.project.split(",") if n],
    }
    return {"meta": meta, "rows": rows}


def main() -> None:
    """Run the benchmark in ``--workdir`` (or a temporary folder) and print markdown or JSON."""
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    args = parse_args()
    if args.workdir:
        if args.workdir.exists() and any(args.workdir.iterdir()):
            sys.exit(f"scale.py: --workdir {args.workdir} is not empty (the run builds its index from scratch)")
        args.workdir.mkdir(parents=True, exist_ok=True)
        result = run(args, args.workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="mmqa-scale-") as tmp:
            result = run(args, Path(tmp))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_markdown(result)


if __name__ == "__main__":
    main()
