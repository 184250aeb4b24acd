"""Hybrid retrieval over the index: dense (Chroma) and lexical (BM25), fused, then diversified."""

from __future__ import annotations

import numpy as np

from mmqa.index.bm25 import BM25Index
from mmqa.index.manifest import Manifest
from mmqa.index.store import ChunkStore, StoredChunk
from mmqa.retrieval.filters import SearchFilter
from mmqa.retrieval.fusion import convex_fusion, diversify, reciprocal_rank_fusion
from mmqa.schema import Passage
from mmqa.settings import RetrievalSettings


class HybridRetriever:
    """Ranks chunks for a query; only chunks of the manifest's current paper versions are returned.

    Candidates are the union of the dense and BM25 top lists; each candidate gets *both* scores
    (its cosine from stored vectors, its BM25 score from the lexical index) before fusion.
    """

    def __init__(self, settings: RetrievalSettings, store: ChunkStore, bm25: BM25Index, manifest: Manifest) -> None:
        self.settings = settings
        self.store = store
        self.bm25 = bm25
        self.manifest = manifest

    def retrieve(
        self, query: str, query_vector: np.ndarray, k: int, filters: SearchFilter | None = None
    ) -> list[Passage]:
        """The ``k`` best passages for ``query`` (its embedding is ``query_vector``)."""
        docs, sections = (filters or SearchFilter()).resolve(self.manifest)
        live = self.manifest.live_shas()
        n = max(self.settings.candidates, k)

        dense_hits = [
            c
            for c in self.store.query(query_vector, n, SearchFilter.chroma_where(docs, sections))
            if live.get(str(c.meta.get("doc_id"))) == c.meta.get("paper_sha")
        ]
        dense = {c.chunk_id: float(c.similarity or 0.0) for c in dense_hits}
        mask = None if docs is None and sections is None else self.bm25.mask(docs=docs, sections=sections)
        lexical_hits = self.bm25.search(query, n, mask)
        all_bm25 = self.bm25.scores(query) if self.settings.fusion == "convex" else None

        if self.settings.fusion == "rrf":
            fused = reciprocal_rank_fusion(
                [list(dense), [e.chunk_id for e, _ in lexical_hits]],
                [self.settings.dense_weight, 1 - self.settings.dense_weight],
                self.settings.rrf_k,
            )
            lexical = {e.chunk_id: s for e, s in lexical_hits}
        else:
            missing_dense = [e.chunk_id for e, _ in lexical_hits if e.chunk_id not in dense]
            dense.update(self.store.similarities(missing_dense, query_vector))
            position = {e.chunk_id: i for i, e in enumerate(self.bm25.entries)}
            lexical = {
                cid: float(all_bm25[position[cid]]) if cid in position and all_bm25 is not None else 0.0
                for cid in dense
            }
            fused = convex_fusion(dense, lexical, self.settings.dense_weight)

        by_id: dict[str, StoredChunk] = {c.chunk_id: c for c in dense_hits}
        by_id.update({c.chunk_id: c for c in self.store.get([cid for cid, _ in fused if cid not in by_id])})
        ranked = diversify(
            [cid for cid, _ in fused if cid in by_id],
            lambda cid: (by_id[cid].meta.get("doc_id"), by_id[cid].meta.get("section")),
            self.settings.max_per_section,
        )
        scores = dict(fused)
        return [
            Passage(
                chunk_id=cid,
                text=by_id[cid].text,
                meta=by_id[cid].meta,
                score=scores[cid],
                dense_score=dense.get(cid),
                bm25_score=lexical.get(cid),
            )
            for cid in ranked[:k]
        ]
