"""The one service facade: the CLI and the UI call this, and nothing else does real work.

Heavy pieces (the embedder, Chroma, BM25) are created on first use, so a command loads only
what it needs (``status`` and ``sections`` never import torch or Chroma).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmqa.errors import EmptyIndexError, MMQAError
from mmqa.index.manifest import Manifest
from mmqa.retrieval.filters import SearchFilter
from mmqa.schema import Answer, Passage, Section
from mmqa.settings import Settings

if TYPE_CHECKING:  # the query path never imports the ingestion stack (pypdf, llama-index)
    from mmqa.ingestion import IngestObserver, IngestReport

MAX_QUESTION_CHARS = 2000
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


@dataclass
class SearchResult:
    """Ranked passages for a query, with timings."""

    query: str
    passages: list[Passage]
    timings_ms: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """The stable ``search --json`` contract."""
        return {"query": self.query, "results": [p.to_result(i) for i, p in enumerate(self.passages, start=1)]}


def _version_number(version: str) -> int:
    return int(version[1:]) if version[1:].isdigit() else 0


def safe_upload_name(name: str) -> str:
    """A file name for an upload that cannot leave the uploads folder: base name only, plain characters, '.pdf'."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = base[:-4] if base.lower().endswith(".pdf") else base
    stem = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in stem).strip("._-")[:100]
    return f"{stem or 'upload'}.pdf"


def clean_question(text: str) -> str:
    """Validate a question or query: non-empty, has a word, bounded length."""
    text = " ".join((text or "").split())
    if not text:
        raise MMQAError('empty question: ask something, e.g. mmqa ask "what is masked image modeling"')
    if not any(ch.isalnum() for ch in text):
        raise MMQAError(f"question has no words: {text[:40]!r}")
    return text[:MAX_QUESTION_CHARS]


class MMQA:
    """Ingest, search, ask, sections, status over one index in ``settings.home``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.index_key = settings.index_key()
        self.index_dir = settings.home / "index" / self.index_key
        self.manifest_path = self.index_dir / "manifest.json"
        self._embedder = None
        self._store = None
        self._bm25 = None
        self._arxiv = None
        self._llms: dict[str, Any] = {}

    # -- lazily built components ------------------------------------------------------------
    @property
    def embedder(self):
        if self._embedder is None:
            from mmqa.index.embedder import Embedder

            models = self.settings.embedding.models_dir or self.settings.home / "models"
            self._embedder = Embedder(self.settings.embedding, models)
        return self._embedder

    @property
    def store(self):
        if self._store is None:
            from mmqa.index.store import ChunkStore

            self._store = ChunkStore(self.settings.home / "chroma", self.index_key, self.settings.chroma_url)
        return self._store

    @property
    def bm25(self):
        if self._bm25 is None:
            from mmqa.index.bm25 import BM25Index

            self._bm25 = BM25Index(self.index_dir / "bm25")
        return self._bm25

    @property
    def arxiv(self):
        """One arXiv client per service, so its rate limit spaces out every request of an ingest or update."""
        if self._arxiv is None:
            from mmqa.acquire.arxiv import ArxivClient

            self._arxiv = ArxivClient(self.settings.arxiv, self.settings.home / "papers")
        return self._arxiv

    def manifest(self) -> Manifest:
        """The current manifest (re-read each call: another process may have ingested)."""
        return Manifest.load(self.manifest_path)

    def _ingestor(self):
        from mmqa.ingestion import Ingestor

        return Ingestor(self.settings, self.embedder, self.store, self.bm25, self.manifest_path)

    # -- writing ----------------------------------------------------------------------------
    def ingest(
        self, sources: list[Path | str], observer: IngestObserver | None = None, from_dir: Path | None = None
    ) -> IngestReport:
        """Add or update papers: PDF files, folders of PDFs, or 'arxiv:ID[vN]' (downloaded, or taken
        from ``from_dir``). Unchanged files are skipped by content hash; bad ones are reported."""
        from mmqa.index.lock import WriterLock
        from mmqa.ingestion import FileResult

        paths: list[Path] = []
        failed: list[FileResult] = []
        for source in sources:
            text = str(source)
            if text.lower().startswith("arxiv:"):
                try:
                    paths.append(self.fetch_arxiv(text, from_dir))
                except MMQAError as exc:
                    failed.append(FileResult(text, "failed", reason=str(exc)))
            else:
                paths.append(Path(source))
        with WriterLock(self.settings.home):
            report = self._ingestor().ingest(paths, observer)
        report.files[:0] = failed
        if observer is not None:
            for result in failed:
                observer.file_done(result)
        return report

    def update(self, check_only: bool = False, observer: IngestObserver | None = None) -> list[dict[str, str]]:
        """Ask arXiv for newer versions of every indexed arXiv paper; fetch and swap them in unless ``check_only``.

        Returns one row per indexed arXiv paper: doc_id, indexed version, latest version, action.
        """
        from mmqa.acquire.arxiv import is_arxiv_id

        manifest = self.manifest()
        arxiv_papers = {d: r for d, r in manifest.papers.items() if is_arxiv_id(d)}
        latest = self.arxiv.latest_versions(sorted(arxiv_papers))
        rows, to_fetch = [], []
        for doc_id, record in sorted(arxiv_papers.items()):
            newest = latest.get(doc_id, "")
            newer = bool(newest) and _version_number(newest) > _version_number(record.version)
            action = "up to date" if not newer else ("newer version available" if check_only else "updated")
            rows.append({"doc_id": doc_id, "version": record.version, "latest": newest or "?", "action": action})
            if newer and not check_only:
                to_fetch.append(f"arxiv:{doc_id}{newest}")
        if to_fetch:
            report = self.ingest(to_fetch, observer)
            failed = {f.path: f.reason for f in report.failed}
            for row in rows:
                key = f"arxiv:{row['doc_id']}{row['latest']}"
                if key in failed:
                    row["action"] = f"failed: {failed[key]}"
        return rows

    def default_sources(self, survey_only: bool = False) -> list[str]:
        """The papers of the default corpus (``ingest/corpus.toml``) as 'arxiv:ID' sources."""
        from mmqa.acquire.corpus import DEFAULT_CORPUS_FILE, CorpusSpec

        return CorpusSpec.load(self.settings.corpus_file or DEFAULT_CORPUS_FILE).sources(survey_only)

    def fetch_arxiv(self, arxiv_id: str, from_dir: Path | None = None) -> Path:
        """A local PDF for an arXiv id: cached, from ``from_dir``, or downloaded (unless offline)."""
        from mmqa.acquire.arxiv import ArxivId

        return self.arxiv.fetch(ArxivId.parse(arxiv_id), from_dir)

    def save_upload(self, name: str, data: bytes) -> Path:
        """Store an uploaded PDF under ``HOME/uploads`` (sanitized name, size-limited); ingest it with ``ingest``."""
        if len(data) > MAX_UPLOAD_BYTES:
            raise MMQAError(f"{safe_upload_name(name)} is too large ({len(data) // 2**20} MB; the limit is 50 MB)")
        if not data.startswith(b"%PDF-"):
            raise MMQAError(f"{safe_upload_name(name)} is not a PDF (starts with {data[:12]!r})")
        folder = self.settings.home / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / safe_upload_name(name)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
        return target

    def remove(self, doc_id: str) -> int:
        """Drop one paper and its chunks; returns the number of chunks removed."""
        from mmqa.index.lock import WriterLock

        with WriterLock(self.settings.home):
            removed = self._ingestor().remove(doc_id)
        return removed

    # -- reading ----------------------------------------------------------------------------
    def _ready_manifest(self) -> Manifest:
        manifest = self.manifest()
        if not manifest.papers:
            raise EmptyIndexError(
                f"nothing is indexed yet in {self.settings.home}: run `mmqa ingest PATH` with PDFs or a folder"
            )
        return manifest

    def search(self, query: str, k: int | None = None, filters: SearchFilter | None = None) -> SearchResult:
        """The best ``k`` passages for ``query`` (hybrid dense + BM25), optionally filtered."""
        return self._search(query, k, filters)[0]

    def _search(self, query: str, k: int | None, filters: SearchFilter | None) -> tuple[SearchResult, Any, Any]:
        from mmqa.retrieval.hybrid import HybridRetriever

        query = clean_question(query)
        k = k or self.settings.retrieval.k
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        manifest = self._ready_manifest()
        retriever = HybridRetriever(self.settings.retrieval, self.store, self.bm25, manifest)
        t1 = time.perf_counter()
        vector = self.embedder.embed_query(query)
        t2 = time.perf_counter()
        passages = retriever.retrieve(query, vector, k, filters)
        t3 = time.perf_counter()
        timings.update(load=(t1 - t0) * 1000, embed=(t2 - t1) * 1000, retrieve=(t3 - t2) * 1000)
        return SearchResult(query, passages, timings), vector, retriever

    def ask(
        self, question: str, k: int | None = None, filters: SearchFilter | None = None, llm: str | None = None
    ) -> Answer:
        """Answer ``question`` from the index, citing sections and pages (or abstain).

        ``llm`` overrides the configured backend for this call ('' forces the extractive answerer).
        """
        answer = None
        for event in self.ask_stream(question, k, filters, llm):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def ask_stream(
        self, question: str, k: int | None = None, filters: SearchFilter | None = None, llm: str | None = None
    ) -> Iterator[str | Answer]:
        """Like ``ask``, but yields the answer text in pieces as it is produced, then the finished Answer.

        The pieces are display text only (with the model's [n] markers); the final Answer is the truth:
        checked citations, support flags, and the extractive fallback if the LLM failed.
        """
        from mmqa.answering.extractive import ExtractiveAnswerer

        started = time.perf_counter()
        result, vector, retriever = self._search(question, k, filters)
        t_answer = time.perf_counter()
        extractive = ExtractiveAnswerer(self.settings.answer, self.embedder)
        spec = self.settings.llm_settings.model if llm is None else llm
        if spec:
            from mmqa.answering.generative import GenerativeAnswerer

            generative = GenerativeAnswerer(self.settings.llm_settings, self.llm(spec), extractive, self.embedder)
            answer = yield from generative.stream(result.query, vector, result.passages, retriever.corpus_mentions)
        else:
            answer = extractive.answer(result.query, vector, result.passages, retriever.corpus_mentions)
            yield answer.text
        answer.question = question
        answer.timings_ms = {
            **result.timings_ms,
            "answer": (time.perf_counter() - t_answer) * 1000,
            "total": (time.perf_counter() - started) * 1000,
        }
        yield answer

    def llm(self, spec: str | None = None):
        """The LLM client for ``spec`` (default: the configured one), created once per spec."""
        from mmqa.llm import make_llm

        spec = spec or self.settings.llm_settings.model
        if not spec:
            raise MMQAError("no LLM configured: pass --llm (e.g. gguf:/path/model.gguf) or set MMQA_LLM")
        if spec not in self._llms:
            self._llms[spec] = make_llm(spec, self.settings.llm_settings)
        return self._llms[spec]

    def evaluate(self, qa_path: Path, depth: int = 10) -> dict[str, Any]:
        """Retrieval and abstention metrics on a QA JSONL file (see ``mmqa.evaluation``)."""
        from mmqa.evaluation import evaluate, load_qa

        service = self

        class _Searcher:
            def search_passages(self, question: str, k: int) -> list[Passage]:
                return service.search(question, k).passages

            def answer(self, question: str) -> Answer:
                return service.ask(question)

        return evaluate(load_qa(qa_path), _Searcher(), depth)

    def page_image(self, doc_id: str, page: int) -> Path:
        """A PNG of 1-based ``page`` of an indexed paper, rendered once into ``HOME/pages/<doc>/<sha12>-p<N>.png``."""
        from mmqa.render import page_image_path, render_page

        record = self.manifest().papers.get(doc_id)
        if record is None:
            raise MMQAError(f"not indexed: {doc_id} (see `mmqa status`)")
        if not 1 <= page <= record.pages:
            raise MMQAError(f"{doc_id} has no page {page} (it has {record.pages})")
        target = page_image_path(self.settings.home / "pages", doc_id, record.sha256, page)
        return render_page(Path(record.source_path), page, target)

    def sections(self, doc_id: str | None = None) -> dict[str, list[Section]]:
        """The section tree of one paper (or all), as recorded at ingest."""
        manifest = self._ready_manifest()
        if doc_id and doc_id not in manifest.papers:
            raise MMQAError(f"not indexed: {doc_id} (see `mmqa status`)")
        records = [manifest.papers[doc_id]] if doc_id else list(manifest.papers.values())
        return {r.doc_id: r.section_objects() for r in records}

    def status(self) -> dict[str, Any]:
        """What is indexed and where: papers, versions, chunk counts, models, location."""
        manifest = self.manifest()
        papers = [
            {
                "doc_id": r.doc_id,
                "title": r.title,
                "short_name": r.short_name,
                "version": r.version,
                "sha256": r.sha256,
                "pages": r.pages,
                "chunks": len(r.chunk_ids),
                "sections": len(r.sections),
                "has_outline": r.has_outline,
                "ingested_at": r.ingested_at,
                "source_path": r.source_path,
            }
            for r in sorted(manifest.papers.values(), key=lambda r: r.doc_id)
        ]
        return {
            "home": str(self.settings.home),
            "index_key": self.index_key,
            "collection": f"chunks_{self.index_key}",
            "chroma": self.settings.chroma_url or str(self.settings.home / "chroma"),
            "embedding_model": self.settings.embedding.model,
            "answer_backend": self.settings.llm_settings.model or "extractive",
            "papers": papers,
            "total_chunks": sum(p["chunks"] for p in papers),
        }
