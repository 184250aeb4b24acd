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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mmqa.index.swap import write_directory


@dataclass(frozen=True)
class _Matrices:
    """One build's matrices, loaded together and replaced together (a search reads one build, never two)."""

    chunk_ids: list[str]
    row_of: dict[str, int]
    chunks: np.ndarray
    sentences: np.ndarray
    sentence_rows: np.ndarray
    unit_row: dict[str, int] = field(default_factory=dict)  # sentence unit id -> row, filled on first use


_EMPTY = _Matrices([], {}, np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32), np.zeros((0, 2), np.int32))


class ExactVectors:
    """Chunk vectors and sentence vectors as matrices (``chunks.npy``, ``sentences.npy``, memory-mapped), the
    chunk id of each chunk row (``chunk_ids.json``) and the (chunk row, sentence position) of each sentence row
    (``sentence_rows.npy``). Vectors are unit length, so a dot product is the cosine similarity."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._m = _EMPTY

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
            _save_rows(tmp / "chunks.npy", [v for _, v in chunks])
            _save_rows(tmp / "sentences.npy", vectors)
            np.save(tmp / "sentence_rows.npy", np.asarray(rows, dtype=np.int32).reshape(-1, 2))
            (tmp / "chunk_ids.json").write_text(json.dumps(ids))

        write_directory(self.path, write)  # e.g. disk full: the old matrices stay as they were
        self._stamp = None  # the next ``matches`` loads what was written

    def matches(self, chunk_ids: set[str]) -> bool:
        """Do the saved matrices hold exactly these chunks? (Loads them, or loads them again when another
        process has rebuilt them since; matrices that cannot be read, or do not fit together, do not match.)"""
        try:
            stat = (self.path / "chunk_ids.json").stat()
            if self._stamp != (stat.st_ino, stat.st_mtime_ns):
                self._m = self._load()
                self._stamp = (stat.st_ino, stat.st_mtime_ns)
        except (OSError, ValueError, EOFError):  # none yet, swapped out while read, or a damaged file
            self._m, self._stamp = _EMPTY, None
            return False
        row_of = self._m.row_of
        return len(row_of) == len(chunk_ids) and all(cid in row_of for cid in chunk_ids)

    def _load(self) -> _Matrices:
        chunk_ids = json.loads((self.path / "chunk_ids.json").read_text())
        chunks = np.load(self.path / "chunks.npy", mmap_mode="r")
        sentences = np.load(self.path / "sentences.npy", mmap_mode="r")
        sentence_rows = np.load(self.path / "sentence_rows.npy")
        if len(chunks) != len(chunk_ids) or len(sentences) != len(sentence_rows):
            raise ValueError(f"{self.path}: matrices of different builds")
        return _Matrices(chunk_ids, {cid: i for i, cid in enumerate(chunk_ids)}, chunks, sentences, sentence_rows)

    def nearest_chunks(self, vector: np.ndarray, n: int, allowed: set[str] | None = None) -> dict[str, float]:
        """chunk id -> similarity of the ``n`` chunks nearest to ``vector`` (among ``allowed``; None: all)."""
        m = self._m
        sims = _similarities(m.chunks, vector)
        rows = _top(sims, n, _allowed_rows(m, allowed))
        return {m.chunk_ids[r]: float(sims[r]) for r in rows}

    def nearest_sentences(self, vector: np.ndarray, n: int, allowed: set[str] | None = None) -> dict[str, float]:
        """chunk id -> similarity of its best sentence among the ``n`` sentences nearest to ``vector`` (of the
        ``allowed`` chunks; None: all)."""
        m = self._m
        sims = _similarities(m.sentences, vector)
        chunk_allowed = _allowed_rows(m, allowed)
        keep = None if chunk_allowed is None else chunk_allowed[m.sentence_rows[:, 0]]
        best: dict[str, float] = {}
        for r in _top(sims, n, keep):
            chunk_id = m.chunk_ids[m.sentence_rows[r, 0]]
            best[chunk_id] = max(best.get(chunk_id, -1.0), float(sims[r]))
        return best

    def similarities(self, ids: Sequence[str], vector: np.ndarray) -> dict[str, float]:
        """Cosine similarity of the chunks ``ids`` to ``vector`` (ids not in the matrices are left out)."""
        m = self._m
        rows = [(cid, m.row_of[cid]) for cid in ids if cid in m.row_of]
        if not rows:
            return {}
        sims = np.asarray(m.chunks[[r for _, r in rows]], dtype=np.float32) @ vector
        return {cid: float(s) for (cid, _), s in zip(rows, sims, strict=True)}

    def sentence_vectors(self, unit_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors of sentence units by id (ids not in the matrices are left out)."""
        m = self._m
        if not m.unit_row:
            m.unit_row.update((f"{m.chunk_ids[c]}/s{p:02d}", r) for r, (c, p) in enumerate(m.sentence_rows.tolist()))
        return {u: np.asarray(m.sentences[m.unit_row[u]]) for u in unit_ids if u in m.unit_row}


def _allowed_rows(m: _Matrices, allowed: set[str] | None) -> np.ndarray | None:
    if allowed is None:
        return None
    return np.fromiter((cid in allowed for cid in m.chunk_ids), dtype=bool, count=len(m.chunk_ids))


def _save_rows(path: Path, vectors: Sequence[np.ndarray]) -> None:
    """Write ``vectors`` as the rows of a float32 ``.npy`` matrix, one row at a time: stacking them first would
    hold a second copy of every vector in memory (0.6 GB of sentences at 500 papers)."""
    dim = len(vectors[0]) if vectors else 0
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(len(vectors), dim))
    for i, vector in enumerate(vectors):
        out[i] = vector
    out.flush()
    del out


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
