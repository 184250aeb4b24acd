"""Small lexical helpers shared by the answerer and the abstention score."""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9\-]*[A-Za-z0-9]|[0-9]+(?:\.[0-9]+)?")
STOPWORDS = frozenset(
    (
        "a about above after again against all am an and any are as at be because been before being below "
        "between both but by can could did do does doing down during each few for from further had has have "
        "having he her here hers him his how i if in into is it its itself just me more most my no nor not "
        "now of off on once only or other our ours out over own same she should so some such than that the "
        "their them then there these they this those through to too under until up very was we were what when "
        "where which while who whom why will with would you your paper authors author use used using uses "
        "according described describe much many kind way get go make did does done also"
    ).split()
)


def content_terms(text: str) -> list[str]:
    """Lower-cased content words (stopwords and 1-letter tokens dropped), crudely singularised."""
    terms = []
    for word in _WORD.findall(text.lower().replace("'s", "")):
        if word in STOPWORDS or len(word) < 2:
            continue
        terms.append(word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word)
    return terms


def coverage(query_terms: list[str], text: str) -> float:
    """Share of distinct query terms that occur in ``text`` (0 when the query has none)."""
    wanted = set(query_terms)
    if not wanted:
        return 0.0
    have = set(content_terms(text))
    return len(wanted & have) / len(wanted)


_QUESTION_WORDS = frozenset(
    (
        "what how why which when where who whom whose in the a an does did do is are was were compared "
        "according roughly among on as for with after before if"
    ).split()
)
_GENERIC_SUFFIXES = frozenset(("based style like level scale free specific aware wise only sized").split())


def question_entities(question: str) -> list[str]:
    """Names in a question: words (not the first) with a capital letter or a digit, e.g. 'YOLOv4', 'BERT-Large'.

    A hyphenated word with a generic suffix ('DETR-based', 'NMS-style') is reduced to its head.
    """
    entities: list[str] = []
    for i, raw in enumerate(question.replace("?", " ").split()):
        word = raw.strip(",.;:()[]\"'“”’").removesuffix("'s").removesuffix("’s")
        if i == 0 or len(word) < 2 or word.lower() in _QUESTION_WORDS:
            continue
        if not any(ch.isupper() or ch.isdigit() for ch in word):
            continue
        head, _, tail = word.rpartition("-")
        if head and tail.lower() in _GENERIC_SUFFIXES:
            word = head
        if word not in entities:
            entities.append(word)
    return entities


def missing_entities(entities: list[str], text: str) -> list[str]:
    """The entities that do not occur (case-insensitively, as whole words) in ``text``."""
    lowered = text.lower()
    return [e for e in entities if not re.search(r"(?<![a-z0-9])" + re.escape(e.lower()) + r"(?![a-z0-9])", lowered)]
