"""Follow-up questions: a bounded history, and each follow-up rewritten into a standalone question.

Retrieval sees only the standalone question ("What about its training data?" after a question on
ViT becomes "What about its training data? (ViT)"). With an LLM the rewrite is the model's; without
one a heuristic carries the names of the previous question over to a follow-up that has none.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mmqa.answering.lexical import content_terms, question_entities
from mmqa.errors import MMQAError
from mmqa.retrieval.filters import SearchFilter
from mmqa.schema import Answer, final_answer

if TYPE_CHECKING:
    from mmqa.service import MMQA

log = logging.getLogger(__name__)

_ANAPHORA = frozenset("it its they their them this that these those he she his her one ones such".split())
_FOLLOW_UP_OPENERS = ("and ", "what about", "how about", "and what", "why", "also", "then")
CONDENSE_SYSTEM = (
    "Rewrite the user's follow-up question as one standalone question about the research papers, using "
    "the conversation only to resolve what 'it', 'they', 'this' and similar words refer to. Reply with "
    "the question only."
)


@dataclass
class ChatTurn:
    """One exchange: the question as asked, what was searched for, and the answer text."""

    question: str
    standalone: str
    answer: str


def is_follow_up(question: str) -> bool:
    """A question that leans on the previous one: no names of its own and a pronoun or a short opener."""
    if question_entities(question):
        return False
    words = [w.strip(",.?!;:").lower() for w in question.split()]
    lowered = question.lower().strip()
    return bool(_ANAPHORA.intersection(words)) or lowered.startswith(_FOLLOW_UP_OPENERS) or len(words) <= 3


def condense_heuristic(question: str, history: list[ChatTurn]) -> str:
    """Append the subject of the previous standalone question to a follow-up that has none."""
    if not history or not is_follow_up(question):
        return question
    previous = history[-1].standalone
    names = question_entities(previous)
    # '; ' keeps names apart, so 'Vision Transformer' and 'ViT' stay two names for the abstention check
    subject = "; ".join(names) if names else " ".join(content_terms(previous)[:4])
    return f"{question} ({subject})" if subject else question


class ChatSession:
    """A conversation over the index: the CLI's ``mmqa chat`` and the UI keep one each."""

    def __init__(
        self, service: MMQA, llm: str | None = None, k: int | None = None, filters: SearchFilter | None = None
    ) -> None:
        self.service = service
        self.llm_spec = service.settings.llm_settings.model if llm is None else llm
        self.k = k
        self.filters = filters
        self.max_turns = service.settings.llm_settings.history_turns
        self.history: list[ChatTurn] = []

    def reset(self) -> None:
        """Forget the conversation."""
        self.history.clear()

    def standalone(self, question: str) -> str:
        """The question to retrieve with: the follow-up resolved against the history."""
        if not self.history or not is_follow_up(question):
            return question
        if self.llm_spec:
            try:
                rewritten = self._condense_with_llm(question)
                if rewritten:
                    return rewritten
            except MMQAError as exc:  # a failing LLM must not stop the conversation
                log.warning("could not rewrite the follow-up with the LLM (%s); using the heuristic", exc)
        return condense_heuristic(question, self.history)

    def _condense_with_llm(self, question: str) -> str:
        lines = [f"User: {t.question}\nAssistant: {t.answer[:600]}" for t in self.history]
        prompt = "Conversation:\n" + "\n".join(lines) + f"\n\nFollow-up question: {question}\nStandalone question:"
        messages = [{"role": "system", "content": CONDENSE_SYSTEM}, {"role": "user", "content": prompt}]
        text = self.service.llm(self.llm_spec).complete(messages, max_tokens=80).strip()
        first_line = text.splitlines()[0].strip().strip('"') if text else ""
        return first_line if len(first_line.split()) >= 2 else ""

    def ask_stream(self, question: str) -> Iterator[str | Answer]:
        """Answer a turn (streaming like ``MMQA.ask_stream``) and remember it."""
        standalone = self.standalone(question)
        answer: Answer | None = None
        for event in self.service.ask_stream(standalone, self.k, self.filters, self.llm_spec):
            if isinstance(event, Answer):
                answer = event
            yield event
        if answer is not None:
            answer.question = question
            self.history.append(ChatTurn(question, standalone, answer.text))
            del self.history[: max(0, len(self.history) - self.max_turns)]

    def ask(self, question: str) -> Answer:
        """Answer a turn without streaming."""
        return final_answer(self.ask_stream(question))
