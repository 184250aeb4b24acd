"""Checking a generated answer's citations: which [n] are real, and does each sentence rest on its sources.

A sentence's support is the best, over the passages it cites, of a blend of meaning and wording:
the cosine between the sentence and the closest sentence of the passage (MiniLM, the model already
loaded for retrieval) and the share of the sentence's content words that the passage contains. No
extra model is needed, and a sentence citing nothing, or only sources that were never given, has
no support.
"""

from __future__ import annotations

import re

import numpy as np

from mmqa.answering.lexical import content_terms, coverage
from mmqa.index.embedder import Embedder
from mmqa.parsing.text import split_sentences
from mmqa.schema import AnswerSentence, Passage

_MARKERS = re.compile(r"\s*\[(\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*)\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*\])+")
SEMANTIC_WEIGHT = 0.6


def _numbers(group: str) -> list[int]:
    """'2, 4' -> [2, 4]; '3-5' -> [3, 4, 5] (a range only when short, so '1-999' cannot explode)."""
    numbers: list[int] = []
    for part in re.split(r"[,;]", group):
        bounds = [int(x) for x in re.findall(r"\d+", part)]
        if len(bounds) == 2 and 0 < bounds[1] - bounds[0] < 10:
            numbers.extend(range(bounds[0], bounds[1] + 1))
        else:
            numbers.extend(bounds)
    return numbers


def parse_cited_sentences(text: str, n_sources: int) -> tuple[list[AnswerSentence], list[int]]:
    """Split generated text into sentences with their source numbers; also return the invalid numbers.

    Markers that open a sentence ('... patches. [1] It ...') belong to the sentence before. Numbers
    outside 1..``n_sources`` name no given source: they are dropped from the sentence and reported.
    """
    pieces: list[tuple[str, list[int]]] = []
    for raw in split_sentences(" ".join(text.split())):
        leading = _LEADING_MARKERS.match(raw)
        if leading and pieces:
            pieces[-1][1].extend(n for g in _MARKERS.findall(leading.group(0)) for n in _numbers(g))
            raw = raw[leading.end() :].strip()
        if not raw:
            continue
        numbers = [n for g in _MARKERS.findall(raw) for n in _numbers(g)]
        body = _MARKERS.sub("", raw).strip()
        if body and any(body == seen for seen, _ in pieces):  # a model repeating itself says nothing new
            continue
        if body:
            pieces.append((body, numbers))
        elif pieces:
            pieces[-1][1].extend(numbers)
    sentences: list[AnswerSentence] = []
    invalid: list[int] = []
    for body, numbers in pieces:
        valid = []
        for n in numbers:
            if 1 <= n <= n_sources:
                if n not in valid:
                    valid.append(n)
            elif n not in invalid:
                invalid.append(n)
        sentences.append(AnswerSentence(body, valid, supported=False))
    return sentences, invalid


class CitationChecker:
    """Scores each answer sentence against the passages it cites and flags the unsupported ones."""

    def __init__(self, embedder: Embedder, min_support: float) -> None:
        self.embedder = embedder
        self.min_support = min_support

    def check(self, sentences: list[AnswerSentence], sources: list[Passage]) -> list[AnswerSentence]:
        """Set ``support`` and ``supported`` on each sentence (``sources[n-1]`` is source n); returns them."""
        cited = sorted({n for s in sentences for n in s.sources})
        units: dict[int, list[str]] = {n: split_sentences(sources[n - 1].text) or [sources[n - 1].text] for n in cited}
        flat = [u for n in cited for u in units[n]]
        if not flat:
            for sentence in sentences:
                sentence.support, sentence.supported = 0.0, False
            return sentences
        unit_vectors = self.embedder.embed(flat)
        answer_vectors = self.embedder.embed([s.text for s in sentences])
        offsets: dict[int, tuple[int, int]] = {}
        start = 0
        for n in cited:
            offsets[n] = (start, start + len(units[n]))
            start += len(units[n])
        for sentence, vector in zip(sentences, answer_vectors, strict=True):
            terms = content_terms(sentence.text)
            best = 0.0
            for n in sentence.sources:
                lo, hi = offsets[n]
                cosine = float(np.max(unit_vectors[lo:hi] @ vector))
                lexical = coverage(terms, sources[n - 1].text) if terms else 0.0
                best = max(best, SEMANTIC_WEIGHT * max(cosine, 0.0) + (1 - SEMANTIC_WEIGHT) * lexical)
            sentence.support = best
            sentence.supported = best >= self.min_support
        return sentences
