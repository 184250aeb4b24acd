"""Answering: turning ranked passages into an Answer with numbered citations.

``Answerer`` is the seam for backends: the extractive one here needs no LLM; generated answers
(a later backend) implement the same protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from mmqa.schema import Answer, Passage


class Answerer(Protocol):
    """Anything that answers a question from passages."""

    def answer(
        self,
        question: str,
        query_vector: np.ndarray,
        passages: list[Passage],
        corpus_mentions: Callable[[str], bool] | None = None,
    ) -> Answer:
        """An Answer citing (a subset of) ``passages``; ``corpus_mentions(name)`` tells if the corpus names it."""
        ...
