"""PDF -> Paper (identity, pages, section tree) -> SectionTexts, ready for the chunker."""

from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path

from mmqa.errors import InputError, describe
from mmqa.parsing.chunker import SectionText, section_text
from mmqa.parsing.names import read_names
from mmqa.parsing.pdf import RawPdf, read_pdf
from mmqa.parsing.sections import (
    Marker,
    add_unnumbered,
    build_sections,
    detect_headings,
    markers_from_outline,
)
from mmqa.parsing.text import find_arxiv_stamp, strip_arxiv_stamp, title_block
from mmqa.schema import PageText, Paper, Section
from mmqa.settings import ParsingSettings
from mmqa.versions import PARSER_VERSION

log = logging.getLogger(__name__)

_ARXIV_NAME = re.compile(r"^(\d{4}\.\d{4,5})(v\d+)?$")
_RUN_IN_ABSTRACT = re.compile(r"^(Abstract)\s*[.:\u2014\u2013-]\s*(\S.*)$", re.IGNORECASE)
_CONTENTS = re.compile(r"^(table of )?contents$", re.IGNORECASE)
_DOT_LEADER_ENTRY = re.compile(r"(\.\s?){4,}\s*\d{1,3}$")
_CONTENTS_ENTRY = re.compile(r"^(\d{1,2}|[A-Z])(\.\d{1,2}){0,3}\.?\s+\S.*\s\d{1,3}$")

__all__ = ["PARSER_VERSION", "ParsedPaper", "parse_pdf", "retitled"]


class ParsedPaper:
    """A Paper plus the running text of each of its sections (same order as ``paper.sections``)."""

    def __init__(self, paper: Paper, texts: list[SectionText]) -> None:
        self.paper = paper
        self.texts = texts


def retitled(parsed: ParsedPaper, title: str) -> ParsedPaper:
    """``parsed`` under an authoritative ``title`` (the arXiv API's), its names read again from it."""
    if not title or title == parsed.paper.title:
        return parsed
    names = read_names(title, _front_text(parsed.texts))
    paper = parsed.paper
    paper.title, paper.short_name, paper.aliases, paper.terms = title, names.short, names.aliases, names.terms
    return parsed


_DIGITS = re.compile(r"\d+")
_EDGE_LINES = 2  # lines at the top and at the bottom of a page where running heads and feet sit


def _edge_indices(lines: list[str]) -> set[int]:
    """Indices of the first and last ``_EDGE_LINES`` non-empty lines of a page."""
    filled = [i for i, x in enumerate(lines) if x.strip()]
    return {*filled[:_EDGE_LINES], *filled[-_EDGE_LINES:]}


def _strip_furniture(page_lines: list[list[str]]) -> list[list[str]]:
    """Blank running headers/footers, page numbers and the arXiv stamp (line indices are kept).

    A line is furniture when it repeats on at least 40 % of the pages (3 at least). At the top and
    bottom of a page the comparison ignores numbers, so a running head that carries the page number
    ('DINO: DETR with Improved DeNoising Anchor Boxes 7', '4 H. Zhang, F. Li, et al.') is found too;
    elsewhere it does not, or a table row like 'ViT-L/16' repeated in several tables would go.
    """
    pages = len(page_lines)

    def frequent(counts: Counter[str]) -> set[str]:
        return {line for line, n in counts.items() if pages >= 4 and n >= max(3, 0.4 * pages)}

    exact = frequent(Counter(x for lines in page_lines for x in {y.strip() for y in lines if y.strip()}))
    masked = frequent(
        Counter(m for lines in page_lines for m in {_DIGITS.sub("#", lines[i].strip()) for i in _edge_indices(lines)})
    )
    cleaned: list[list[str]] = []
    for lines in page_lines:
        out = []
        edges = _edge_indices(lines)
        last_content = max(edges, default=-1)
        for i, line in enumerate(lines):
            text = line.strip()
            running = i in edges and _DIGITS.sub("#", text) in masked
            if text in exact or running or (i == last_content and text.isdigit() and len(text) <= 4):
                out.append("")
            else:
                out.append(strip_arxiv_stamp(line).strip())
        cleaned.append(out)
    return cleaned


def _split_run_in_abstract(page_lines: list[list[str]]) -> list[list[str]]:
    """Put a run-in 'Abstract. We present ...' heading (LNCS style) on a line of its own.

    Then it is found as a heading like a stand-alone 'Abstract', and the title, author and
    affiliation lines above it stay out of the abstract's passages, as they do for other layouts.
    """
    if not page_lines:
        return page_lines
    first = page_lines[0]
    for idx, line in enumerate(first):
        match = _RUN_IN_ABSTRACT.match(line.strip())
        if match and match.group(2)[:1].isupper():
            return [[*first[:idx], match.group(1), match.group(2), *first[idx + 1 :]], *page_lines[1:]]
        if line.strip().lower().rstrip(":") == "abstract":
            break
    return page_lines


def _blank_contents(page_lines: list[list[str]]) -> list[list[str]]:
    """Blank a table of contents: entries with dot leaders, and the run of 'N Title PAGE' lines under
    a 'Contents' heading. They are navigation, not content, and would match every section-title query."""
    cleaned: list[list[str]] = []
    for lines in page_lines:
        out: list[str] = []
        in_contents = False
        for line in lines:
            text = line.strip()
            if _CONTENTS.match(text):
                in_contents = True
                out.append("")
                continue
            entry = bool(_DOT_LEADER_ENTRY.search(text)) or (in_contents and bool(_CONTENTS_ENTRY.match(text)))
            in_contents = in_contents and (entry or not text)
            out.append("" if entry else line)
        cleaned.append(out)
    return cleaned


def _identity(raw: RawPdf) -> tuple[str, str]:
    """(doc_id, version): the arXiv id from the file name or the page-1 stamp, else a slug of the name."""
    stem = raw.path.stem
    stamp = find_arxiv_stamp(" ".join(raw.page_lines[0])) if raw.page_lines else None
    match = _ARXIV_NAME.match(stem)
    if match:
        version = match.group(2) or (stamp[1] if stamp and stamp[0] == match.group(1) else "")
        return match.group(1), version
    if stamp:
        return stamp
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-").lower() or "paper"
    return slug[:80], ""


def _title(raw: RawPdf, first_page: list[str]) -> str:
    title = raw.title_guess
    if not title:
        title = next((line.strip() for line in first_page if len(line.split()) >= 3), raw.path.stem)
    if title.isupper():
        title = " ".join(w if any(ch.isdigit() for ch in w) else w.capitalize() for w in title.split())
    return title


def _front_text(texts: list[SectionText]) -> str:
    """Where a paper names itself: its abstract when one of the first sections is the abstract (before it
    may come author lines read as a section), else the start of its text."""
    abstracts = [t for t in texts[:4] if t.section.title.lower().strip(" .:") == "abstract" and len(t.text) > 200]
    return (abstracts[0] if abstracts else texts[0]).text[:3000] if texts else ""


def _markers(page_lines: list[list[str]], raw: RawPdf, settings: ParsingSettings) -> tuple[list[Marker], bool]:
    if len(raw.outline) >= settings.min_outline_entries:
        return add_unnumbered(page_lines, markers_from_outline(page_lines, raw.outline)), True
    return detect_headings(page_lines), False


def parse_pdf(path: Path, settings: ParsingSettings, password: str | None = None) -> ParsedPaper:
    """Parse one PDF into a Paper with its section tree and the text of each section.

    ``password`` opens an encrypted PDF (see ``read_pdf``). Raises InputError (one line: file and reason)
    for anything that cannot be read, whatever went wrong: one odd file never stops a batch.
    """
    try:
        return _parse(path, settings, password)
    except InputError:
        raise
    except RecursionError as exc:
        raise InputError(str(path), "could not be parsed (nested too deeply)") from exc
    except Exception as exc:
        log.debug("%s: parsing failed", path, exc_info=True)
        raise InputError(str(path), f"could not be parsed ({describe(exc)})") from exc


def _section_texts(
    markers: list[Marker], sections: list[Section], page_lines: list[list[str]], keep_first_line: bool = False
) -> list[SectionText]:
    """The running text of each section. A heading line is not body text, nor (unless ``keep_first_line``)
    the line the first marker sits on: the synthetic front-matter marker sits on line 1, usually the title."""
    texts: list[SectionText] = []
    for i, (marker, section) in enumerate(zip(markers, sections, strict=True)):
        nxt = markers[i + 1] if i + 1 < len(markers) else None
        lines: list[tuple[int, str]] = []
        for page in range(marker.page, (nxt.page if nxt else len(page_lines)) + 1):
            page_text = page_lines[page - 1]
            lo = marker.line + (0 if keep_first_line and i == 0 else 1) if page == marker.page else 0
            hi = nxt.line if nxt and page == nxt.page else len(page_text)
            lines.extend((page, line) for line in page_text[lo:hi])
        texts.append(section_text(section, lines))
    return texts


def _parse(path: Path, settings: ParsingSettings, password: str | None) -> ParsedPaper:
    raw = read_pdf(path, password)
    page_lines = _blank_contents(_split_run_in_abstract(_strip_furniture(raw.page_lines)))
    markers, has_outline = _markers(page_lines, raw, settings)
    if not markers or (markers[0].page, markers[0].line) > (1, 0):
        first_page_text = " ".join(page_lines[0][:80]).lower()
        title = "Abstract" if "abstract" in first_page_text else "Front matter"
        markers.insert(0, Marker(1, 0, "", title, "front"))
    # An explicit 'Abstract' heading after our synthetic front matter replaces it.
    if len(markers) > 1 and markers[0].title == markers[1].title == "Abstract":
        markers.pop(0)
    sections = build_sections(markers, len(page_lines))
    texts = _section_texts(markers, sections, page_lines)
    if not any(t.text.strip() for t in texts):
        # A one-line document (a form, a test page, a title alone): that line is all the text there is.
        texts = _section_texts(markers, sections, page_lines, keep_first_line=True)

    doc_id, version = _identity(raw)
    title = _title(raw, raw.page_lines[0] if raw.page_lines else [])
    names = read_names(title, _front_text(texts))
    paper = Paper(
        doc_id=doc_id,
        title=title,
        short_name=names.short,
        aliases=names.aliases,
        terms=names.terms,
        version=version,
        source_path=str(path.resolve()),
        sha256=raw.sha256,
        pages=[
            PageText(i + 1, label, "\n".join(lines))
            for i, (label, lines) in enumerate(zip(raw.page_labels, page_lines, strict=True))
        ],
        sections=sections,
        has_outline=has_outline,
        has_page_labels=raw.has_page_labels,
        lost_pages=raw.lost_pages,
        # from the raw page: a title repeated as the running head of every page is furniture, but not here
        title_lines=title_block([strip_arxiv_stamp(x) for x in raw.page_lines[0]] if raw.page_lines else []),
    )
    return ParsedPaper(paper, texts)
