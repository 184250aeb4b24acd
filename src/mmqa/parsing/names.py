"""The names a paper gives itself, and where an acronym is spelled out.

A question rarely names a paper by its title: it says "the Transformer", "ViT", "PaLM". Papers
introduce those names in their abstract ("we propose a new simple network architecture, the
Transformer"; "Vision Transformer (ViT)"; "which we call Pathways Language Model (PaLM)"), so they
are read from there at ingest and matched against questions at query time.
"""

from __future__ import annotations

import re

# An acronym has at least two capitals: "ViT", "PaLM", "OPT", "BERT-Large".
_ACRONYM = r"[A-Z][A-Za-z0-9-]*[A-Z][A-Za-z0-9-]*"
_ARGUMENT = r"(?:\(\w{1,3}\))?"  # a metric's argument: "ATD(k)"
_DEFINED_ACRONYM = re.compile(rf"\(({_ACRONYM})\)")
_LONG_FORM_BEFORE = re.compile(rf"((?:[A-Z][\w-]*\s+){{0,5}}[A-Z][\w-]*)\s*\(({_ACRONYM})\)")
_INTRODUCES = re.compile(r"\b(?:[Ww]e (?:propose|present|introduce|call|name|dub|term)|called|named|dubbed)\b")
# "we propose ..., the Transformer," / "we present DINO (" / "which we call X" / "named X", within a sentence.
_SELF_NAMING = re.compile(
    _INTRODUCES.pattern + r"[^.;]{0,80}?"
    r"(?:\bthe\s+|\b(?:our model|it)\s+(?:as\s+)?|\s)((?:[A-Z][\w-]*)(?:\s+[A-Z][\w-]*){0,3})"
    r"(?=\s*[,(:.;]|\s+(?:a|an|which|that)\b)"
)
_NOT_A_NAME = {  # shorter words never count (aliases have at least 3 characters)
    "The", "This", "These", "Our", "Section", "Table", "Figure", "Appendix",
    "Method", "Model", "Models", "Framework", "Approach", "Network", "Networks", "Experiments", "Results",
}
# "What does DINO stand for", "what is BERT short for", "the full name of OPT", "the acronym CLIP".
_ACRONYM_QUESTION = re.compile(
    rf"\b(?:does|do|did)\s+(?:the\s+(?:name|acronym|abbreviation)\s+)?[\"“']?(?P<a>{_ACRONYM}){_ARGUMENT}[\"”']?"
    r"\s+(?:stand|standing)\s+for\b"
    rf"|\b(?P<b>{_ACRONYM}){_ARGUMENT}\s+(?:is\s+)?short\s+for\b"
    rf"|\b(?:full\s+name|expansion|acronym|abbreviation)\s+(?:of\s+)?[\"“']?(?P<c>{_ACRONYM})\b"
)


def short_name(title: str, front_text: str) -> str:
    """'PaLM' from 'PaLM: Scaling ...'; 'ViT' from '... Vision Transformer (ViT)' in the abstract."""
    head = title.split(":", 1)[0].strip()
    if ":" in title and len(head.split()) <= 2:
        return head
    match = _DEFINED_ACRONYM.search(front_text)
    if match:
        return match.group(1)
    words = title.split()
    return title if len(words) <= 6 else " ".join(words[:4]) + "…"


def paper_aliases(title: str, short: str, front_text: str) -> list[str]:
    """The names a paper goes by: its short name, a title head before a colon, and the names its
    front matter introduces (acronyms with their long forms, "we propose ... the Transformer")."""
    text = " ".join(front_text.split())
    names = [short, title.split(":", 1)[0].strip() if ":" in title else title]
    # Of the acronyms the front matter defines, the paper's own are the first one, those in its title and
    # those it introduces ("we call ... (PaLM)"); others ("Visual Question Answering (VQA)") are not.
    for i, match in enumerate(_LONG_FORM_BEFORE.finditer(text)):
        long_form, acronym = match.groups()
        sentence = text[text.rfind(". ", 0, match.start()) + 1 : match.end()]
        own = i == 0 or acronym in title or _INTRODUCES.search(sentence)
        long_name = _spelled_tail(long_form, acronym)
        if own and long_name:
            names += [acronym, long_name]
    names += [m.group(1) for m in _SELF_NAMING.finditer(text)]
    aliases: list[str] = []
    for name in names:
        name = name.strip(" .,;:-")
        if len(name) >= 3 and name not in _NOT_A_NAME and not name.endswith("…") and name not in aliases:
            aliases.append(name)
    return aliases


def asked_acronym(question: str) -> str | None:
    """The acronym a question asks to be spelled out ("What does DINO stand for?"), if it asks that."""
    match = _ACRONYM_QUESTION.search(question)
    if not match:
        return None
    return next(group for group in match.groups() if group)


def defines(acronym: str, text: str) -> bool:
    """Does ``text`` spell ``acronym`` out: 'DINO (DETR with Improved deNoising anchOr boxes)',
    'Vision Transformer (ViT)' or 'Average Top-K Distance (ATD(k))'?"""
    after = re.compile(rf"\b{re.escape(acronym)}\s*\(([^()]{{4,160}})\)")
    if any(spells(acronym, m.group(1)) for m in after.finditer(text)):
        return True
    before = re.compile(rf"((?:[\w-]+\s+){{1,10}})\(\s*{re.escape(acronym)}{_ARGUMENT}\s*\)")
    return any(_spelled_tail(m.group(1), acronym) for m in before.finditer(text))


def spells(acronym: str, phrase: str) -> bool:
    """Do the capitals of ``acronym`` appear, in order, among the capitals and word initials of
    ``phrase``, starting with its first word? ('DINO', 'DETR with Improved deNoising anchOr boxes')"""
    letters = [ch for ch in acronym if ch.isupper()]
    words = phrase.split()
    if not letters or not words:
        return False
    # Word initials and inner capitals, in reading order: 'deNoising' gives 'D' and 'N'.
    signs = [ch.upper() for word in words for i, ch in enumerate(word) if ch.isalpha() and (i == 0 or ch.isupper())]
    if not signs or signs[0] != letters[0]:
        return False
    position = 0
    for letter in letters:
        while position < len(signs) and signs[position] != letter:
            position += 1
        if position == len(signs):
            return False
        position += 1
    return True


def _spelled_tail(long_form: str, acronym: str) -> str:
    """The shortest tail of ``long_form`` spelling ``acronym`` ('We use Vision Transformer' -> 'Vision
    Transformer'), or '' if none does."""
    words = long_form.split()
    for start in range(len(words) - 1, -1, -1):
        tail = " ".join(words[start:])
        if spells(acronym, tail):
            return tail
    return ""
