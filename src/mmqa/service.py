"""The one service facade: the CLI and the UI call this, and nothing else does real work.

Heavy pieces (the embedder, Chroma, BM25) are created on first use, so a command loads only
what it needs (``status`` and ``sections`` never import torch or Chroma).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmqa.errors import EmptyIndexError, MMQAError
from mmqa.index.manifest import Manifest
from mmqa.retrieval.filters import SearchFilter
from mmqa.schema import Answer, Passage, Reference, Section, final_answer
from mmqa.settings import Settings

if TYPE_CHECKING:  # the query path never imports the ingestion stack (pypdf, llama-index)
    from mmqa.acquire.corpus import CorpusSpec
    from mmqa.acquire.resolver import ReferenceResolver, ResolveSummary
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


@dataclass
class ReferenceList:
    """A paper's bibliography, each entry knowing whether the paper it names is indexed."""

    doc_id: str
    references: list[Reference]
    indexed: set[str]

    def is_indexed(self, ref: Reference) -> bool:
        """Is the paper this entry names in the index?"""
        return bool(ref.arxiv_id) and ref.arxiv_id in self.indexed

    def to_dict(self) -> dict[str, Any]:
        """The stable ``refs --json`` contract."""
        return {
            "doc_id": self.doc_id,
            "references": [
                {
                    "key": r.key,
                    "authors": r.authors,
                    "year": r.year,
                    "title": r.title,
                    "arxiv_id": r.arxiv_id or None,
                    "indexed": self.is_indexed(r),
                    "cited_in": r.cited_in,
                }
                for r in self.references
            ],
        }


@dataclass
class SurveyIngest:
    """The outcome of ingesting a survey with the papers it cites."""

    report: IngestReport
    survey: str = ""  # doc id ('' if the survey itself failed)
    references: int = 0
    resolved: int = 0
    cited_sources: list[str] | None = None
    not_in_folder: int = 0  # resolved cited papers absent from --from DIR
    summary: ResolveSummary | None = None

    def to_dict(self) -> dict[str, Any]:
        """What ``ingest --json`` adds about the bibliography."""
        return {
            "survey": self.survey,
            "references": self.references,
            "resolved": self.resolved,
            "cited_fetched": len(self.cited_sources or []),
            "not_in_folder": self.not_in_folder,
        }


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

    def _chroma_errors(self):
        """A context that reports a Chroma server lost mid-session as a one-line error."""
        from mmqa.index.store import server_errors

        return server_errors(self.settings.chroma_url)

    def manifest(self) -> Manifest:
        """The current manifest (re-read each call: another process may have ingested)."""
        return Manifest.load(self.manifest_path)

    def _ingestor(self):
        from mmqa.ingestion import Ingestor

        return Ingestor(self.settings, self.embedder, self.store, self.bm25, self.manifest_path)

    # -- writing ----------------------------------------------------------------------------
    def ingest(
        self, sources: list[Path | str], observer: IngestObserver | None = None, from_dir: Path | None = None,
        password: str | None = None,
    ) -> IngestReport:
        """Add or update papers: PDF files, folders of PDFs, or 'arxiv:ID[vN]' (downloaded, or taken
        from ``from_dir``). Unchanged files are skipped by content hash; bad ones are reported.
        ``password`` opens encrypted PDFs; it is used while reading them and stored nowhere."""
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
        with WriterLock(self.settings.home), self._chroma_errors():
            report = self._ingestor().ingest(paths, observer, password)
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

    def corpus_spec(self) -> CorpusSpec:
        """The default corpus declaration (``ingest/corpus.toml`` or MMQA_CORPUS_FILE)."""
        from mmqa.acquire.corpus import DEFAULT_CORPUS_FILE, CorpusSpec

        return CorpusSpec.load(self.settings.corpus_file or DEFAULT_CORPUS_FILE)

    def default_sources(self, survey_only: bool = False) -> list[str]:
        """The papers of the default corpus (``ingest/corpus.toml``) as 'arxiv:ID' sources."""
        return self.corpus_spec().sources(survey_only)

    def ingest_survey(
        self,
        survey: str | None = None,
        observer: IngestObserver | None = None,
        from_dir: Path | None = None,
        survey_only: bool = False,
    ) -> SurveyIngest:
        """Ingest a survey ('arxiv:ID'; default: the corpus file's, plus its extra papers), parse its
        bibliography, resolve the entries to arXiv ids and ingest the cited papers (capped and
        filtered by the corpus file). With ``from_dir``, cited papers not in that folder are skipped."""
        spec = self.corpus_spec()
        default = survey is None
        source = f"arxiv:{spec.survey}" if default else survey
        report = self.ingest([source], observer, from_dir)
        outcome = SurveyIngest(report)
        done = next((f for f in report.files if f.status != "failed"), None)
        cited: list[str] = []
        if done is not None:
            outcome.survey = done.doc_id
            self._mark_survey(done.doc_id)
            if not survey_only:
                refs, outcome.summary = self.resolve_references(done.doc_id, online=True)
                outcome.references = len(refs)
                ranked = sorted((r for r in refs if r.arxiv_id), key=lambda r: -len(r.cited_in))
                outcome.resolved = len(ranked)
                cited = spec.cited_sources([r.arxiv_id for r in ranked if r.arxiv_id], {done.doc_id})
                if from_dir is not None:
                    present = [c for c in cited if self.arxiv.in_folder(c, from_dir)]
                    outcome.not_in_folder, cited = len(cited) - len(present), present
        extra = spec.sources()[1:] if default and not survey_only else []
        outcome.cited_sources = cited
        more = list(dict.fromkeys(s for s in cited + extra if s.split(":", 1)[1] != outcome.survey))
        if more:
            report.files.extend(self.ingest(more, observer, from_dir).files)
        return outcome

    def _mark_survey(self, doc_id: str) -> None:
        from mmqa.index.lock import WriterLock

        with WriterLock(self.settings.home):
            manifest = self.manifest()
            if doc_id in manifest.papers and not manifest.papers[doc_id].survey:
                manifest.papers[doc_id].survey = True
                manifest.save(self.manifest_path)

    def _resolver(self, online: bool) -> ReferenceResolver:
        from mmqa.acquire.resolver import ReferenceResolver

        return ReferenceResolver.for_home(self.settings.home, self.arxiv if online else None)

    def resolve_references(self, doc_id: str, online: bool = True) -> tuple[list[Reference], ResolveSummary]:
        """Resolve a paper's bibliography to arXiv ids (printed, cached, or looked up when ``online``)
        and record the ids in the manifest, so filters and ``refs`` need no network afterwards."""
        from mmqa.index.lock import WriterLock

        record = self.manifest().paper(doc_id)
        refs = record.reference_objects()
        summary = self._resolver(online).resolve(refs, online)  # outside the lock: lookups can take minutes
        with WriterLock(self.settings.home):
            manifest = self.manifest()
            current = manifest.papers.get(doc_id)
            if current is not None and current.sha256 == record.sha256:
                current.references = [r.to_dict() for r in refs]
                manifest.save(self.manifest_path)
        return refs, summary

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

        with WriterLock(self.settings.home), self._chroma_errors():
            removed = self._ingestor().remove(doc_id)
        return removed

    # -- reading ----------------------------------------------------------------------------
    def _ready_manifest(self) -> Manifest:
        manifest = self.manifest()
        if not manifest.papers:
            earlier = self.earlier_index()
            if earlier is not None:
                n = len(earlier.papers)
                raise EmptyIndexError(
                    f"nothing is indexed with the current settings in {self.settings.home}, but "
                    f"{n} {'paper is' if n == 1 else 'papers are'} in an index built by an earlier mmqa version "
                    f"or other settings ({earlier.index_key}): run `mmqa ingest --rebuild` to index "
                    f"{'it' if n == 1 else 'them'} again"
                )
            raise EmptyIndexError(
                f"nothing is indexed yet in {self.settings.home}: run `mmqa ingest` for the default corpus "
                "(the survey and the papers it cites) or `mmqa ingest PATH` with PDFs or a folder"
            )
        return manifest

    def earlier_index(self) -> Manifest | None:
        """The newest index in this home built under other settings (another parser version, chunker or
        embedder) that holds papers missing from the current one; None when there is none."""
        current = set(self.manifest().papers)
        found: list[tuple[float, Manifest]] = []
        for path in (self.settings.home / "index").glob("*/manifest.json"):
            if path.parent.name == self.index_key:
                continue
            try:
                manifest = Manifest.load(path)
            except MMQAError:
                continue  # a damaged old manifest: nothing to offer from it
            if set(manifest.papers) - current:
                found.append((path.stat().st_mtime, manifest))
        return max(found, key=lambda pair: pair[0])[1] if found else None

    def rebuild(self, observer: IngestObserver | None = None) -> IngestReport:
        """Index again, under the current settings, the papers of the newest index built under other settings.

        Each paper is read from the PDF it was ingested from (arXiv papers whose file is gone are fetched
        again); surveys stay surveys. The earlier index is left as it was. With no earlier index but a
        keyword index written by an older mmqa, the current papers are ingested again: they come back
        unchanged and only the keyword index is rebuilt.
        """
        from mmqa.acquire.arxiv import is_arxiv_id

        origin = self.earlier_index()
        if origin is None:
            current = self.manifest()
            if not current.papers or self.bm25.matches(current.live_chunk_ids()):
                raise MMQAError(f"nothing to rebuild in {self.settings.home}: no index built under other settings")
            origin = current  # its papers come back unchanged; only the keyword index is written again
        records = sorted(origin.papers.values(), key=lambda r: (not r.survey, r.doc_id))
        sources: list[Path | str] = [
            f"arxiv:{r.doc_id}{r.version}"
            if not Path(r.source_path).exists() and is_arxiv_id(r.doc_id)
            else Path(r.source_path)
            for r in records
        ]
        report = self.ingest(sources, observer)
        for record in records:
            if record.survey:
                self._mark_survey(record.doc_id)
        return report

    def default_survey(self, manifest: Manifest | None = None) -> str:
        """The doc id of the survey: one ingested as a survey, else the corpus file's if it is indexed."""
        manifest = manifest or self.manifest()
        surveys = sorted(r.doc_id for r in manifest.surveys())
        if surveys:
            return surveys[0]
        survey_id = self.corpus_spec().survey.id
        if survey_id in manifest.papers:
            return survey_id
        raise MMQAError(
            f"the survey {survey_id} is not indexed: run `mmqa ingest` (the default corpus) or name a paper, "
            "e.g. mmqa refs 2010.11929"
        )

    def references(self, doc_id: str | None = None, missing: bool = False, resolve: bool = False) -> ReferenceList:
        """A paper's bibliography (default: the survey), with arXiv ids from print, the cache, or (``resolve``)
        a title lookup; ``missing`` keeps only entries whose paper is not indexed."""
        manifest = self._ready_manifest()
        doc_id = doc_id or self.default_survey(manifest)
        record = manifest.paper(doc_id)
        if resolve:
            refs = self.resolve_references(doc_id, online=True)[0]
        else:
            refs = record.reference_objects()
            self._resolver(online=False).apply_cache(refs)
        listing = ReferenceList(doc_id, refs, set(manifest.papers))
        if missing:
            listing.references = [r for r in refs if not listing.is_indexed(r)]
        return listing

    def answer_bibtex(self, answer: Answer, with_cited: bool = True) -> str:
        """BibTeX for the papers an answer cites (and, with ``with_cited``, the works its passages cite)."""
        from mmqa.acquire.arxiv import is_arxiv_id
        from mmqa.bibtex import bibtex

        manifest = self.manifest()
        by_arxiv: dict[str, Reference] = {}
        for record in manifest.papers.values():
            for ref in record.reference_objects():
                if ref.arxiv_id and ref.authors:
                    by_arxiv.setdefault(ref.arxiv_id, ref)
        refs: list[Reference] = []
        for citation in answer.citations:
            doc_id = citation.passage.doc_id
            record = manifest.papers.get(doc_id)
            known = by_arxiv.get(doc_id)
            arxiv_id = doc_id if is_arxiv_id(doc_id) else None
            title = record.title if record else str(citation.passage.meta.get("title", ""))
            refs.append(Reference(doc_id, known.authors if known else [], known.year if known else "", title, arxiv_id))
            if with_cited and record is not None:
                keys = [k for k in str(citation.passage.meta.get("cites", "")).split("|") if k]
                own = {r.key: r for r in record.reference_objects()}
                refs.extend(own[k] for k in keys if k in own)
        return bibtex(refs)

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
        # Embedding the query (which loads the model in a new process) overlaps with opening Chroma and
        # BM25: ONNX Runtime works outside the GIL while the main thread imports and opens the stores.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(self.embedder.embed_query, query)
            with self._chroma_errors():
                retriever = HybridRetriever(self.settings.retrieval, self.store, self.bm25, manifest)
                self.bm25.ready()
            t1 = time.perf_counter()
            vector = pending.result()
        t2 = time.perf_counter()
        with self._chroma_errors():
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
        return final_answer(self.ask_stream(question, k, filters, llm))

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
        extractive = ExtractiveAnswerer(self.settings.answer, self.embedder, self.store.sentence_vectors)
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

    def evaluate(self, qa_path: Path, depth: int = 10, llm: str | None = None) -> dict[str, Any]:
        """Retrieval, section, abstention and citation metrics on a QA JSONL file (see ``mmqa.evaluation``)."""
        from mmqa.evaluation import evaluate, load_qa

        service = self
        spans = {
            (doc_id, s.number): (s.page_start, s.page_end)
            for doc_id, record in self._ready_manifest().papers.items()
            for s in record.section_objects()
        }

        class _Searcher:
            def search_passages(self, question: str, k: int) -> list[Passage]:
                return service.search(question, k).passages

            def answer(self, question: str) -> Answer:
                return service.ask(question, llm=llm)

            def section_span(self, passage: Passage) -> tuple[int, int] | None:
                return spans.get((passage.doc_id, str(passage.meta.get("section", ""))))

        return evaluate(load_qa(qa_path), _Searcher(), depth)

    def page_image(self, doc_id: str, page: int) -> Path:
        """A PNG of 1-based ``page`` of an indexed paper, rendered once into ``HOME/pages/<doc>/<sha12>-p<N>.png``."""
        from mmqa.render import page_image_path, render_page

        record = self.manifest().paper(doc_id)
        if not 1 <= page <= record.pages:
            raise MMQAError(f"{doc_id} has no page {page} (it has {record.pages})")
        target = page_image_path(self.settings.home / "pages", doc_id, record.sha256, page)
        return render_page(Path(record.source_path), page, target)

    def sections(self, doc_id: str | None = None) -> dict[str, list[Section]]:
        """The section tree of one paper (or all), as recorded at ingest."""
        manifest = self._ready_manifest()
        records = [manifest.paper(doc_id)] if doc_id else list(manifest.papers.values())
        return {r.doc_id: r.section_objects() for r in records}

    def status(self) -> dict[str, Any]:
        """What is indexed and where: papers, versions, chunk counts, models, location, and papers of an
        index built under other settings that ``rebuild`` would bring over."""
        manifest = self.manifest()
        earlier = self.earlier_index()
        papers = [
            {
                "doc_id": r.doc_id,
                "title": r.title,
                "short_name": r.short_name,
                "aliases": r.names(),
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
            "earlier_index": None if earlier is None else {
                "index_key": earlier.index_key,
                "papers_not_in_current": sorted(set(earlier.papers) - {p["doc_id"] for p in papers}),
            },
        }  # fmt: skip
