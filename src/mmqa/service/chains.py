"""Evidence chains: a sentence resting on a passage that cites an indexed paper also gets that paper's own words.

For each source of an answer whose passage cites indexed papers (its ``cites`` metadata, linked by
``acquire.links``), the first answer sentence citing it is searched for in each cited paper: one
retrieval restricted to that paper, the sentence as the query, ``PRIMARY_DEPTH`` passages read, the
one sharing most of the sentence's meaning and words kept. The papers searched are those cited in or
right next to the quoted sentence, or named by it, when the passage shows that; else every paper the
passage cites (at most ``MAX_PAPERS``). Each source's ``MAX_PRIMARY`` best candidates then go through
the citation checker in one batch, and those it finds supporting the sentence become
``Citation.primary``. Only the sentences and those candidates' sentences are embedded.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from mmqa.acquire.links import Link, cited_doc_ids
from mmqa.answering.citations import SEMANTIC_WEIGHT, CitationChecker
from mmqa.answering.highlight import claims_citing, overlap
from mmqa.answering.lexical import content_terms, coverage
from mmqa.errors import MMQAError
from mmqa.index.manifest import Manifest
from mmqa.parsing.text import sentence_spans
from mmqa.retrieval.filters import SearchFilter
from mmqa.schema import Answer, AnswerSentence, Citation, Passage
from mmqa.service.refs import RefsMixin

if TYPE_CHECKING:
    from mmqa.parsing.references import Bibliography

MAX_PRIMARY = 2
MAX_PAPERS = 4  # cited papers searched per source at most (a passage listing ten works gets the first four)
PRIMARY_DEPTH = 3
NEAR_CHARS = 40  # a citation this far past the quoted sentence ('... matrices (Hu et al., 2021).') is its own
_SURVEY_WORD = re.compile(r"\b(?:the|this|that) (?:survey|review)(?:'s)?(?!\w)", re.IGNORECASE)


def support(claim: str, passage: Passage) -> float:
    """How well ``passage`` (retrieved with ``claim`` as the query) supports ``claim``, in [0, 1]."""
    terms = content_terms(claim)
    lexical = coverage(terms, passage.text) if terms else 0.0
    return SEMANTIC_WEIGHT * max(passage.dense_score or 0.0, 0.0) + (1 - SEMANTIC_WEIGHT) * lexical


def near_windows(claim: str, text: str) -> list[str]:
    """Where the citations of the sentence of ``text`` that ``claim`` quotes (best overlap) stand: the sentence
    with the few characters after it, then the sentence before ('(7) LoRA (Hu et al., 2021) is ... Given ...')."""
    terms = set(content_terms(claim))
    spans = sentence_spans(text)
    if not spans or not terms:
        return []
    i = max(range(len(spans)), key=lambda j: overlap(terms, text[spans[j][0] : spans[j][1]]))
    windows = [text[spans[i][0] : spans[i][1] + NEAR_CHARS]]
    if i > 0:
        windows.append(text[spans[i - 1][0] : spans[i - 1][1]])
    return windows


class ChainsMixin(RefsMixin):
    """The evidence-chain part of ``MMQA``."""

    def add_primary(self, answer: Answer, retriever: Any) -> Answer:
        """Fill ``Citation.primary`` for the sources whose passage cites indexed papers (see the module doc)."""
        if answer.abstained:
            return answer
        manifest: Manifest = retriever.manifest
        links: dict[str, dict[str, Link]] = {}
        bibliographies: dict[str, Bibliography] = {}
        found: list[tuple[Citation, str, Passage]] = []  # (source, its sentence, a cited paper's best passage)
        for citation in answer.citations:
            passage = citation.passage
            claims = claims_citing(answer, citation.n)
            cites = str(passage.meta.get("cites", ""))
            if not claims or not cites:
                continue
            doc = passage.doc_id
            if doc not in links:
                links[doc] = self.reference_links(doc, manifest)
            papers = [d for d in cited_doc_ids(cites, links[doc]) if d in manifest.papers and d != doc]
            if not papers:
                continue
            near = self._cited_near(claims[0], passage, manifest, links[doc], bibliographies)
            chosen = [d for d in papers if d in near] or papers
            vector = self.embedder.embed_query(claims[0])
            for paper in chosen[:MAX_PAPERS]:
                hits = retriever.retrieve(claims[0], vector, PRIMARY_DEPTH, SearchFilter(docs=[paper]))
                if hits:
                    found.append((citation, claims[0], max(hits, key=lambda p: support(claims[0], p))))
        # Only each source's MAX_PRIMARY best by the blend go to the checker (embedding every candidate's
        # sentences cost up to 1 s for an answer with three chained sources).
        per_source: dict[int, int] = {}
        kept = []
        for candidate in sorted(found, key=lambda f: -support(f[1], f[2])):
            taken = per_source.get(candidate[0].n, 0)
            if taken < MAX_PRIMARY:
                per_source[candidate[0].n] = taken + 1
                kept.append(candidate)
        found = kept
        if not found:
            return answer
        # One batch through the citation checker: a primary passage must support the sentence as a
        # generated sentence must support itself (before, the bare blend kept a LLaMA passage for a LLaMA-2 claim).
        checker = CitationChecker(self.embedder, self.settings.llm_settings.min_support)
        checked = checker.check(
            [AnswerSentence(claim, [i]) for i, (_, claim, _) in enumerate(found, start=1)], [p for _, _, p in found]
        )
        for (citation, _, primary), verdict in sorted(
            zip(found, checked, strict=True), key=lambda pair: -(pair[1].support or 0.0)
        ):
            if verdict.supported and len(citation.primary) < MAX_PRIMARY:
                primary.score = float(verdict.support or 0.0)  # a primary passage's score: its support of the sentence
                citation.primary.append(Citation(citation.n, primary))
        return answer

    @staticmethod
    def _cited_near(
        claim: str, passage: Passage, manifest: Manifest, links: dict[str, Link], cache: dict[str, Bibliography]
    ) -> set[str]:
        """The indexed papers cited in (or right next to) the sentence of ``passage`` that ``claim`` quotes, and
        those ``claim`` names ('... LoRA learns an update ...')."""
        from mmqa.parsing.references import Bibliography
        from mmqa.retrieval.priors import named_papers

        doc = passage.doc_id
        if doc not in cache:
            cache[doc] = Bibliography(manifest.papers[doc].reference_objects())
        near: set[str] = set()
        for window in near_windows(claim, passage.text):
            near.update(cited_doc_ids("|".join(ref.key for ref in cache[doc].cited(window)), links))
            if near:
                break
        linked = {link.doc_id for link in links.values() if link.doc_id in manifest.papers}
        return near | named_papers(claim, {d: manifest.papers[d].names() for d in linked})

    def survey_question(
        self, question: str, filters: SearchFilter | None, manifest: Manifest
    ) -> tuple[str, SearchFilter | None]:
        """A question about what "the survey" says (and no filter given) searches the survey, its passages that
        cite an indexed paper the question names ranked up (``SearchFilter.prefer_cites``); the words naming
        the survey leave the query (every passage is the survey's: they would only match its self-references).
        Any other question is returned as it is."""
        from mmqa.retrieval.priors import named_papers

        if (filters is not None and not filters.is_empty()) or not _SURVEY_WORD.search(question):
            return question, filters
        surveys = {r.doc_id for r in manifest.surveys()}
        if not surveys:
            return question, filters
        query = " ".join(_SURVEY_WORD.sub(" ", question).split())
        named = named_papers(question, {d: r.names() for d, r in manifest.papers.items() if d not in surveys})
        for paper in sorted(named):
            try:
                if set(SearchFilter(cites=paper).cite_markers(manifest)) & surveys:
                    return query, SearchFilter(scope="survey", prefer_cites=paper)
            except MMQAError:  # a paper no survey cites: try the next, else the survey alone
                continue
        return query, SearchFilter(scope="survey")
