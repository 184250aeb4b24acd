"""Scoring a query against a saved bm25s index without importing bm25s.

bm25s imports scipy, which took 0.14 s of every cold `mmqa ask` (a tenth of the bare import floor) although
a query needs none of it: the saved index holds each term's precomputed per-chunk scores as plain numpy
arrays (a compressed sparse column matrix), and a query's score is the sum of its terms' columns. The query
is tokenised as bm25s tokenises it (lower case, the same token pattern, its English stopwords, the same
stemmer); the stopwords are written beside the index when it is built, so bm25s is not needed to read
them either. An index written before they were kept is scored by bm25s itself (``BM25Index``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

QUERY_FILE = "query.json"
TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # bm25s.tokenize's default, which the index was built with
_ARRAYS = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy")


def write_query_settings(model_dir: Path, stopwords: Iterable[str]) -> None:
    """Record how queries are tokenised, beside a bm25s index saved in ``model_dir``."""
    settings = {"token_pattern": TOKEN_PATTERN, "stopwords": sorted(stopwords)}
    (model_dir / QUERY_FILE).write_text(json.dumps(settings))


class SavedScores:
    """Query scores from a bm25s index saved in ``model_dir`` (the 'lucene' method's eager scores)."""

    def __init__(self, model_dir: Path, stem: Callable[[list[str]], list[str]] | None) -> None:
        settings = json.loads((model_dir / QUERY_FILE).read_text())
        self._split = re.compile(settings["token_pattern"]).findall
        self._stopwords = frozenset(settings["stopwords"])
        self._stem = stem
        self._vocab: dict[str, int] = json.loads((model_dir / "vocab.index.json").read_text())
        self._data, self._indices, self._indptr = (np.load(model_dir / name) for name in _ARRAYS)
        self._docs = int(json.loads((model_dir / "params.index.json").read_text())["num_docs"])

    @classmethod
    def open(cls, model_dir: Path, stem: Callable[[list[str]], list[str]] | None) -> SavedScores | None:
        """The scorer for ``model_dir``, or None when the index lacks a file it needs (an older index)."""
        needed = [QUERY_FILE, "vocab.index.json", "params.index.json", *_ARRAYS]
        if not all((model_dir / name).exists() for name in needed):
            return None
        return cls(model_dir, stem)

    def term_ids(self, query: str) -> list[int]:
        """The query's terms as vocabulary ids, in order, repeats kept (as bm25s counts them)."""
        words = [word for word in self._split(query.lower()) if word not in self._stopwords]
        terms = self._stem(words) if self._stem is not None and words else words
        return [self._vocab[term] for term in terms if term in self._vocab]

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every indexed chunk for ``query`` (float32; zeros when no term is known)."""
        scores = np.zeros(self._docs, dtype=np.float32)
        for term in self.term_ids(query):
            start, end = self._indptr[term], self._indptr[term + 1]
            np.add.at(scores, self._indices[start:end], self._data[start:end])
        return scores
