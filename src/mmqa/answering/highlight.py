"""Which sentences of a cited passage support an answer: lexical overlap, for highlighting in source cards.

An extractive answer quotes its passages, so the cited sentence is found exactly; a generated
sentence paraphrases, so the passage sentence sharing most content words with it is taken instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from mmqa.answering.lexical import content_terms
from mmqa.parsing.text import sentence_spans
from mmqa.schema import Answer

MIN_OVERLAP = 0.25  # Dice overlap of content words below which a passage sentence is not highlighted


@dataclass(frozen=True)
class Segment:
    """A run of passage text, highlighted when it supports the answer."""

    text: str
    highlighted: bool = False


def overlap(claim_terms: set[str], sentence: str) -> float:
    """Dice coefficient of the content words of a claim and a sentence, in [0, 1]."""
    terms = set(content_terms(sentence))
    if not claim_terms or not terms:
        return 0.0
    return 2 * len(claim_terms & terms) / (len(claim_terms) + len(terms))


def claims_citing(answer: Answer, n: int) -> list[str]:
    """The answer sentences that cite source ``n``."""
    return [s.text for s in answer.sentences if n in s.sources]


def supporting_sentences(text: str, claims: list[str], min_overlap: float = MIN_OVERLAP) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of ``text`` that best support each claim, in text order.

    Each claim picks its best-overlapping sentence (if the overlap reaches ``min_overlap``); a claim
    spread over two sentences also picks any other sentence that overlaps it nearly as well.
    """
    spans = sentence_spans(text)
    chosen: set[tuple[int, int]] = set()
    for claim in claims:
        terms = set(content_terms(claim))
        scored = [(overlap(terms, text[a:b]), (a, b)) for a, b in spans]
        best = max((score for score, _ in scored), default=0.0)
        if best < min_overlap:
            continue
        chosen.update(span for score, span in scored if score >= max(min_overlap, 0.8 * best))
    return sorted(chosen)


def highlight(text: str, claims: list[str], min_overlap: float = MIN_OVERLAP) -> list[Segment]:
    """``text`` cut into segments, the sentences supporting ``claims`` highlighted (all text kept)."""
    segments: list[Segment] = []
    position = 0
    for start, end in supporting_sentences(text, claims, min_overlap):
        if start > position:
            segments.append(Segment(text[position:start]))
        segments.append(Segment(text[start:end], highlighted=True))
        position = end
    if position < len(text):
        segments.append(Segment(text[position:]))
    return segments


def excerpt(text: str, claims: list[str], width: int = 160, min_words: int = 5) -> str:
    """The sentence of ``text`` (of at least ``min_words`` words, if it has one) closest in wording to ``claims``,
    cut to ``width`` characters."""
    terms = set(content_terms(" ".join(claims)))
    spans = sentence_spans(text) or [(0, len(text))]
    spans = [s for s in spans if len(text[s[0] : s[1]].split()) >= min_words] or spans
    a, b = max(spans, key=lambda span: overlap(terms, text[span[0] : span[1]]))
    best = " ".join(text[a:b].split())
    return best if len(best) <= width else best[: width - 1].rstrip() + "…"
