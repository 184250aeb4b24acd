"""Finding where sections start: from the PDF outline when there is one, from the text otherwise.

A section start is a ``Marker``: a (page, line) position plus the Section it opens. Everything
between two markers belongs to the first one, so sections tile the document without gaps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mmqa.parsing.pdf import OutlineEntry
from mmqa.schema import Section

_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(\S.{0,90})$")
_APPENDIX = re.compile(r"^([A-H](?:\.\d{1,2}){0,2})\.?\s+([A-Z].{0,90})$")
_OUTLINE_NUMBER = re.compile(r"^((?:\d{1,2}|[A-Z])(?:\.\d{1,2}){0,3})\.?\s+(.+)$")
# A bibliography entry broken across lines can open a line like an appendix heading ('A. Going deeper with
# convolutions. In Proceedings of ...'): a sentence ending inside it ('. In'), a year as a citation prints it
# ('2014.', '2019a,') or a venue gives it away; 'A Results on WMT 2014 English-German' is a heading.
_REFERENCE_LIKE = re.compile(r"\.\s+[A-Z][a-z]|\b(?:19|20)\d\d[a-z]?[.,;)]|\bIn Proc|\barXiv\b|\bpp\.")
_SENTENCE_OPENERS = {"We", "Our", "This", "These", "It", "In", "The", "Then", "As", "For", "To", "Note"}
_UNNUMBERED = {
    "abstract": "front",
    "references": "references",
    "bibliography": "references",
    "acknowledgments": "body",
    "acknowledgements": "body",
    "acknowledgment": "body",
    "acknowledgement": "body",
    "appendix": "appendix",
    "appendices": "appendix",
}


@dataclass
class Marker:
    """Where a section starts: 1-based page, line index on that page, and the section."""

    page: int
    line: int
    number: str
    title: str
    kind: str


def _key(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _number_tuple(number: str) -> tuple[int, ...]:
    parts = number.split(".")
    head = parts[0]
    first = int(head) if head.isdigit() else 100 + ord(head) - ord("A")
    return (first, *(int(p) for p in parts[1:]))


def _is_successor(prev: tuple[int, ...] | None, cand: tuple[int, ...]) -> bool:
    if prev is None:
        return cand in {(1,), (100,)}
    if cand == (*prev, 1):
        return True
    return any(cand == (*prev[:i], prev[i] + 1) for i in range(len(prev)))


def _plausible_title(title: str) -> bool:
    words = title.split()
    if not words or len(words) > 14 or title.endswith((".", ",", ";", ":")) or title[0].islower():
        return False
    letters = sum(ch.isalpha() for ch in title)
    if letters < 3 or letters < 0.6 * len(title.replace(" ", "")):
        return False
    if title.endswith("-") or any(word.isdigit() for word in words[:2]):
        return False
    # Numbered list items in running text ('2 We conduct intensive ablation studies ...') read like
    # sentences: long, mostly lower-case, often opening with a pronoun.
    capitalized = sum(word[0].isupper() for word in words)
    if len(words) > 5 and words[0] in _SENTENCE_OPENERS:
        return False
    return not (len(words) > 8 and capitalized < 0.4 * len(words))


def _unnumbered_kind(line: str) -> str | None:
    cleaned = line.strip().rstrip(":").strip()
    return _UNNUMBERED.get(cleaned.lower()) if len(cleaned) < 20 else None


def detect_headings(page_lines: list[list[str]]) -> list[Marker]:
    """Find numbered headings ('3.1. Residual Learning', 'B Training Efficiency') in the text.

    A candidate counts only if its number is a valid successor of the previous heading (sibling,
    first child, or next sibling of an ancestor), which rejects table rows and numbered lists.
    """
    markers: list[Marker] = []
    prev: tuple[int, ...] | None = None
    after_references = False
    for page_no, lines in enumerate(page_lines, start=1):
        for idx, raw in enumerate(lines):
            line = raw.strip()
            kind = _unnumbered_kind(line)
            if kind:
                markers.append(Marker(page_no, idx, "", line.rstrip(":").strip().title(), kind))
                after_references = after_references or kind == "references"
                continue
            # Numbered entries after the bibliography heading are references, not sections.
            match = None if after_references else _NUMBERED.match(line)
            if not match:
                numbered_sections = sum(1 for m in markers if m.number)
                match = _APPENDIX.match(line) if numbered_sections >= 3 else None
                if not match:
                    continue
            number, title = match.group(1), match.group(2).strip()
            if not _plausible_title(title) or (after_references and _REFERENCE_LIKE.search(title)):
                continue
            cand = _number_tuple(number)
            in_appendix = cand[0] >= 100
            if in_appendix and prev is not None and prev[0] < 100 and cand == (100,):
                ok = True
            else:
                ok = _is_successor(prev, cand)
            if ok:
                kind = "appendix" if in_appendix else "body"
                markers.append(Marker(page_no, idx, number, title, kind))
                prev = cand
    return markers


def _find_line(
    page_lines: list[list[str]], page: int, title: str, after: tuple[int, int], depth: int = -1
) -> tuple[int, str] | None:
    """(index of the line on ``page`` where ``title`` starts, possibly wrapped over two lines; the section
    number printed before it, or ''). A printed number counts only at the outline ``depth`` (0: '2',
    1: '2.1'), so a list item that merely opens with a number is not taken for the section's; a line
    with such a number wins over an earlier one without (a label in a figure that reads the same)."""
    target = _key(title)
    if not target:
        return None
    lines = page_lines[page - 1]
    start = after[1] + 1 if after[0] == page else 0
    first: tuple[int, str] | None = None
    for idx in range(start, len(lines)):
        candidates = [(lines[idx], "")]
        printed = _OUTLINE_NUMBER.match(lines[idx].strip())
        if printed:
            level_fits = len(printed.group(1).split(".")) == depth + 1
            candidates.append((printed.group(2), printed.group(1) if level_fits else ""))
        for text, number in candidates:
            here = _key(text)
            if not here:
                continue
            joined = here + (_key(lines[idx + 1]) if idx + 1 < len(lines) else "")
            if here.startswith(target) or (len(here) >= 4 and target.startswith(here) and joined.startswith(target)):
                if number:  # the printed heading: better than a figure label above it that reads the same
                    return idx, number
                first = first or (idx, "")
    return first


def markers_from_outline(page_lines: list[list[str]], outline: list[OutlineEntry]) -> list[Marker]:
    """Place each outline entry at the line where its title is printed (top of its page if not found).

    An outline entry without a number ('Modality Encoder') takes the number printed with its heading
    ('2.1 Modality Encoder'), so sections, chunks and ``cited_in`` carry numbers as the text shows them.
    """
    markers: list[Marker] = []
    last = (0, -1)
    for entry in outline:
        match = _OUTLINE_NUMBER.match(entry.title)
        number, title = (match.group(1), match.group(2).strip()) if match else ("", entry.title)
        depth = -1 if number else entry.depth  # a numbered outline entry keeps its own number
        page = max(entry.page, last[0])
        found = _find_line(page_lines, page, entry.title, last, depth)
        if found is None and page + 1 <= len(page_lines):
            found = _find_line(page_lines, page + 1, entry.title, last, depth)
            page = page + 1 if found is not None else page
        line = found[0] if found is not None else (last[1] + 1 if page == last[0] else 0)
        number = number or (found[1] if found is not None else "")
        kind = _unnumbered_kind(title) or ("appendix" if number[:1].isalpha() else "body")
        markers.append(Marker(page, line, number, title, kind))
        last = (page, line)
    return markers


def add_unnumbered(page_lines: list[list[str]], markers: list[Marker]) -> list[Marker]:
    """Add 'Abstract' / 'References' headings the outline left out (e.g. PaLM's bibliography)."""
    known = {m.title.lower() for m in markers}
    extra = [m for m in detect_headings(page_lines) if not m.number and m.title.lower() not in known]
    return sorted(markers + extra, key=lambda m: (m.page, m.line))


def build_sections(markers: list[Marker], page_count: int) -> list[Section]:
    """Turn markers into Sections with page ranges; text before the first marker is the front matter."""
    sections: list[Section] = []
    for i, marker in enumerate(markers):
        if i + 1 < len(markers):
            nxt = markers[i + 1]
            end = nxt.page if nxt.line > 0 else max(marker.page, nxt.page - 1)
        else:
            end = page_count
        level = len(marker.number.split(".")) if marker.number else 1
        sections.append(Section(marker.number, marker.title, marker.page, end, level, marker.kind))
    return sections
