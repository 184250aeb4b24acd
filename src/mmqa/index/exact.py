"""Exact nearest-neighbour search over the current chunk and sentence vectors, kept beside the BM25 index.

Chroma searches its vectors with an HNSW graph, which is approximate. At 54 papers it missed, on average,
8 % of the 20 sentences nearest to a question, and for some questions all 20: the sentence that answers
was never a candidate. A matrix product over every vector is exact and takes a few milliseconds at this
scale, so the vectors are copied out of Chroma into two matrices at the end of every ingest (as the BM25
index is rebuilt) and searched there. Chroma stays the store of record; its own search is the fallback
while the matrices do not hold exactly the manifest's current chunks (an older index, an interrupted ingest).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from mmqa.index.swap import write_directory

_FILES = ("chunks.npy", "sentences.npy", "sentence_rows.npy", "chunk_ids.json")


class ExactVectors:
    """Chunk vectors and sentence vectors as matrices (``chunks.npy``, ``sentences.npy``, memory-mapped), the
    chunk id of each chunk row (``chunk_ids.json``) and the (chunk row, sentence position) of each sentence row
    (``sentence_rows.npy``). Vectors are unit length, so a dot product is the cosine similarity."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self.chunk_ids: list[str] = []
        self._chunks = np.zeros((0, 0), dtype=np.float32)
        self._sentences = np.zeros((0, 0), dtype=np.float32)
        self._sentence_rows = np.zeros((0, 2), dtype=np.int32)
        self._row_of: dict[str, int] = {}
        self._unit_row: dict[str, int] | None = None

    def build(self, chunks: Sequence[tuple[str, np.ndarray]], sentences: Iterable[tuple[str, np.ndarray]]) -> None:
        """Write the matrices from (chunk id, vector) and (sentence unit id, vector) pairs, atomically (a new
        directory swapped in for the old). A sentence of a chunk not in ``chunks`` is left out."""
        ids = [cid for cid, _ in chunks]
        row_of = {cid: i for i, cid in enumerate(ids)}
        rows: list[tuple[int, int]] = []
        vectors: list[np.ndarray] = []
        for unit_id, vector in sentences:
            chunk_id, _, position = unit_id.rpartition("/s")
            if chunk_id in row_of and position.isdigit():
                rows.append((row_of[chunk_id], int(position)))
                vectors.append(vector)

        def write(tmp: Path) -> None:
            np.save(tmp / "chunks.npy", _matrix([v for _, v in chunks]))
            np.save(tmp / "sentences.npy", _matrix(vectors))
            np.save(tmp / "sentence_rows.npy", np.asarray(rows, dtype=np.int32).reshape(-1, 2))
            (tmp / "chunk_ids.json").write_text(json.dumps(ids))

        write_directory(self.path, write)  # e.g. disk full: the old matrices stay as they were
        self._stamp = None

    def matches(self, chunk_ids: set[str]) -> bool:
        """Do the saved matrices hold exactly these chunks? (Loads them, or loads them again when another
        process has rebuilt them since.)"""
        ids_file = self.path / "chunk_ids.json"
        try:
            stat = ids_file.stat()
        except OSError:
            return False
        if self._stamp != (stat.st_ino, stat.st_mtime_ns):
            if not all((self.path / name).exists() for name in _FILES):
                return False
            self.chunk_ids = json.loads(ids_file.read_text())
            self._chunks = np.load(self.path / "chunks.npy", mmap_mode="r")
            self._sentences = np.load(self.path / "sentences.npy", mmap_mode="r")
            self._sentence_rows = np.load(self.path / "sentence_rows.npy")
            self._row_of = {cid: i for i, cid in enumerate(self.chunk_ids)}
            self._unit_row = None
            self._stamp = (stat.st_ino, stat.st_mtime_ns)
        return len(self._row_of) == len(chunk_ids) and all(cid in self._row_of for cid in chunk_ids)

    def _allowed_rows(self, allowed: set[str] | None) -> np.ndarray | None:
        if allowed is None:
            return None
        return np.fromiter((cid in allowed for cid in self.chunk_ids), dtype=bool, count=len(self.chunk_ids))

    def nearest_chunks(self, vector: np.ndarray, n: int, allowed: set[str] | None = None) -> dict[str, float]:
        """chunk id -> similarity of the ``n`` chunks nearest to ``vector`` (among ``allowed``; None: all)."""
        sims = _similarities(self._chunks, vector)
        keep = self._allowed_rows(allowed)
        rows = _top(sims, n, keep)
        return {self.chunk_ids[r]: float(sims[r]) for r in rows}

    def nearest_sentences(self, vector: np.ndarray, n: int, allowed: set[str] | None = None) -> dict[str, float]:
        """chunk id -> similarity of its best sentence among the ``n`` sentences nearest to ``vector`` (of the
        ``allowed`` chunks; None: all)."""
        sims = _similarities(self._sentences, vector)
        chunk_allowed = self._allowed_rows(allowed)
        keep = None if chunk_allowed is None else chunk_allowed[self._sentence_rows[:, 0]]
        best: dict[str, float] = {}
        for r in _top(sims, n, keep):
            chunk_id = self.chunk_ids[self._sentence_rows[r, 0]]
            best[chunk_id] = max(best.get(chunk_id, -1.0), float(sims[r]))
        return best

    def similarities(self, ids: Sequence[str], vector: np.ndarray) -> dict[str, float]:
        """Cosine similarity of the chunks ``ids`` to ``vector`` (ids not in the matrices are left out)."""
        rows = [(cid, self._row_of[cid]) for cid in ids if cid in self._row_of]
        if not rows:
            return {}
        sims = np.asarray(self._chunks[[r for _, r in rows]], dtype=np.float32) @ vector
        return {cid: float(s) for (cid, _), s in zip(rows, sims, strict=True)}

    def sentence_vectors(self, unit_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors of sentence units by id (ids not in the matrices are left out)."""
        if self._unit_row is None:
            self._unit_row = {
                f"{self.chunk_ids[c]}/s{p:02d}": r for r, (c, p) in enumerate(self._sentence_rows.tolist())
            }
        return {u: np.asarray(self._sentences[self._unit_row[u]]) for u in unit_ids if u in self._unit_row}


def _matrix(vectors: Sequence[np.ndarray]) -> np.ndarray:
    if not vectors:
        return np.zeros((0, 0), dtype=np.float32)
    return np.vstack([np.asarray(v, dtype=np.float32) for v in vectors])


def _similarities(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    if not len(matrix):
        return np.zeros(0, dtype=np.float32)
    return np.asarray(matrix @ np.asarray(vector, dtype=np.float32))


def _top(sims: np.ndarray, n: int, keep: np.ndarray | None) -> list[int]:
    """Rows of the ``n`` highest ``sims`` (among ``keep``), best first."""
    if keep is not None:
        sims = np.where(keep, sims, -np.inf)
        n = min(n, int(keep.sum()))
    n = min(n, len(sims))
    if n <= 0:
        return []
    part = np.argpartition(-sims, n - 1)[:n]
    return [int(r) for r in part[np.argsort(-sims[part], kind="stable")]]
