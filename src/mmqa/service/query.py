"""Reading the index: search, ask (extractive or with an LLM), evaluate."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmqa.errors import MMQAError
from mmqa.retrieval.filters import SearchFilter
from mmqa.schema import Answer, Passage, final_answer
from mmqa.service.base import clean_question
from mmqa.service.chains import ChainsMixin


@dataclass
class SearchResult:
    """Ranked passages for a query, with timings."""

    query: str
    passages: list[Passage]
    timings_ms: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """The stable ``search --json`` contract."""
        return {"query": self.query, "results": [p.to_result(i) for i, p in enumerate(self.passages, start=1)]}


class QueryMixin(ChainsMixin):
    """The question-answering part of ``MMQA``."""

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
        query, filters = self.survey_question(query, filters, manifest)
        # Embedding the query (which loads the model in a new process) overlaps with opening Chroma and
        # BM25: ONNX Runtime works outside the GIL while the main thread imports and opens the stores. Chroma's
        # first touch of a collection in a process loads its vector index (0.3 s at 54 papers): that too runs
        # beside the BM25 load.
        with ThreadPoolExecutor(max_workers=2) as pool:
            pending = pool.submit(self.embedder.embed_query, query)
            with self._chroma_errors():
                # Exact search when the matrices hold the current chunks; else Chroma's own (HNSW) search.
                exact = self.exact if self.exact.matches(manifest.live_chunk_ids()) else None
                retriever = HybridRetriever(self.settings.retrieval, self.store, self.bm25, manifest, exact)
                loading = pool.submit(self.store.warm) if exact is None else None
                self.bm25.ready()
                if loading is not None:
                    loading.result()
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
        stored = retriever.exact.sentence_vectors if retriever.exact else self.store.sentence_vectors
        extractive = ExtractiveAnswerer(self.settings.answer, self.embedder, stored)
        spec = self.settings.llm_settings.model if llm is None else llm
        compared = retriever.compared(result.query)
        if spec:
            from mmqa.answering.generative import GenerativeAnswerer

            generative = GenerativeAnswerer(self.settings.llm_settings, self.llm(spec), extractive, self.embedder)
            answer = yield from generative.stream(
                result.query, vector, result.passages, retriever.corpus_mentions, compared
            )
        else:
            answer = extractive.answer(result.query, vector, result.passages, retriever.corpus_mentions, compared)
            yield answer.text
        t_chains = time.perf_counter()
        with self._chroma_errors():
            self.add_primary(answer, retriever)
        answer.question = question
        answer.timings_ms = {
            **result.timings_ms,
            "answer": (t_chains - t_answer) * 1000,
            "chains": (time.perf_counter() - t_chains) * 1000,
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
