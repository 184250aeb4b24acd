"""Cutting sections into chunks that never cross a section boundary and fit the embedder.

Each section's lines are joined into running text (hyphenation undone), split into sentences,
and packed greedily up to the word-piece budget, repeating the last sentence of a chunk at the
start of the next. Figure and table captions also become chunks of their own, and so do a table's rows
(a few per chunk, one per line, under the table's caption and header line).
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from dataclasses import dataclass, field

from mmqa.parsing.tables import CAPTION_LABEL, TableRows, find_tables
from mmqa.parsing.text import sentence_spans
from mmqa.parsing.tokens import TokenCounter
from mmqa.schema import Chunk, Paper, Section
from mmqa.settings import ChunkSettings

_CAPTION = re.compile(CAPTION_LABEL + r"\s*\S")


@dataclass
class SectionText:
    """A section's running text and, for each character offset range, the page it came from."""

    section: Section
    text: str
    starts: list[int]  # offset where each line starts
    pages: list[int]  # page of each line
    paragraph_starts: set[int] = field(default_factory=set)  # offsets where a paragraph or list item starts

    def page_at(self, offset: int) -> int:
        """The page of the character at ``offset``."""
        if not self.pages:
            return self.section.page_start
        return self.pages[max(0, bisect_right(self.starts, offset) - 1)]


_BULLETS = ("•", "◦", "▪", "‣", "∙")


def _typical_widths(lines: list[tuple[int, str]]) -> dict[int, float]:
    widths: dict[int, list[int]] = {}
    for page, line in lines:
        if len(line.strip()) > 20:
            widths.setdefault(page, []).append(len(line.strip()))
    return {page: sorted(ws)[len(ws) // 2] for page, ws in widths.items()}


def section_text(section: Section, lines: list[tuple[int, str]]) -> SectionText:
    """Join (page, line) pairs into running text, undoing hyphenation at line ends.

    A line starts a paragraph when it opens a list item, or when the line before it ended a
    sentence well short of the page's usual line width.
    """
    widths = _typical_widths(lines)
    text = ""
    starts: list[int] = []
    pages: list[int] = []
    paragraphs: set[int] = set()
    previous = ""
    for page, raw in lines:
        line = raw.strip()
        if not line:
            continue
        if text.endswith("-") and len(text) > 1 and text[-2].isalpha() and line[0].islower():
            text = text[:-1]
        elif text:
            text += " "
        short_previous = previous.endswith((".", ":", "!", "?")) and len(previous) < 0.8 * widths.get(page, 80)
        if line.startswith(_BULLETS) or short_previous:
            paragraphs.add(len(text))
        starts.append(len(text))
        pages.append(page)
        text += line
        previous = line
    return SectionText(section, text, starts, pages, paragraphs)


def _content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _section_path(section: Section, sections: list[Section]) -> str:
    if not section.number:
        return section.title
    by_number = {s.number: s for s in sections if s.number}
    parts = section.number.split(".")
    chain = [by_number.get(".".join(parts[: i + 1])) for i in range(len(parts))]
    return " > ".join(s.label for s in chain if s is not None)


class Chunker:
    """Turns a parsed Paper into Chunks sized for the embedder."""

    def __init__(self, settings: ChunkSettings, counter: TokenCounter) -> None:
        self.settings = settings
        self.counter = counter

    def chunk(self, paper: Paper, texts: list[SectionText]) -> list[Chunk]:
        """All chunks of ``paper``: text chunks per section, then caption chunks."""
        chunks: list[Chunk] = []
        for st in texts:
            for start, end in self._pack(paper, st):
                self._append(chunks, paper, st, st.text[start:end], start, end, "text", "")
        for st in texts:
            captions = _captions(st)
            for figure, start, end in captions:
                text = self._fit(st.text[start:end], self._budget(paper, st.section, figure))
                self._append(chunks, paper, st, text, start, start + len(text), "caption", figure)
            for table in find_tables(st.text, st.starts, captions):
                for text, start, end in self._table_parts(paper, st, table):
                    self._append(chunks, paper, st, text, start, end, "table", table.label)
        return chunks

    def _table_parts(self, paper: Paper, st: SectionText, table: TableRows) -> list[tuple[str, int, int]]:
        """(text, start, end) of each chunk of ``table``'s rows: its caption's first sentence and its header
        line, then as many whole rows (one per line) as fit ``table_tokens``."""
        budget = min(self.settings.table_tokens, self._budget(paper, st.section, table.label))
        half = budget // 2
        head = f"{self._fit(table.caption, half)}\n{self._fit(table.header, half // 2)}"
        budget -= self.counter.count(head)
        counts = self.counter.count_many([st.text[a:b] for a, b in table.rows])
        parts: list[tuple[str, int, int]] = []
        group: list[tuple[int, int]] = []
        used = 0
        for row, count in zip([*table.rows, None], [*counts, 0], strict=True):
            if group and (row is None or used + count + 1 > budget):
                rows = "\n".join(self._fit(st.text[a:b], budget) for a, b in group)  # a row over budget is cut
                parts.append((f"{head}\n{rows}", group[0][0], group[-1][1]))
                group, used = [], 0
            if row is not None:
                group.append(row)
                used += count + 1
        return parts

    def _append(
        self, chunks: list[Chunk], paper: Paper, st: SectionText, text: str, start: int, end: int,
        kind: str, figure: str,
    ) -> None:  # fmt: skip
        section = st.section
        page_start, page_end = st.page_at(start), st.page_at(max(start, end - 1))
        index = len(chunks)
        chunks.append(
            Chunk(
                chunk_id=f"{paper.doc_id}@{paper.sha256[:12]}#{index:04d}",
                text=text,
                doc_id=paper.doc_id,
                title=paper.title,
                short_name=paper.short_name,
                version=paper.version,
                section=section.number,
                section_title=section.title,
                section_path=_section_path(section, paper.sections),
                page_start=page_start,
                page_end=page_end,
                page_label=paper.pages[page_start - 1].label,
                chunk_index=index,
                kind=kind,
                figure=figure,
                content_hash=_content_hash(text),
                paper_sha=paper.sha256[:12],
            )
        )

    def _budget(self, paper: Paper, section: Section, figure: str = "") -> int:
        header = f"{paper.short_name}. {section.number} {section.title} {figure}."
        return self.settings.max_tokens - self.counter.count(header) - 2  # [CLS] and [SEP]

    def _fit(self, text: str, budget: int) -> str:
        """Cut ``text`` at a word boundary so it has at most ``budget`` word pieces."""
        if self.counter.count(text) <= budget:
            return text
        words = text.split(" ")
        lo, hi = 1, len(words)
        while lo < hi:  # binary search for the longest prefix that fits
            mid = (lo + hi + 1) // 2
            if self.counter.count(" ".join(words[:mid])) <= budget:
                lo = mid
            else:
                hi = mid - 1
        return " ".join(words[:lo])

    def _pieces(self, st: SectionText, budget: int) -> list[tuple[int, int, int]]:
        """(start, end, tokens) of each sentence; a sentence over budget is cut into word windows."""
        spans = sentence_spans(st.text)
        counts = self.counter.count_many([st.text[a:b] for a, b in spans])
        pieces: list[tuple[int, int, int]] = []
        for (start, end), count in zip(spans, counts, strict=True):
            while count > budget:
                cut = start + len(self._fit(st.text[start:end], budget))
                if cut <= start:  # a single unbreakable token run: give up on precision
                    cut = min(end, start + budget * 3)
                pieces.append((start, cut, self.counter.count(st.text[start:cut])))
                start = cut + 1
                count = self.counter.count(st.text[start:end]) if start < end else 0
            if start < end:
                pieces.append((start, end, count))
        return pieces

    def _pack(self, paper: Paper, st: SectionText) -> list[tuple[int, int]]:
        if not st.text.strip():
            return []
        budget = self._budget(paper, st.section)
        pieces = self._pieces(st, budget)
        groups: list[list[tuple[int, int, int]]] = []
        current: list[tuple[int, int, int]] = []
        used = 0
        for piece in pieces:
            # A chunk never spans more than two pages, so its citation stays precise; a chunk that is
            # reasonably full ends where a paragraph or list item ends, so it stays on one topic.
            too_far = bool(current) and st.page_at(max(piece[0], piece[1] - 1)) - st.page_at(current[0][0]) >= 2
            new_paragraph = piece[0] in st.paragraph_starts and used >= self.settings.paragraph_min_tokens
            if current and (used + piece[2] + 1 > budget or too_far or new_paragraph):
                groups.append(current)
                keep = current[-self.settings.overlap_sentences :] if self.settings.overlap_sentences else []
                keep = [p for p in keep if p[2] <= budget // 4 and p is not current[0]]
                if too_far or new_paragraph or sum(p[2] + 1 for p in keep) + piece[2] + 1 > budget:
                    keep = []
                current, used = list(keep), sum(p[2] + 1 for p in keep)
            current.append(piece)
            used += piece[2] + 1
        if current:
            last_page = st.page_at(max(current[-1][0], current[-1][1] - 1))
            if (
                groups
                and used < self.settings.min_tokens
                and _fits(groups[-1], current, budget)
                and last_page - st.page_at(groups[-1][0][0]) < 2
            ):
                groups[-1].extend(p for p in current if p not in groups[-1])
            else:
                groups.append(current)
        return [(group[0][0], group[-1][1]) for group in groups]


def _fits(previous: list[tuple[int, int, int]], tail: list[tuple[int, int, int]], budget: int) -> bool:
    merged = set(previous) | set(tail)
    return sum(p[2] + 1 for p in merged) <= budget


def _captions(st: SectionText) -> list[tuple[str, int, int]]:
    """(figure label, start, end) of each caption in the section's text."""
    found: list[tuple[str, int, int]] = []
    for offset in st.starts:
        match = _CAPTION.match(st.text[offset : offset + 40])
        if not match:
            continue
        kind = "Figure" if match.group(1).startswith("Fig") else "Table"
        label = f"{kind} {match.group(2)}"
        end = _caption_end(st.text, offset)
        if len(st.text[offset:end].split()) < 4:  # 'Table 1. In the ...' is a sentence, not a caption
            continue
        found.append((label, offset, end))
    return found


def _caption_end(text: str, start: int) -> int:
    """A caption runs to the end of its last sentence before body text resumes (at most ~600 chars)."""
    spans = sentence_spans(text[start : start + 900])
    end = start + spans[0][1] if spans else min(len(text), start + 300)
    for a, b in spans[1:]:
        if b > 600:
            break
        sentence = text[start + a : start + b]
        if sentence[:1].islower() or _CAPTION.match(sentence):
            break
        end = start + b
    return end
