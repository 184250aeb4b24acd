"""A BM25 index (bm25s) over chunk texts, persisted beside the vector store."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mmqa.index.bm25_scores import TOKEN_PATTERN, SavedScores, write_query_settings
from mmqa.index.swap import write_directory


@dataclass
class BM25Entry:
    """What the BM25 side keeps per chunk: enough to filter, and to find a passage's neighbours, without
    asking Chroma. ``index`` is the chunk's place in its paper (-1 in indexes written before it was kept)."""

    chunk_id: str
    doc_id: str
    section: str
    index: int = -1
    kind: str = "text"


def _version_of(entry: BM25Entry) -> tuple[str, str]:
    """The paper version a chunk belongs to: its doc id and its id up to the chunk number
    ('2010.11929@ac46d8b8895f'; the doc id keeps papers apart should an id ever lack the '#')."""
    return entry.doc_id, entry.chunk_id.rpartition("#")[0]


def _bm25s():
    """The bm25s module, imported late (it is slow to import) and with its logger quietened.

    bm25s sets its own logger to DEBUG when imported, which overrides the CLI's logging set-up.
    """
    import bm25s

    if logging.getLogger("bm25s").level < logging.WARNING:
        logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def _stemmer():
    try:
        import Stemmer

        return Stemmer.Stemmer("english")
    except ImportError:  # PyStemmer is a dependency; this only guards odd installs
        return None


def _words_stemmer(stemmer) -> Callable[[list[str]], list[str]] | None:
    return stemmer.stemWords if stemmer is not None else None


class BM25Index:
    """Lexical retrieval; ``search`` never returns zero-score padding."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._scorer: Callable[[str], np.ndarray] | None = None
        self.entries: list[BM25Entry] = []
        self._positions: dict[str, int] | None = None
        self._neighbours: dict[str, tuple[str, ...]] | None = None
        self._stem = _stemmer()

    def _tokenize(self, texts: list[str], return_ids: bool = True):
        bm25s = _bm25s()
        return bm25s.tokenize(
            texts,
            token_pattern=TOKEN_PATTERN,
            stopwords="en",
            stemmer=self._stem,
            show_progress=False,
            return_ids=return_ids,
        )

    def build(self, entries: list[BM25Entry], texts: list[str]) -> None:
        """Index ``texts`` and save atomically (a new directory swapped in for the old)."""
        bm25s = _bm25s()

        def write(tmp: Path) -> None:
            if texts:
                model = bm25s.BM25()
                model.index(self._tokenize(texts), show_progress=False)
                model.save(str(tmp / "model"))
                write_query_settings(tmp / "model", bm25s.stopwords.STOPWORDS_EN)
            (tmp / "entries.json").write_text(json.dumps([e.__dict__ for e in entries]))

        write_directory(self.path, write)  # e.g. disk full: the old index stays as it was
        self._scorer = None
        self.entries = []
        self._positions = None
        self._neighbours = None

    def ready(self) -> None:
        """Load the index now (if there is one) rather than at the first query."""
        if self._scorer is None and not self.entries:
            self.load()

    def matches(self, chunk_ids: set[str]) -> bool:
        """Does the saved index hold exactly these chunks, with every field an entry has now? (False after
        an ingest that could not rebuild it, or for an index written before ``index`` and ``kind`` were kept.)"""
        entries_file = self.path / "entries.json"
        if not entries_file.exists():
            return False
        saved = json.loads(entries_file.read_text())
        return {e["chunk_id"] for e in saved} == chunk_ids and all("index" in e for e in saved)

    def load(self) -> bool:
        """Load from disk; False when there is no index yet."""
        entries_file = self.path / "entries.json"
        if not entries_file.exists():
            return False
        self.entries = [BM25Entry(**e) for e in json.loads(entries_file.read_text())]
        self._positions = None
        self._neighbours = None
        self._scorer = self._open_scorer() if self.entries else None
        return True

    def _open_scorer(self) -> Callable[[str], np.ndarray]:
        """Query scoring from the saved arrays (``bm25_scores``), or by bm25s for an index saved before that."""
        saved = SavedScores.open(self.path / "model", _words_stemmer(self._stem))
        if saved is not None:
            return saved.scores
        model = _bm25s().BM25.load(str(self.path / "model"))

        def scores(query: str) -> np.ndarray:
            tokens = [t for t in self._tokenize([query], return_ids=False)[0] if t in model.vocab_dict]
            if not tokens:
                return np.zeros(len(self.entries), dtype=np.float32)
            return np.asarray(model.get_scores(tokens), dtype=np.float32)

        return scores

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every entry for ``query`` (zeros when no query term is in the vocabulary)."""
        if self._scorer is None and not self.load():
            return np.zeros(0, dtype=np.float32)
        if self._scorer is None or not self.entries:
            return np.zeros(len(self.entries), dtype=np.float32)
        return self._scorer(query)

    def search(self, query: str, n: int, allowed: np.ndarray | None = None) -> list[tuple[BM25Entry, float]]:
        """Top ``n`` (entry, score) pairs with a positive score; ``allowed`` is a 0/1 mask over entries."""
        return self.top(self.scores(query), n, allowed)

    def top(self, scores: np.ndarray, n: int, allowed: np.ndarray | None = None) -> list[tuple[BM25Entry, float]]:
        """The ``n`` best positive entries of a score vector from ``scores`` (zero-score padding dropped)."""
        if allowed is not None and len(scores):
            scores = np.where(allowed, scores, 0.0)
        if len(scores) > n:
            best = np.argpartition(-scores, n)[:n]
            best = best[np.argsort(-scores[best])]
        else:
            best = np.argsort(-scores)
        return [(self.entries[int(i)], float(scores[i])) for i in best if scores[i] > 0]

    def positions(self) -> dict[str, int]:
        """chunk id -> row in the score vector returned by ``scores``."""
        if self._scorer is None:
            self.load()
        if self._positions is None or len(self._positions) != len(self.entries):
            self._positions = {e.chunk_id: i for i, e in enumerate(self.entries)}
        return self._positions

    def neighbours(self) -> dict[str, tuple[str, ...]]:
        """chunk id -> the running-text passages just before and after it in its section (none for a caption,
        which stands apart from the running text, nor for entries of an index that did not keep ``index``)."""
        if self._scorer is None:
            self.load()
        if self._neighbours is None:
            # Keyed by paper *version* (the chunk id up to '#'): until the index is rebuilt after an ingest
            # it can hold a replaced version's chunks under the same doc id and indices.
            at = {(_version_of(e), e.index): e for e in self.entries if e.kind == "text" and e.index >= 0}
            self._neighbours = {
                e.chunk_id: tuple(
                    n.chunk_id
                    for n in (at.get((version, index - 1)), at.get((version, index + 1)))
                    if n is not None and n.section == e.section
                )
                for (version, index), e in at.items()
            }
        return self._neighbours

    def mask(self, keep: set[str] | None = None, docs: set[str] | None = None, sections: set[str] | None = None):
        """A 0/1 mask selecting entries by chunk id, doc id and section number (None: no constraint)."""
        if self._scorer is None:
            self.load()
        return np.array(
            [
                (keep is None or e.chunk_id in keep)
                and (docs is None or e.doc_id in docs)
                and (sections is None or e.section in sections)
                for e in self.entries
            ],
            dtype=bool,
        )
