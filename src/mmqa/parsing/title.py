"""A paper's title: from the PDF's metadata when it is sound, else from the title block atop page 1.

The title block is the run of lines in the page's largest font above the abstract, in the top half
of the page. That leaves out figure text (lower down, or after the abstract), author lines (a
smaller font) and running heads. Small capitals (a big capital followed by smaller capitals,
'L' 'ORA') are read back as the case they stand for ('LoRA'); a word broken across lines
('LAN-' 'GUAGE') is joined; letters that pypdf split apart ('ReAc t') are joined when page 1 spells
the word whole.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from mmqa.parsing.text import normalize, squash

_TOP_SHARE = 0.55  # the title block sits in the top 55 % of the page (y measured from the bottom)
_TITLE_OVER_BODY = 1.15  # the title's font is at least this much larger than the body text's
_BIG = 0.9  # of the largest size: a piece in the title's font
_SMALL_CAPS = 0.6  # of the largest size: smaller capitals of a small-caps title; below that, footnote marks
_LINE_GAP = 2.4  # lines of one title are at most this many font sizes apart
_JUNK_META = re.compile(
    r"^(microsoft (word|powerpoint)|untitled|title|paper|main|manuscript)\b|\.(pdf|docx?|tex|dvi|ps)$", re.IGNORECASE
)
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


@dataclass
class _Piece:
    size: float
    y: float
    text: str


def letters(text: str) -> str:
    """Lower-case letters and digits only: how two spellings of one title are compared."""
    return "".join(ch for ch in normalize(text).lower() if ch.isalnum())


def sound_metadata_title(meta_title: str | None, first_page_text: str) -> str:
    """The metadata title if it is sound (not empty, not a file name or a word processor's stub,
    not digits only, and printed on page 1), else ''."""
    title = squash(normalize(meta_title or ""))
    if len(title.split()) < 2 or _JUNK_META.search(title) or not any(ch.isalpha() for ch in title):
        return ""
    if "@" in title or "/" in title.split()[0]:
        return ""
    return title if letters(title) in letters(first_page_text) else ""


def title_block(page) -> str:
    """The title drawn atop ``page`` (a pypdf page), or '' when no line stands out by its font size."""
    pieces = _pieces(page)
    if not pieces:
        return ""
    weight: Counter[float] = Counter()
    for piece in pieces:
        weight[piece.size] += len(piece.text.strip())
    body = weight.most_common(1)[0][0]
    box = page.mediabox
    floor = float(box.bottom) + (1 - _TOP_SHARE) * float(box.height)
    lines = _lines([p for p in pieces if p.y >= floor])
    lines = _above_abstract(lines)
    sizes = [p.size for line in lines for p in line if any(ch.isalnum() for ch in p.text)]
    if not sizes or max(sizes) < body * _TITLE_OVER_BODY:
        return ""
    biggest = max(sizes)
    block: list[list[_Piece]] = []
    for line in lines:
        big = any(p.size >= biggest * _BIG for p in line)
        if block and (not big or block[-1][0].y - line[0].y > _LINE_GAP * biggest):
            break
        if big:
            block.append([p for p in line if p.size >= biggest * _SMALL_CAPS])
    return _joined([_line_text(line, biggest) for line in block])


def _pieces(page) -> list[_Piece]:
    """Upright text pieces of ``page`` with their font size and baseline height, in drawing order.

    Text inside form XObjects (figures pasted in as a whole: plots, diagrams) is left out: pypdf
    reports it in the form's own coordinates, so neither its size nor its place on the page is known.
    Only when all of a page's text is in forms is that text used.
    """
    page_pieces: list[_Piece] = []
    form_pieces: list[_Piece] = []
    depth = [0, 0]  # forms entered, forms whose "Do" was seen but whose content has not started

    def before(operator, operands, cm, tm):
        if depth[1]:  # the first operator of a form's content
            depth[0], depth[1] = depth[0] + depth[1], 0
        if operator == b"Do":
            depth[1] += 1

    def after(operator, operands, cm, tm):
        if operator == b"Do":
            if depth[1]:
                depth[1] -= 1
            else:
                depth[0] = max(0, depth[0] - 1)

    def visit(text, cm, tm, font_dict, font_size):
        if not text.strip():
            return
        # The text matrix times the current transformation matrix places and scales the glyphs.
        a, b = tm[0] * cm[0] + tm[1] * cm[2], tm[0] * cm[1] + tm[1] * cm[3]
        c, d = tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3]
        if a <= 0 or abs(b) > 0.01 * abs(a):  # rotated text: the arXiv stamp in the margin, axis labels
            return
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        piece = _Piece(round(font_size * (c * c + d * d) ** 0.5, 1), y, normalize(text))
        (form_pieces if depth[0] else page_pieces).append(piece)

    try:
        page.extract_text(visitor_text=visit, visitor_operand_before=before, visitor_operand_after=after)
    except Exception:  # a damaged page gives no title, not a failed ingest
        return []
    return page_pieces or form_pieces


def _lines(pieces: list[_Piece]) -> list[list[_Piece]]:
    """Pieces grouped by baseline, top line first, each line in drawing order."""
    lines: list[list[_Piece]] = []
    for piece in sorted(pieces, key=lambda p: -p.y):  # sorted() is stable: drawing order within a line
        if lines and abs(lines[-1][0].y - piece.y) <= 1.5:
            lines[-1].append(piece)
        else:
            lines.append([piece])
    return lines


def _above_abstract(lines: list[list[_Piece]]) -> list[list[_Piece]]:
    """The lines above an 'Abstract' heading (all of them when there is none)."""
    for i, line in enumerate(lines):
        if letters("".join(p.text for p in line)).startswith("abstract") and i > 0:
            return lines[:i]
    return lines


def _line_text(line: list[_Piece], biggest: float) -> str:
    """A title line's text; in small caps, the smaller capitals stand for lower-case letters."""
    small_caps = any(p.size >= biggest * _BIG for p in line) and any(
        p.size < biggest * _BIG and p.text.strip().isupper() for p in line
    )
    parts = [p.text.lower() if small_caps and p.size < biggest * _BIG and p.text.isupper() else p.text for p in line]
    return squash("".join(parts))


def _joined(lines: list[str]) -> str:
    """Title lines as one string; a word hyphenated at a line break stays one word ('Lan-guage'; ``mended``
    decides on the hyphen)."""
    title = ""
    for line in lines:
        if not line:
            continue
        if title.endswith("-"):
            title += line
        else:
            title = f"{title} {line}".strip()
    return re.sub(r"\s+([:,;?!])", r"\1", title)[:300]


def mended(title: str, page_text: str) -> str:
    """``title`` with words pypdf split apart ('ReAc t') or hyphenated across lines ('Lan-guage') spelled
    as the rest of page 1 spells them ('ReAct', 'language'); a compound the page hyphenates keeps its hyphen."""
    words = {w.lower(): w for w in _WORD.findall(normalize(page_text)) if len(w) > 2}
    tokens = title.split(" ")
    out: list[str] = []
    for token in tokens:
        if out:
            joined = re.sub(r"[^\w-]", "", out[-1] + token)
            bare = joined.strip("-")
            if bare and bare.lower() in words and min(len(out[-1].strip(":,")), len(token.strip(":,"))) <= 2:
                out[-1] = out[-1] + token
                continue
        out.append(token)
    result = " ".join(out)

    def unhyphenated(match: re.Match) -> str:
        # 'Lan-guage' (joined from a line break above): the page spells it 'language', so drop the hyphen.
        whole = match.group(1) + match.group(2)
        return whole if whole.lower() in words and match.group(0).lower() not in words else match.group(0)

    return re.sub(r"\b([A-Za-z]+)-([a-z]+)\b", unhyphenated, result)
