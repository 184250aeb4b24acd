"""The Chroma vector store: llama-index writes nodes into it, queries go to Chroma directly.

Collections are created with cosine space and *no* embedding function: Chroma's default one would
try to download an ONNX model. Vectors always come from mmqa's Embedder.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mmqa.schema import Chunk

_WRITE_BATCH = 500


@dataclass
class StoredChunk:
    """A chunk as read back from the store."""

    chunk_id: str
    text: str
    meta: dict[str, Any]
    similarity: float | None = None


def _clean_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """Drop the bookkeeping keys llama-index adds (``_node_content`` etc.)."""
    return {k: v for k, v in meta.items() if not k.startswith("_") and k not in {"document_id", "ref_doc_id"}}


class ChunkStore:
    """One Chroma collection holding every chunk of every indexed paper."""

    def __init__(self, path: Path, collection: str) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        path.mkdir(parents=True, exist_ok=True)
        self._client = chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        )
        self.name = collection
        self._collection = self._client.get_or_create_collection(
            name=collection, embedding_function=None, metadata={"hnsw:space": "cosine"}
        )

    def count(self) -> int:
        """Number of stored chunks."""
        return self._collection.count()

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Write chunks with their vectors, through llama-index's Chroma integration."""
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
        from llama_index.vector_stores.chroma import ChromaVectorStore

        store = ChromaVectorStore(chroma_collection=self._collection)
        nodes = []
        for chunk, vector in zip(chunks, vectors, strict=True):
            node = TextNode(
                id_=chunk.chunk_id,
                text=chunk.text,
                metadata=chunk.metadata(),
                embedding=vector.tolist(),
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=chunk.doc_id)},
            )
            nodes.append(node)
        for start in range(0, len(nodes), _WRITE_BATCH):
            store.add(nodes[start : start + _WRITE_BATCH])

    def delete(self, ids: Iterable[str]) -> None:
        """Remove chunks by id (missing ids are ignored)."""
        ids = list(ids)
        for start in range(0, len(ids), _WRITE_BATCH):
            self._collection.delete(ids=ids[start : start + _WRITE_BATCH])

    def ids_of(self, doc_id: str) -> list[str]:
        """Every stored chunk id of one paper, any version."""
        return list(self._collection.get(where={"doc_id": doc_id}, include=[])["ids"])

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        """Chunks by id, in the order asked."""
        if not ids:
            return []
        got = self._collection.get(ids=list(ids), include=["documents", "metadatas"])
        by_id = {
            cid: StoredChunk(cid, doc or "", _clean_meta(meta or {}))
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }
        return [by_id[i] for i in ids if i in by_id]

    def similarities(self, ids: Sequence[str], vector: np.ndarray) -> dict[str, float]:
        """Cosine similarity of stored chunks (by id) to ``vector`` (unit-length vectors assumed)."""
        if not ids:
            return {}
        got = self._collection.get(ids=list(ids), include=["embeddings"])
        return {
            cid: float(np.dot(np.asarray(emb, dtype=np.float32), vector))
            for cid, emb in zip(got["ids"], got["embeddings"], strict=True)
        }

    def all(self) -> list[StoredChunk]:
        """Every stored chunk (for rebuilding the BM25 index)."""
        got = self._collection.get(include=["documents", "metadatas"])
        return [
            StoredChunk(cid, doc or "", _clean_meta(meta or {}))
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]

    def query(self, vector: np.ndarray, n: int, where: dict[str, Any] | None = None) -> list[StoredChunk]:
        """The ``n`` nearest chunks by cosine similarity, optionally filtered by metadata."""
        total = self.count()
        if total == 0:
            return []
        got = self._collection.query(
            query_embeddings=[vector.tolist()],
            n_results=min(n, total),
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        return [
            StoredChunk(cid, doc or "", _clean_meta(meta or {}), 1.0 - float(dist))
            for cid, doc, meta, dist in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True
            )
        ]
