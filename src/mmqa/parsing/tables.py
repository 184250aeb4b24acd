"""Finding a table's rows beside its caption, so a row can be indexed and quoted as a unit.

pypdf gives a table as one line per row (a cell that wraps gives more), with no column positions. In
running text those lines are glued into one run-on 'sentence' with no header and no caption, which
neither retriever matches well: the caption ('Table 1: Summary of ...') is in another chunk, and the
header ('Model / Paper Complexity Decode Class') is in the first one only. A table's lines are the run
of row-like lines right above or right below its caption.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mmqa.parsing.text import split_sentences

_PROSE_WORD = re.compile(r"^[a-z][a-z-]+[,;:]?$")  # 'of', 'the', 'results,', 'fine-tuned'
_SENTENCE_INSIDE = re.compile(r"[a-z)\]][.:] [A-Z]")  # '... = 0.1 [36]. This'
# How a caption opens ('Table 1:', 'Fig. 3.', 'Table A.2 |'): the label's kind and number. The chunker finds
# captions by it too.
CAPTION_LABEL = r"^(Figure|Fig\.|Table)\s+([A-Z]?\.?\d{1,2})\s*[:.|]"
_CAPTION = re.compile(CAPTION_LABEL)
_MIN_ROWS = 2
_MAX_LINES = 80


@dataclass(frozen=True)
class TableRows:
    """The lines of one table: ``label`` ('Table 1'), ``caption`` (its first sentence), ``header`` (the
    table's top line), and each row's (start, end) offsets in
    the section's running text."""

    label: str
    caption: str
    header: str
    rows: list[tuple[int, int]]


def is_row_like(line: str) -> bool:
    """A line of a table rather than of prose: under half of its words are lowercase words of running text
    ('Perceiver (Jaegle et al., 2021) O(kN) ✓ M+DS', 'ViT-B/16 86M 77.9 84.0'); never a caption."""
    words = line.split()
    if not words or _CAPTION.match(line):
        return False
    prose = sum(1 for w in words if _PROSE_WORD.match(w))
    if prose >= 4 and _SENTENCE_INSIDE.search(line):
        return False
    mostly_not_prose = prose * 2 < len(words) and not line.rstrip().endswith((".", ":"))
    return mostly_not_prose or (len(words) >= 3 and prose * 4 < len(words))


def _lines(text: str, starts: list[int]) -> list[tuple[int, int]]:
    ends = [*starts[1:], len(text)][: len(starts)]
    return [(a, a + len(text[a:b].rstrip())) for a, b in zip(starts, ends, strict=True)]


def _run(lines: list[tuple[int, int]], text: str, indices: range) -> list[int]:
    """The indices of the row-like lines in ``indices``, up to the first line that is not one (a single
    prose-like line between two row-like ones is a wrapped cell and is kept)."""
    run: list[int] = []
    order = list(indices)
    for position, i in enumerate(order):
        if len(run) >= _MAX_LINES:
            break
        a, b = lines[i]
        if is_row_like(text[a:b]):
            run.append(i)
            continue
        after = order[position + 1] if position + 1 < len(order) else None
        if run and after is not None and is_row_like(text[slice(*lines[after])]):
            run.append(i)
            continue
        break
    return run


def _rows(run: list[int], lines: list[tuple[int, int]], text: str) -> list[int]:
    """The lines of ``run`` that hold a letter or digit, if they look like a table: at least ``_MIN_ROWS``
    of them, and at least half with two or more words (a figure's axis ticks above a table's caption are
    one number per line); else none."""
    kept = [i for i in run if any(ch.isalnum() for ch in text[slice(*lines[i])])]
    multiword = sum(len(text[slice(*lines[i])].split()) >= 2 for i in kept)
    return kept if len(kept) >= _MIN_ROWS and multiword * 2 >= len(kept) else []


def find_tables(text: str, starts: list[int], captions: list[tuple[str, int, int]]) -> list[TableRows]:
    """The rows of each table in ``captions`` ((label, start, end) of captions in a section's running
    ``text``, whose lines start at ``starts``) that has at least two row-like lines right above or right
    below its caption."""
    lines = _lines(text, starts)
    first_line = {a: i for i, (a, _) in enumerate(lines)}
    tables: list[TableRows] = []
    for label, start, end in captions:
        if not label.startswith("Table") or start not in first_line:
            continue
        top = first_line[start]
        below_from = next((i for i, (a, _) in enumerate(lines) if a >= end), len(lines))
        above = _rows(_run(lines, text, range(top - 1, -1, -1))[::-1], lines, text)
        below = _rows(_run(lines, text, range(below_from, len(lines))), lines, text)
        rows = above if len(above) >= len(below) else below
        if not rows:
            continue
        # 'Table 7. Error rates of ...' / 'Table 1: Summary of ...': the first sentence after the label.
        body = text[start:end].split(None, 2)[2:]
        first = split_sentences(body[0].lstrip(":.| "))[:1] if body else []
        caption = f"{label}: {first[0]}" if first else f"{label}."
        header_line = rows[0]
        header = text[slice(*lines[header_line])]
        tables.append(TableRows(label, caption, header, _whole_cells(rows[1:], lines, text)))
    return tables


def _whole_cells(rows: list[int], lines: list[tuple[int, int]], text: str, most: int = 3) -> list[tuple[int, int]]:
    """(start, end) of each row, a row whose brackets are left open ('Sparse Transformer (Child et al., 2019)
    O(N', then '√', then 'N) ✓ FP': a cell pypdf broke over lines) joined with up to ``most`` rows after it
    (a line between them with no letter or digit, like '√', comes along)."""
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(rows):
        start, end = lines[rows[i]]
        j = i
        while _open_brackets(text[start:end]) > 0 and j + 1 < len(rows) and j - i < most and rows[j + 1] - rows[j] <= 2:
            j += 1
            end = lines[rows[j]][1]
        spans.append((start, end))
        i = j + 1
    return spans


def _open_brackets(line: str) -> int:
    return line.count("(") + line.count("[") - line.count(")") - line.count("]")
