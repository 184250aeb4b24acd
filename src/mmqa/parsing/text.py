"""Text clean-up and sentence splitting for pypdf output."""

from __future__ import annotations

import re
import unicodedata

_ABBREVIATIONS = {
    "al", "e.g", "i.e", "fig", "figs", "eq", "eqs", "sec", "secs", "tab", "vs", "resp", "cf", "approx",
    "no", "ref", "refs", "appx", "app", "ch", "et", "etc", "dr", "mr", "ms", "jr", "inc", "vol", "pp",
}  # fmt: skip
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)\]]*\s+(?=[A-Z0-9“\"(\[])")
# A list item ('• No Biases – ...') starts a new sentence even when the text before it has no full
# stop ('with the following modifications: • SwiGLU ...'): each item is its own topic.
_BULLET_START = re.compile(r"\s+(?=[•◦▪‣∙]\s)")
# A line break ends a sentence: only a table passage keeps them (one row per line); running text is joined.
_LINE_BREAK = re.compile(r"\s*\n\s*")
_ARXIV_STAMP = re.compile(r"arXiv:\s?(\d{4}\.\d{4,5})(v\d+)?\s*\[[\w.-]+\]\s*\d{1,2}\s\w{3}\s\d{4}")


def normalize(text: str) -> str:
    """NFKC (ligatures 'ﬁ' -> 'fi', so both BM25 and the word-piece tokenizer see real words), drop NULs."""
    return unicodedata.normalize("NFKC", text).replace("\x00", "")


def squash(text: str) -> str:
    """Collapse whitespace runs to single spaces."""
    return " ".join(text.split())


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of running text.

    Abbreviations such as 'et al.', 'Fig.' and initials do not end a sentence; a list item
    ('• ...') and a new line (a table's row) always start one.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    forced = {m.start(): m for pattern in (_BULLET_START, _LINE_BREAK) for m in pattern.finditer(text)}
    boundaries = {m.start(): m for m in _SENTENCE_END.finditer(text)} | forced
    for pos in sorted(boundaries):
        match = boundaries[pos]
        before = text[start : match.start()].rstrip('"”’)]')
        last_word = before.rsplit(" ", 1)[-1].rstrip(".").lower()
        abbreviation = last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha())
        if abbreviation and match.start() not in forced:
            continue
        end = match.start() + len(text[match.start() : match.end()].rstrip())
        if text[start:end].strip():
            spans.append((start, end))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def split_sentences(text: str) -> list[str]:
    """The sentences of running text (see ``sentence_spans``)."""
    return [text[a:b].strip() for a, b in sentence_spans(text)]


def find_arxiv_stamp(text: str) -> tuple[str, str] | None:
    """The (id, version) of an arXiv stamp like 'arXiv:1512.03385v1 [cs.CV] 10 Dec 2015', if present."""
    match = _ARXIV_STAMP.search(text)
    if not match:
        return None
    return match.group(1), (match.group(2) or "")


def strip_arxiv_stamp(text: str) -> str:
    """Remove the arXiv side stamp, which pypdf interleaves with the page text."""
    return _ARXIV_STAMP.sub(" ", text)


TITLE_BLOCK_LINES = 20


def title_block(first_page: list[str]) -> list[str]:
    """The non-empty lines at the top of page 1, up to the 'Abstract' heading (at most 20): where a paper
    prints its title, whatever the title extraction makes of it. Entries of other papers' bibliographies
    are linked against these lines (``acquire.links``)."""
    lines: list[str] = []
    for line in (x.strip() for x in first_page):
        if line.lower().rstrip(".:") == "abstract" or len(lines) >= TITLE_BLOCK_LINES:
            break
        if line:
            lines.append(line)
    return lines


def name_pattern(name: str) -> str:
    """A name as a regex matching how papers print it. Acronyms and mixed-case words ('BLOOM', 'PaLM') keep
    their case ('Bloom filter' is not BLOOM) or are set in capitals ('VLMO' is VLMo); other words match in
    any case. A hyphen also matches a space ('shuffling-BN' is 'Shuffling BN'), an 'x' between digits a
    times sign ('448x448' is '448 × 448')."""
    parts = []
    for part in name.split("-"):
        escaped = re.sub(r"(?<=\d)x(?=\d)", r"\\s*[x×]\\s*", re.escape(part))
        if sum(ch.isupper() for ch in part) >= 2:
            upper = re.escape(part.upper())
            parts.append(f"(?:{escaped}|{upper})" if upper != escaped else escaped)
        else:
            parts.append(f"(?i:{escaped})")
    return r"[\s\-]+".join(parts)
