"""Generated answers: a grounded prompt to an LLM, streamed, then every citation checked.

The extractive answerer runs first. Its abstention decides whether the LLM is asked at all (weak
evidence or names the corpus never mentions: no generation, so no invented answer), and its answer
is the fallback when the LLM fails.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

import numpy as np

from mmqa.answering.citations import CitationChecker, parse_cited_sentences
from mmqa.answering.extractive import ExtractiveAnswerer
from mmqa.answering.prompt import NO_ANSWER, build_messages, fit_passages
from mmqa.errors import LLMError
from mmqa.index.embedder import Embedder
from mmqa.llm import LLMClient
from mmqa.schema import Answer, Citation, Passage
from mmqa.settings import LLMSettings

PROMPT_OVERHEAD_TOKENS = 400  # system rules, question, source headers


class GenerativeAnswerer:
    """Answers with an LLM over numbered sources; the Answer says which sentences its sources support."""

    def __init__(
        self, settings: LLMSettings, llm: LLMClient, extractive: ExtractiveAnswerer, embedder: Embedder
    ) -> None:
        self.settings = settings
        self.llm = llm
        self.extractive = extractive
        self.checker = CitationChecker(embedder, settings.min_support)

    def stream(
        self,
        question: str,
        query_vector: np.ndarray,
        passages: list[Passage],
        corpus_mentions: Callable[[str], bool] | None = None,
        compared: frozenset[str] = frozenset(),
    ) -> Generator[str, None, Answer]:
        """Yield the model's text as it arrives; return the checked Answer (or the extractive fallback)."""
        fallback = self.extractive.answer(question, query_vector, passages, corpus_mentions, compared)
        if fallback.abstained:
            yield fallback.text
            return fallback
        budget = self.settings.context_window - self.settings.max_tokens - PROMPT_OVERHEAD_TOKENS
        given = fit_passages(passages, budget)
        pieces: list[str] = []
        try:
            for piece in self.llm.stream(build_messages(question, given)):
                pieces.append(piece)
                yield piece
        except LLMError as exc:
            fallback.notice = f"{exc}. Showing the extractive answer instead."
            fallback.fell_back = True
            return fallback
        return self.check("".join(pieces), question, given, fallback.evidence_strength)

    def check(self, text: str, question: str, given: list[Passage], evidence_strength: float = 0.0) -> Answer:
        """Turn generated text over ``given`` sources into an Answer with verified citations."""
        sentences, invalid = parse_cited_sentences(text, len(given))
        self.checker.check(sentences, given)
        cited = sorted({n for s in sentences for n in s.sources})
        declined = NO_ANSWER.lower().rstrip(".") in text.lower()
        if not sentences or (declined and not cited):
            return Answer(
                question, [], [], abstained=True, message=NO_ANSWER, evidence_strength=evidence_strength,
                backend=self.llm.name, dropped_citations=invalid,
            )  # fmt: skip
        notes = []
        if invalid:
            notes.append(f"dropped citations to sources that were not given: {', '.join(f'[{n}]' for n in invalid)}")
        unsupported = sum(not s.supported for s in sentences)
        if unsupported:
            notes.append(f"{unsupported} of {len(sentences)} sentences are not supported by the sources they cite")
        return Answer(
            question,
            sentences,
            [Citation(n, given[n - 1]) for n in cited],
            abstained=False,
            evidence_strength=evidence_strength,
            backend=self.llm.name,
            notice="; ".join(notes),
            dropped_citations=invalid,
        )
