"""The state every part of the service shares: settings, the index location, lazily built components.

Heavy pieces (the embedder, Chroma, BM25, the arXiv client) are created on first use, so a command
loads only what it needs (``status`` and ``sections`` never import torch or Chroma).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mmqa.errors import EmptyIndexError, MMQAError
from mmqa.index.manifest import Manifest
from mmqa.settings import Settings

if TYPE_CHECKING:
    from mmqa.acquire.corpus import CorpusSpec

MAX_QUESTION_CHARS = 2000
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


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


class ServiceBase:
    """Settings, index location and lazily built components of one ``MMQA`` service."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.index_key = settings.index_key()
        self.index_dir = settings.home / "index" / self.index_key
        self.manifest_path = self.index_dir / "manifest.json"
        self._embedder = None
        self._store = None
        self._bm25 = None
        self._exact = None
        self._arxiv = None
        self._llms: dict[str, Any] = {}

    @property
    def embedder(self):
        """The sentence embedder (loads the model on first use)."""
        if self._embedder is None:
            from mmqa.index.embedder import Embedder

            models = self.settings.embedding.models_dir or self.settings.home / "models"
            self._embedder = Embedder(self.settings.embedding, models)
        return self._embedder

    @property
    def store(self):
        """The Chroma chunk store of the current index."""
        if self._store is None:
            from mmqa.index.store import ChunkStore

            self._store = ChunkStore(self.settings.home / "chroma", self.index_key, self.settings.chroma_url)
        return self._store

    @property
    def bm25(self):
        """The keyword index of the current index."""
        if self._bm25 is None:
            from mmqa.index.bm25 import BM25Index

            self._bm25 = BM25Index(self.index_dir / "bm25")
        return self._bm25

    @property
    def exact(self):
        """The exact-search matrices of the current index's vectors (``index.exact``)."""
        if self._exact is None:
            from mmqa.index.exact import ExactVectors

            self._exact = ExactVectors(self.index_dir / "vectors")
        return self._exact

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

    def corpus_spec(self) -> CorpusSpec:
        """The default corpus declaration (``ingest/corpus.toml`` or MMQA_CORPUS_FILE)."""
        from mmqa.acquire.corpus import DEFAULT_CORPUS_FILE, CorpusSpec

        return CorpusSpec.load(self.settings.corpus_file or DEFAULT_CORPUS_FILE)

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
