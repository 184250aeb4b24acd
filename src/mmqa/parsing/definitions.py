"""Definition questions ('What is LoRA?') and the sentences that define what they ask about.

A definition question asks what a thing is: its subject is a name or a term ('LoRA', 'masked image
modeling'), optionally followed by where it is used ('..., as used in PaLM?'). A sentence defines the
subject when it introduces it ('We propose Low-Rank Adaptation, or LoRA, which ...'), names it ('is
known as masked image modeling'), says what it is ('QLoRA is an efficient finetuning approach'), or
puts it in apposition ('BLIP, a new VLP framework'). The retriever puts the passage holding the first
such sentence first, and the answerer leads with it.
"""

from __future__ import annotations

import re

from mmqa.parsing.names import asked_acronym, defines
from mmqa.parsing.text import name_pattern

# 'What is X?', 'What are Xs', 'What is the X introduced in ...', 'Who is X'. The subject ends at
# punctuation or at a word that starts a qualifier ('as used in', 'in the paper', 'and why').
_QUESTION = re.compile(
    r"^\s*(?:what|who)\s+(?:is|are|was|were)\s+(?:an?\s+|the\s+)?(?P<subject>.+?)"
    r"(?=\s*[?,;:(]|\s+(?:as|in|and|according|introduced|used|proposed|defined|described|from|when|within|for|"
    r"that|which|by|with|on|to)\b|\s*$)",
    re.IGNORECASE,
)
# Subjects that ask about a relation or a property of something else, not what a thing is.
_NOT_A_SUBJECT = frozenset(
    (
        "difference main key purpose role effect result number size reason goal idea advantage benefit "
        "contribution motivation problem trade-off tradeoff relationship best name value impact cost "
        "limitation drawback"
    ).split()
)
_MAX_SUBJECT_WORDS = 5
_INTRODUCED = r"\b(?:[Ww]e\s+(?:propose|present|introduce|call|name|term|dub|refer\s+to)|called|named|termed|dubbed|known\s+as|referred\s+to\s+as)\b"  # noqa: E501
_PARENTHESES = r"(?:\s*\([^()]{1,80}\))?"
# Capitalised words before a subject that do not make it part of a longer name ('Thus LoRA, a ...').
_NOT_A_NAME_PART = frozenset(
    "the a an this these our its their thus here hence then so also finally moreover however therefore "
    "specifically namely instead in for with".split()
)


def asked_subject(question: str) -> str | None:
    """What a definition question asks about ('What is LoRA?' gives 'LoRA'), or None for other questions
    (one asking what an acronym stands for, 'What is MFU short for?', is an acronym question)."""
    match = None if asked_acronym(question) else _QUESTION.match(question)
    if not match:
        return None
    subject = match.group("subject").strip(" \"'“”‘’")
    words = subject.split()
    if not words or len(words) > _MAX_SUBJECT_WORDS or " of " in f" {subject.lower()} ":
        return None
    if words[0].lower() in _NOT_A_SUBJECT or len(subject) < 2:
        return None
    return subject


def _bounded(subject: str) -> str:
    """The subject as printed, its words apart or hyphenated, a plural 's' allowed, as a whole phrase."""
    return rf"(?<![A-Za-z0-9]){name_pattern('-'.join(subject.split()))}s?(?![A-Za-z0-9])"


def mentions_subject(subject: str, text: str) -> bool:
    """Does ``text`` name ``subject`` as one phrase ('masked image modeling', not its words apart)?"""
    return re.search(_bounded(subject), text) is not None


def defines_subject(subject: str, sentence: str) -> bool:
    """Does ``sentence`` define ``subject`` (introduce, name, say what it is, or spell it out)?"""
    bounded = rf"(?P<subject>{_bounded(subject)})"
    introduced = (
        # 'We propose Low-Rank Adaptation, or LoRA'; not 'We present experiments ... to show the X'
        rf"{_INTRODUCED}(?:(?!\bto\s)[^.;:]){{0,60}}?{bounded}",
        rf"{bounded}{_PARENTHESES}\s*,\s+(?:a|an|which)\s",  # 'BLIP, a new VLP framework'
    )
    if any(
        not _ends_a_longer_name(sentence, match.start("subject"))
        for pattern in introduced
        for match in re.finditer(pattern, sentence)
    ):
        return True
    said = rf"{bounded}{_PARENTHESES}\s*,?\s+(?:is|are|refers\s+to|denotes)\s+(?:a|an|the|one|defined|called)\b"
    if re.search(said, sentence):
        return True
    return subject.isalnum() and any(ch.isupper() for ch in subject[1:]) and defines(subject, sentence)


def _ends_a_longer_name(sentence: str, start: int) -> bool:
    """Is the subject at ``start`` the end of a longer capitalised name? 'Double Quantization, a method that
    ...' introduces Double Quantization, not quantization."""
    words = sentence[:start].split()
    if not words or sentence[:start].rstrip()[-1:] in "\"“‘'(,:;":
        return False
    return words[-1][:1].isupper() and words[-1].lower() not in _NOT_A_NAME_PART
