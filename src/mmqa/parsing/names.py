"""The names a paper gives itself, and where an acronym is spelled out.

A question rarely names a paper by its title: it says "the Transformer", "ViT", "PaLM". Papers
introduce those names in their abstract ("we propose a new simple network architecture, the
Transformer"; "Vision Transformer (ViT)"; "which we call Pathways Language Model (PaLM)"), so they
are read from there at ingest and matched against questions at query time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Bumped when the reading of titles and names changes: an index's older records get their names read again
# on the next ingest of their PDFs (parse only; nothing is re-embedded).
NAMES_VERSION = 3

# An acronym has at least two capitals: "ViT", "PaLM", "OPT", "BERT-Large".
_ACRONYM = r"[A-Z][A-Za-z0-9-]*[A-Z][A-Za-z0-9-]*"
_ARGUMENT = r"(?:\(\w{1,3}\))?"  # a metric's argument: "ATD(k)"
_DEFINED_ACRONYM = re.compile(rf"\(({_ACRONYM})\)")
_ANY_LONG_FORM_BEFORE = re.compile(rf"((?:[\w-]+\s+){{0,7}}[\w-]+)\s*\(({_ACRONYM})\)")
_PLURAL = re.compile(r"^[A-Z][\w-]*[A-Z]s$")  # 'LLMs', 'DMs': a kind of thing, not one paper's name
# Before a long form, these present it as existing work ('such as the Vision Transformer (ViT)', 'learning
# for Vision Transformers (ViT)', 'into Low Rank Adapters (LoRA)'), not as the paper's own.
_CITED = re.compile(
    r"\b(?:such as(?: the)?|e\.g\.,?|like|for|of|on|in|into|onto|with|from|to|by|via|using|through|over|upon|at|"
    r"under|between|among|about|than|and|or)\s*$",
    re.IGNORECASE,
)
_INTRODUCES = re.compile(r"\b(?:[Ww]e (?:propose|present|introduce|call|name|dub|term)|called|named|dubbed)\b")
# An acronym is the paper's own where a sentence introduces it: 'we propose ...', 'Our latent diffusion models (LDMs)'.
_INTRODUCES_ACRONYM = re.compile(_INTRODUCES.pattern + r"|\b(?:[Oo]ur|refer to \w+ as)\b")
# "We present the Pathways Autoregressive Text-to-Image (Parti) model": a name in parentheses where it is introduced.
_INTRODUCED_IN_PARENTHESES = re.compile(_INTRODUCES.pattern + r"[^.;()]{0,80}\(([A-Z][\w.-]{2,})\)")
# "we propose ..., the Transformer," / "we present DINO (" / "which we call X" / "named X", within a sentence.
_SELF_NAMING = re.compile(
    _INTRODUCES.pattern + r"[^.;]{0,80}?"
    r"(?:\bthe\s+|\b(?:our model|it)\s+(?:as\s+)?|\s)((?:[A-Z][\w-]*)(?:\s+[A-Z][\w-]*){0,3})"
    r"(?=\s*[,(:.;]|\s+(?:a|an|which|that)\b)"
)
# A name in quotes where it is introduced: 'Our “SimSiam” method', 'We call this recipe “Big Transfer”'.
_QUOTED_NAME = re.compile(
    r"(?:\b[Oo]ur|" + _INTRODUCES.pattern + r"[^.;]{0,60}?)\s+[“\"‘']([A-Z][\w.-]*(?:\s+[\w.-]+){0,2})[”\"’']"
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


@dataclass
class PaperNames:
    """What a paper is called: a label for citations, the names it gives itself, and the terms its front
    matter defines (its own and others': 'Vision Transformer (ViT)' in a paper that builds on ViT)."""

    short: str
    aliases: list[str]
    terms: list[str]


def read_names(title: str, front_text: str) -> PaperNames:
    """The names ``title`` and the front matter (abstract) give a paper.

    Its own names, strongest first: the title head before a colon ('BLIP: ...', up to three words), an
    acronym in the title ('Big Transfer (BiT)'), an acronym the front matter defines where it
    introduces it ('we call ... (PaLM)', 'Our latent diffusion models (LDMs)') or whose long form
    is in the title ('masked autoencoders (MAE)'), a name it introduces ('which we call FLAN', 'Our
    “SimSiam” method'), and
    last the first acronym the abstract defines unless it is cited as existing work ('such as the
    Vision Transformer (ViT)'). A plural acronym ('LLMs', 'DMs') is a paper's own only when introduced.
    The label is the first own name, else the title (cut after four words when longer than six).
    """
    text = " ".join(front_text.split())
    head = title.split(":", 1)[0].strip() if ":" in title else ""
    names = [m.group(1) for m in _DEFINED_ACRONYM.finditer(head or title)]
    names += [head] if head and len(head.split()) <= 3 else []
    definitions = _definitions(text)
    kept = [d for d in definitions if not any(_tail_of(d.long_form, o.long_form) for o in definitions if o is not d)]
    for i, d in enumerate(kept):
        cited = bool(_CITED.search(d.before))
        in_title = _words(d.long_form) <= _words(title) or d.acronym in title.split()
        first = i == 0 and definitions[0] is d and spells(d.acronym, d.long_form)
        if d.introduced or (not cited and not _PLURAL.match(d.acronym) and (in_title or first)):
            names += [d.acronym, d.long_form]
            if _PLURAL.match(d.acronym):
                names.append(d.acronym[:-1])  # 'LDMs' -> 'LDM'
    names += [m.group(1) for m in _INTRODUCED_IN_PARENTHESES.finditer(text)]
    names += [m.group(1) for m in _SELF_NAMING.finditer(text)]
    names += [m.group(1) for m in _QUOTED_NAME.finditer(text)]
    own = _clean(names, title)
    short = own[0] if own else (title if len(title.split()) <= 6 else " ".join(title.split()[:4]) + "…")
    aliases = _clean([short, *own, head or title], title)
    terms = _clean([name for d in definitions for name in (d.acronym, d.long_form)], title)
    return PaperNames(short, aliases, terms)


@dataclass
class _Definition:
    acronym: str
    long_form: str
    before: str  # the text just before the long form
    introduced: bool  # in a sentence that introduces it ('we propose', 'our')


def _definitions(text: str) -> list[_Definition]:
    """The acronyms ``text`` defines ('masked autoencoders (MAE)'), in order, each once."""
    found: list[_Definition] = []
    for match in _ANY_LONG_FORM_BEFORE.finditer(text):
        words, acronym = match.groups()
        long_form = _loosely_spelled_tail(words, acronym)
        # Two letters ('AI', 'MM') name a field, not a paper: neither they nor their long forms are names.
        if len(acronym) < 3 or not long_form or any(d.acronym == acronym for d in found):
            continue
        start = match.start(1) + words.rindex(long_form)
        lead = text[max(text.rfind(". ", 0, start) + 1, start - 50) : start]
        introduced = bool(_INTRODUCES_ACRONYM.search(lead))
        found.append(_Definition(acronym, long_form, text[max(0, start - 20) : start], introduced))
    return found


def _loosely_spelled_tail(phrase: str, acronym: str) -> str:
    """The shortest tail of ``phrase`` that starts with the acronym's first letter and holds its
    capitals in order anywhere in its letters ('masked autoencoders' for MAE), or ''."""
    letters = [ch.lower() for ch in acronym if ch.isupper()]
    words = phrase.split()
    for start in range(len(words) - 1, max(-1, len(words) - 2 * len(letters) - 2), -1):
        tail = " ".join(words[start:])
        if not letters or tail[:1].lower() != letters[0]:
            continue
        position = 0
        for ch in tail.lower():
            if position < len(letters) and ch == letters[position]:
                position += 1
        if position == len(letters):
            return tail
    return ""


def _words(text: str) -> set[str]:
    return {w.lower().rstrip("s") for w in re.findall(r"[A-Za-z0-9]+", text)}


def _tail_of(short: str, long: str) -> bool:
    """Is ``short`` the end of the longer ``long`` ('diffusion models' of 'latent diffusion models')?"""
    return len(long) > len(short) and long.lower().endswith(" " + short.lower())


def _clean(names: list[str], title: str) -> list[str]:
    """Names trimmed, at least three characters, not generic, each once (whatever the case), in order.

    A word broken at a line end is mended ('Program- Aided'), and a name the abstract writes in capitals
    takes the title's spelling ('BEIT-3' -> 'BEiT-3' when the title says 'BEiT')."""
    title_words = [w for w in re.findall(r"[\w.-]{3,}", title) if not w.isupper()]
    out: list[str] = []
    for name in names:
        name = re.sub(r"(\w)- (\w)", r"\1-\2", name.strip(" .,;:-"))
        for word in title_words:
            if name.upper().startswith(word.upper()) and name[: len(word)].isupper():
                name = word + name[len(word) :]
        if len(name) < 3 or name in _NOT_A_NAME or name.endswith("…") or name.lower() in {o.lower() for o in out}:
            continue
        out.append(name)
    return out


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
