"""The Chroma vector store: llama-index writes nodes into it, queries go to Chroma directly.

Two collections per index key: ``chunks_<key>`` (one vector per passage) and ``sentences_<key>``
(one vector per sentence of a passage, pointing back to it), so a passage can be found by its
single best sentence as well as by its whole text ("small-to-big" retrieval).

Collections are created with cosine space and *no* embedding function: Chroma's default one would
try to download an ONNX model. Vectors always come from mmqa's Embedder.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mmqa.errors import MMQAError
from mmqa.schema import Chunk, SentenceUnit

_WRITE_BATCH = 500
# Whole-collection reads go page by page: one ``get`` of every record asks SQLite for more variables
# than it allows once a collection holds ~100k sentences (a Chroma server failed so at 200 papers), and
# would hold them all in memory at once.
_READ_PAGE = 5000


@dataclass
class StoredChunk:
    """A chunk as read back from the store."""

    chunk_id: str
    text: str
    meta: dict[str, Any]
    similarity: float | None = None


def unreachable(url: str, exc: BaseException) -> MMQAError:
    """The one error for a Chroma server that cannot be reached, at start-up or mid-session."""
    return MMQAError(f"cannot reach the Chroma server at {url} ({type(exc).__name__}); is it running?")


def _http_client(url: str, chroma_settings):
    """A client for a Chroma server (``http://host:port``), with a clear error when it is not there."""
    from urllib.parse import urlparse

    import chromadb

    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise MMQAError(f"MMQA_CHROMA_URL={url!r}: expected http://host:port")
    try:
        client = chromadb.HttpClient(
            host=parsed.hostname, port=parsed.port or 8000, ssl=parsed.scheme == "https", settings=chroma_settings
        )
        client.heartbeat()
    except Exception as exc:  # connection refused, DNS, TLS: all mean the same to the user
        raise unreachable(url, exc) from exc
    return client


def _lost_connection(exc: BaseException) -> bool:
    """Is this (or what caused it) a transport failure: refused, reset, timed out?"""
    import httpx

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, httpx.TransportError | ConnectionError | TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@contextmanager
def server_errors(url: str | None) -> Iterator[None]:
    """Turn a lost connection to the Chroma server into the same one-line error as an unreachable one."""
    try:
        yield
    except MMQAError:
        raise
    except Exception as exc:
        if url and _lost_connection(exc):
            raise unreachable(url, exc) from None
        raise


def _clean_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """Drop the bookkeeping keys llama-index adds (``_node_content`` etc.)."""
    return {k: v for k, v in meta.items() if not k.startswith("_") and k not in {"document_id", "ref_doc_id"}}


class ChunkStore:
    """One Chroma collection holding every chunk of every indexed paper."""

    def __init__(self, path: Path, collection: str, url: str | None = None) -> None:
        """Open (or create) the collections in an embedded database at ``path``, or on a server at ``url``."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if url:
            self._client = _http_client(url, chroma_settings)
        else:
            path.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        self.name = collection
        self._collection = self._open(f"chunks_{collection}")
        self._sentences = self._open(f"sentences_{collection}")

    def _open(self, name: str):
        return self._client.get_or_create_collection(
            name=name, embedding_function=None, metadata={"hnsw:space": "cosine"}
        )

    def warm(self) -> None:
        """Touch both collections, so that Chroma loads their vector indexes now rather than at the first query."""
        self._collection.count()
        self._sentences.count()

    def count(self) -> int:
        """Number of stored chunks."""
        return self._collection.count()

    def add_sentences(self, sentences: Sequence[SentenceUnit], vectors: np.ndarray) -> None:
        """Write sentence vectors (each pointing to its chunk)."""
        for start in range(0, len(sentences), _WRITE_BATCH):
            part = sentences[start : start + _WRITE_BATCH]
            self._sentences.add(
                ids=[u.unit_id for u in part],
                embeddings=vectors[start : start + _WRITE_BATCH],
                metadatas=[u.metadata() for u in part],
            )

    def query_sentences(self, vector: np.ndarray, n: int, where: dict[str, Any] | None = None) -> dict[str, float]:
        """chunk id -> similarity of its best sentence among the ``n`` sentences nearest to ``vector``."""
        total = self._sentences.count()
        if total == 0:
            return {}
        got = self._sentences.query(
            query_embeddings=[vector.tolist()], n_results=min(n, total), where=where, include=["metadatas", "distances"]
        )
        best: dict[str, float] = {}
        for meta, dist in zip(got["metadatas"][0], got["distances"][0], strict=True):
            if not meta or "chunk_id" not in meta:
                continue  # a vector whose metadata a killed writer never committed: not ours to return
            chunk_id = str(meta["chunk_id"])
            best[chunk_id] = max(best.get(chunk_id, -1.0), 1.0 - float(dist))
        return best

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

    def rename(self, ids: Sequence[str], title: str, short_name: str) -> None:
        """Set the paper title and short name stored with chunks ``ids``; their vectors stay as they are."""
        for start in range(0, len(ids), _WRITE_BATCH):
            got = self._collection.get(ids=list(ids[start : start + _WRITE_BATCH]), include=["metadatas"])
            metas = [{**(meta or {}), "title": title, "short_name": short_name} for meta in got["metadatas"]]
            if got["ids"]:
                self._collection.update(ids=got["ids"], metadatas=metas)

    def delete(self, ids: Iterable[str]) -> None:
        """Remove chunks (and their sentences) by chunk id; missing ids are ignored."""
        ids = list(ids)
        for start in range(0, len(ids), _WRITE_BATCH):
            part = ids[start : start + _WRITE_BATCH]
            self._sentences.delete(where={"chunk_id": {"$in": part}})
            self._collection.delete(ids=part)

    def ids_of(self, doc_id: str) -> list[str]:
        """Every stored chunk id of one paper, any version (sentences included via their chunk)."""
        chunk_ids = set(self._collection.get(where={"doc_id": doc_id}, include=[])["ids"])
        sentences = self._sentences.get(where={"doc_id": doc_id}, include=["metadatas"])["metadatas"]
        chunk_ids.update(str(m["chunk_id"]) for m in sentences if m and "chunk_id" in m)
        return sorted(chunk_ids)

    def all_chunk_ids(self) -> set[str]:
        """Chunk ids present in either collection (sentences name their chunk)."""
        ids = {cid for page in _pages(self._collection, []) for cid in page["ids"]}
        ids.update(
            str(m["chunk_id"])
            for page in _pages(self._sentences, ["metadatas"])
            for m in page["metadatas"]
            if m and "chunk_id" in m
        )
        return ids

    def sentence_count(self) -> int:
        """Number of stored sentence vectors."""
        return self._sentences.count()

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        """Chunks by id, in the order asked."""
        if not ids:
            return []
        got = self._get(ids, ["documents", "metadatas"])
        by_id = {
            cid: StoredChunk(cid, doc or "", _clean_meta(meta or {}))
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }
        return [by_id[i] for i in ids if i in by_id]

    def sentence_vectors(self, unit_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors of sentence units by id (ids without a readable vector are left out)."""
        if not unit_ids:
            return {}
        got = self._get(unit_ids, ["embeddings"], self._sentences)
        return {uid: np.asarray(emb, dtype=np.float32) for uid, emb in zip(got["ids"], got["embeddings"], strict=True)}

    def _get(self, ids: Sequence[str], include: list[str], collection: Any = None) -> dict[str, list]:
        """``collection.get`` by ids that survives records left half-written by a killed writer.

        After a SIGKILL in the middle of an ``add``, Chroma can hold ids whose vectors were never
        written; a batch ``get`` touching them fails as a whole. Then fetch one by one and skip those
        (they are never live: the manifest had not switched to them yet; the next ingest removes them).
        """
        from chromadb.errors import ChromaError

        collection = collection if collection is not None else self._collection
        try:
            return collection.get(ids=list(ids), include=include)
        except ChromaError:
            merged: dict[str, list] = {"ids": [], **{key: [] for key in include}}
            for cid in ids:
                try:
                    one = collection.get(ids=[cid], include=include)
                except ChromaError:
                    continue
                for key in merged:
                    merged[key].extend(one[key])
            return merged

    def unreadable(self, ids: Sequence[str]) -> set[str]:
        """The ids among ``ids`` whose vector or record cannot be read back (one call per 500 ids when healthy)."""
        readable: set[str] = set()
        for start in range(0, len(ids), _WRITE_BATCH):
            readable.update(self._get(ids[start : start + _WRITE_BATCH], ["embeddings"])["ids"])
        return set(ids) - readable

    def similarities(self, ids: Sequence[str], vector: np.ndarray) -> dict[str, float]:
        """Cosine similarity of stored chunks (by id) to ``vector`` (unit-length vectors assumed)."""
        if not ids:
            return {}
        got = self._get(ids, ["embeddings"])
        return {
            cid: float(np.dot(np.asarray(emb, dtype=np.float32), vector))
            for cid, emb in zip(got["ids"], got["embeddings"], strict=True)
        }

    def all(self) -> list[StoredChunk]:
        """Every stored chunk (for rebuilding the BM25 index)."""
        return [
            StoredChunk(cid, doc or "", _clean_meta(meta or {}))
            for got in _pages(self._collection, ["documents", "metadatas"])
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]

    def all_vectors(self, sentences: bool = False) -> Iterator[tuple[str, np.ndarray]]:
        """(id, vector) of every stored chunk, or of every stored sentence (for the exact-search matrices)."""
        for got in _pages(self._sentences if sentences else self._collection, ["embeddings"]):
            for record_id, vector in zip(got["ids"], got["embeddings"], strict=True):
                if vector is not None:
                    yield record_id, np.asarray(vector, dtype=np.float32)

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


def _pages(collection: Any, include: list[str], page: int = _READ_PAGE) -> Iterator[dict[str, list]]:
    """``collection.get(include=...)`` of every record, ``page`` records at a time."""
    offset = 0
    while True:
        got = collection.get(include=include, limit=page, offset=offset)
        if not got["ids"]:
            return
        yield got
        offset += len(got["ids"])
