"""Small lexical helpers shared by the answerer and the abstention score."""

from __future__ import annotations

import re

from mmqa.parsing.text import name_pattern

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


def _name_like(word: str) -> bool:
    """A word with a capital or a digit, unless those stand alone as a variable or a count in notation
    ('K-choose-2', 'top-1'): a name has a capital or digit inside a part of two characters or more."""
    if len(word) < 2 or word.lower() in _QUESTION_WORDS:
        return False
    return any(len(part) >= 2 and any(ch.isupper() or ch.isdigit() for ch in part) for part in word.split("-"))


def question_entities(question: str) -> list[str]:
    """Names in a question: words (not the first) with a capital letter or a digit, e.g. 'YOLOv4', 'BERT-Large'.

    Consecutive such words form one name ('Segment Anything Model'), unless punctuation separates
    them ('... Model (SAM)' gives two); a hyphenated word with a generic suffix ('DETR-based',
    'NMS-style') is reduced to its head.
    """
    entities: list[str] = []
    run: list[str] = []

    def close_run() -> None:
        name = " ".join(run)
        if name and name not in entities:
            entities.append(name)
        run.clear()

    for i, raw in enumerate(question.split()):
        word = raw.strip(",.;:!?()[]\"'“”’").removesuffix("'s").removesuffix("’s")
        if raw[:1] in "([\"“'":
            close_run()
        if i > 0 and _name_like(word):
            head, _, tail = word.rpartition("-")
            run.append(head if head and tail.lower() in _GENERIC_SUFFIXES else word)
        else:
            close_run()
        if raw[-1:] in ",.;:!?)]\"”'" or raw.endswith(("'s", "’s")):
            close_run()
    close_run()
    return entities


def join_line_breaks(text: str) -> str:
    """Words broken by a line-end hyphen, as pypdf extracts them ('typi- cally'), joined again."""
    return re.sub(r"(?<=\w)- (?=\w)", "", text)


def mentions(entity: str, text: str) -> bool:
    """Does ``text`` name ``entity`` as a whole word, or, for a name of several words, each of its words?

    Acronyms and mixed-case names ('BLOOM', 'PaLM') must match their case ('Bloom filter' is not
    BLOOM); other names match in any case. Words broken by a line-end hyphen ('RealToxicity- Prompts')
    are joined first, a plural counts ('ResNets' names ResNet), and so does a name set in capitals
    ('VLMO' names VLMo). A run of name-like words in a question is often a name with its descriptors
    ('WSJ Section 23 F1', '1202-layer ResNets'), which a paper writes in another order or apart: it
    counts when each of its words is named. A hyphen matches a space ('shuffling-BN' is 'Shuffling BN'),
    and each side of a slash must be named ('Flan-T5/Flan-PaLM').
    """
    joined = join_line_breaks(text)
    if _names(entity, joined) or (" " in entity and all(_names(word, joined) for word in entity.split())):
        return True
    alternatives = [part for part in entity.split("/") if len(part) >= 2]  # 'Flan-T5/Flan-PaLM': both named
    return len(alternatives) > 1 and all(mentions(part, text) for part in alternatives)


def _names(entity: str, text: str) -> bool:
    return re.search(r"(?<![A-Za-z0-9])" + name_pattern(entity) + r"s?(?![A-Za-z0-9])", text) is not None


def missing_entities(entities: list[str], text: str) -> list[str]:
    """The entities that ``text`` does not mention (see ``mentions``)."""
    return [e for e in entities if not mentions(e, text)]
