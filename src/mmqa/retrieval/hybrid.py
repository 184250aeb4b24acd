"""Hybrid retrieval over the index: dense (Chroma) and lexical (BM25), fused, then diversified."""

from __future__ import annotations

import numpy as np

from mmqa.index.bm25 import BM25Index
from mmqa.index.exact import ExactVectors
from mmqa.index.manifest import Manifest
from mmqa.index.store import ChunkStore, StoredChunk
from mmqa.parsing.definitions import asked_subject, defines_subject
from mmqa.parsing.names import asked_acronym, defines
from mmqa.parsing.questions import comparison_sides
from mmqa.parsing.text import split_sentences
from mmqa.retrieval.filters import SearchFilter
from mmqa.retrieval.fusion import (
    convex_fusion,
    diversify,
    drop_contained,
    each_group_in_top,
    reciprocal_rank_fusion,
)
from mmqa.retrieval.priors import (
    PaperNames,
    asks_about_table,
    boost,
    definitions_first,
    first_definition_first,
    holds_table_caption,
    in_context,
    is_summary_section,
)
from mmqa.schema import Passage
from mmqa.settings import RetrievalSettings


class HybridRetriever:
    """Ranks chunks for a query; only chunks of the manifest's current paper versions are returned.

    Candidates are the union of three top lists: nearest chunks, chunks of the nearest sentences (found
    exactly in the matrices of ``index.exact`` when they are current, else by Chroma's approximate search),
    and BM25. Every candidate then gets *both* scores before fusion: dense = the closer of its
    whole-chunk vector and its best sentence; lexical = its BM25 score. The wording of the question
    then adjusts the fused ranking (``retrieval.priors``): passages of a paper it names get a bonus,
    abstract, introduction and conclusion passages a small penalty (a body passage that says the same
    is the better citation), every passage a share of the scores of its neighbours in the running text,
    a question asking what an acronym stands for gets the passages that spell it out first, one asking what
    something is gets the passage where the best-ranked paper defining it first does so (and a table's rows
    last), one about a table gets passages holding a table caption ranked up, and a paper named as where
    to look ('the efficient-Transformers survey's table') takes the named-paper bonus alone.
    """

    def __init__(
        self,
        settings: RetrievalSettings,
        store: ChunkStore,
        bm25: BM25Index,
        manifest: Manifest,
        exact: ExactVectors | None = None,
    ) -> None:
        """``exact``: the exact-search matrices when they hold the manifest's current chunks (else Chroma's
        approximate search is used)."""
        self.settings = settings
        self.store = store
        self.bm25 = bm25
        self.manifest = manifest
        self.exact = exact
        self.doc_of = {cid: doc for doc, record in manifest.papers.items() for cid in record.chunk_ids}
        self.live_ids = self.doc_of.keys()  # the chunks of every paper's current version
        self.paper_names = PaperNames.from_manifest(manifest)
        self.summary_sections = {
            (doc, section["number"])
            for doc, record in manifest.papers.items()
            for section in record.sections
            if is_summary_section(section["title"])
        }

    def corpus_mentions(self, name: str, depth: int = 30) -> bool:
        """Does any indexed passage name ``name``? (BM25 finds candidates; the text decides.)"""
        from mmqa.answering.lexical import mentions

        hits = self.bm25.search(name, depth)
        return any(mentions(name, c.text) for c in self.store.get([e.chunk_id for e, _ in hits]))

    def compared(self, query: str) -> frozenset[str]:
        """The papers (doc ids) ``query`` compares: those it names, when it names two or more and one of them
        after the comparing word ('How does BLIP differ from CoCa?', 'the difference between BLIP and CoCa');
        else none ('How does the parallel Transformer block in PaLM differ from the standard one?')."""
        sides = comparison_sides(query)
        if sides is None:
            return frozenset()
        before, after = (self.paper_names.named(side) for side in sides)
        return frozenset(before | after) if after and len(before | after) > 1 else frozenset()

    def _definition_first(
        self, order: list[str], subject: str, by_id: dict[str, StoredChunk], live, reading_order
    ) -> list[str]:
        """``order`` with the passage that first defines ``subject`` in the best-ranked defining paper first.

        When the definition is only that passage's last sentence and the next passage opens with it (chunks
        overlap by a sentence), the next one leads instead: it goes on to explain what it defines."""

        def defining(cid: str) -> bool:
            return any(defines_subject(subject, s) for s in split_sentences(by_id[cid].text))

        moved = first_definition_first(order, defining, self.doc_of.__getitem__, reading_order)
        if not moved or not defining(moved[0]):
            return moved
        lead = self._next_if_last(subject, moved[0], by_id, live)
        return moved if lead == moved[0] else [lead, *(cid for cid in order if cid != lead)]

    def _next_if_last(self, subject: str, chunk_id: str, by_id: dict[str, StoredChunk], live) -> str:
        """The passage after ``chunk_id`` in its section when ``chunk_id`` defines ``subject`` only in its last
        sentence and that passage opens with the same sentence; else ``chunk_id``."""
        sentences = split_sentences(by_id[chunk_id].text)
        position = self.bm25.positions()
        if len(sentences) < 2 or chunk_id not in position or any(defines_subject(subject, s) for s in sentences[:-1]):
            return chunk_id
        entries = self.bm25.entries
        index = entries[position[chunk_id]].index
        after = next(
            (n for n in self.bm25.neighbours().get(chunk_id, ()) if entries[position[n]].index == index + 1), None
        )
        # Only a passage already among the scored candidates (for a definition question all of them are read):
        # one from outside has no score to rank it by.
        if after is None or after not in live or after not in by_id:
            return chunk_id
        return after if by_id[after].text.startswith(sentences[-1][:60]) else chunk_id

    def front_matter(self, docs: set[str], mask: np.ndarray | None, passages: int = 3) -> list[str]:
        """The first running-text passages of each of ``docs`` (abstract and the start of the introduction)
        that the search's ``mask`` allows (None: all)."""
        return [
            e.chunk_id for i, e in enumerate(self.bm25.entries)
            if e.doc_id in docs and e.kind == "text" and 0 <= e.index < passages and (mask is None or mask[i])
        ]  # fmt: skip

    def citing_chunks(self, markers: dict[str, set[str]]) -> set[str]:
        """The current chunks of the papers in ``markers`` whose ``cites`` hold one of their paper's markers
        (``SearchFilter.cite_markers``): the passages that cite the paper a ``--cites`` filter names."""
        ids = [cid for doc in markers for cid in self.manifest.papers[doc].chunk_ids]
        return {
            c.chunk_id for c in self.store.get(ids)
            if markers[str(c.meta["doc_id"])] & set(str(c.meta.get("cites", "")).split("|"))
        }  # fmt: skip

    def retrieve(
        self, query: str, query_vector: np.ndarray, k: int, filters: SearchFilter | None = None
    ) -> list[Passage]:
        """The ``k`` best passages for ``query`` (its embedding is ``query_vector``)."""
        filters = filters or SearchFilter()
        docs, sections = filters.resolve(self.manifest)
        where = SearchFilter.chroma_where(docs, sections)
        n = max(self.settings.candidates, k)
        keep = self.citing_chunks(filters.cite_markers(self.manifest)) if filters.cites else None
        if keep is not None and not keep:
            return []
        live = self.live_ids if keep is None else keep
        sentence_where = where
        if keep is not None:
            only = {"chunk_id": {"$in": sorted(keep)}}
            sentence_where = only if where is None else {"$and": [where, only]}

        mask = None if docs is None and sections is None else self.bm25.mask(keep=keep, docs=docs, sections=sections)
        if self.exact is not None:
            entries = self.bm25.entries
            allowed = keep if mask is None else {e.chunk_id for e, ok in zip(entries, mask, strict=True) if ok}
            chunk_sim = {c: s for c, s in self.exact.nearest_chunks(query_vector, n, allowed).items() if c in live}
            chunk_hits = self.store.get(list(chunk_sim))
            sentence_hits = self.exact.nearest_sentences(query_vector, 2 * n, allowed)
        else:
            chunk_hits = [c for c in self.store.query(query_vector, n, where) if c.chunk_id in live]
            chunk_sim = {c.chunk_id: float(c.similarity or 0.0) for c in chunk_hits}
            sentence_hits = self.store.query_sentences(query_vector, 2 * n, sentence_where)
        sentence_sim = {cid: sim for cid, sim in sentence_hits.items() if cid in live}
        all_bm25 = self.bm25.scores(query)
        # The BM25 index is rebuilt at the end of an ingest: until then (or after a crash) it can
        # still hold a replaced version's chunks, which readers must not see.
        lexical_hits = [(e, s) for e, s in self.bm25.top(all_bm25, n, mask) if e.chunk_id in self.live_ids]

        acronym = asked_acronym(query)
        subject = asked_subject(query)
        # Where an acronym is spelled out (a subject defined) need not look like the question: BM25 on the
        # acronym (subject) alone finds it.
        alone = acronym or subject
        spelled = [e.chunk_id for e, _ in self.bm25.top(self.bm25.scores(alone), n, mask)] if alone else []
        # 'What is LoRA?' asks what a paper's own name stands for: the paper introduces itself in its first
        # passages. Not when the question names another paper too ('What is QLoRA, as the survey puts it?').
        named = self.paper_names.named(query)
        own = self.paper_names.named(subject) if subject else set()
        own_name = bool(own) and not (named - own)
        if own_name:
            spelled += self.front_matter(own, mask)
        compared = self.compared(query)
        compared_ids: list[str] = []  # each paper compared is a candidate, however much one of them dominates
        for doc in sorted(compared):
            only = {doc} if docs is None else {doc} & set(docs)
            allowed = self.bm25.mask(keep=keep, docs=only, sections=sections)
            compared_ids += [e.chunk_id for e, _ in self.bm25.top(all_bm25, 3, allowed)]
        spelled += compared_ids
        candidates = list(dict.fromkeys([
            *chunk_sim, *sentence_sim, *(e.chunk_id for e, _ in lexical_hits),
            *(cid for cid in spelled if cid in live),
        ]))  # fmt: skip
        vectors = self.store if self.exact is None else self.exact
        chunk_sim.update(vectors.similarities([c for c in candidates if c not in chunk_sim], query_vector))
        dense = {c: max(chunk_sim.get(c, -1.0), sentence_sim.get(c, -1.0)) for c in candidates}
        position = self.bm25.positions()
        lexical = {c: float(all_bm25[position[c]]) if c in position and len(all_bm25) else 0.0 for c in candidates}

        if self.settings.fusion == "rrf":
            fused = reciprocal_rank_fusion(
                [sorted(dense, key=dense.__getitem__, reverse=True),
                 [c for c in sorted(lexical, key=lexical.__getitem__, reverse=True) if lexical[c] > 0]],
                [self.settings.dense_weight, 1 - self.settings.dense_weight],
                self.settings.rrf_k,
            )  # fmt: skip
        else:
            fused = convex_fusion(dense, lexical, self.settings.dense_weight, self.settings.dense_trusted_similarity)

        # A paper named as where to look ('the efficient-Transformers survey's table') takes the bonus alone: the
        # other papers named are what the question asks about ('... characterize Perceiver').
        favoured = self.paper_names.where_to_look(query) or named
        if favoured:
            fused = boost(fused, lambda cid: self.doc_of.get(cid) in favoured, self.settings.named_paper_bonus)
        if filters.prefer_cites:
            citing = self.citing_chunks(filters.cite_markers(self.manifest))
            fused = boost(fused, citing.__contains__, self.settings.named_paper_bonus)
        if self.summary_sections:
            entries = self.bm25.entries
            in_summary = {
                cid for cid in candidates
                if cid in position and (self.doc_of.get(cid), entries[position[cid]].section) in self.summary_sections
            }  # fmt: skip
            fused = boost(fused, in_summary.__contains__, -self.settings.summary_penalty)
        if self.settings.context_weight:
            fused = in_context(fused, self.bm25.neighbours(), self.settings.context_weight)

        by_id: dict[str, StoredChunk] = {c.chunk_id: c for c in chunk_hits}
        wanted = fused if alone else fused[: 4 * k]  # the definitions may rank anywhere: read every text
        wanted_ids = [cid for cid, _ in wanted] + [cid for cid in compared_ids if cid in live]
        unread = [cid for cid in dict.fromkeys(wanted_ids) if cid not in by_id]
        by_id.update({c.chunk_id: c for c in self.store.get(unread)})
        if asks_about_table(query):  # among the passages read: the texts are needed to find the captions
            fused = boost(
                fused,
                lambda cid: cid in by_id and holds_table_caption(by_id[cid].text, by_id[cid].meta),
                self.settings.table_bonus,
            )
        order = [cid for cid, _ in fused if cid in by_id]
        if alone:  # what something is, or stands for, is said in prose: a table's rows come after every passage
            order = sorted(order, key=lambda cid: by_id[cid].meta.get("kind") == "table")

        def reading_order(cid: str) -> tuple[int, int]:
            return int(by_id[cid].meta.get("page_start", 0)), int(by_id[cid].meta.get("chunk_index", 0))

        if acronym:
            order = definitions_first(
                order,
                lambda cid: defines(acronym, by_id[cid].text),
                self.doc_of.__getitem__,
                reading_order,
            )
        elif subject and (own_name or not (named or compared)):
            # 'What is LoRA?', 'What is chain-of-thought prompting?': where the best-ranked paper defining the
            # subject first does so. Not when the question names a paper the subject is not the name of ('What is
            # QLoRA, as the MM-LLMs survey summarizes it?'): the named paper's account is asked for.
            order = self._definition_first(order, subject, by_id, live, reading_order)
        ranked = diversify(
            drop_contained(order, lambda cid: by_id[cid].text),
            lambda cid: (by_id[cid].meta.get("doc_id"), by_id[cid].meta.get("section")),
            self.settings.max_per_section,
        )
        if compared:
            ranked = each_group_in_top(ranked, sorted(compared), self.doc_of.__getitem__, k)
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
