"""HTML and Markdown for the Streamlit UI (the web counterpart of ``console.py``).

Text from PDFs is data, never markup: every piece of it goes through ``html.escape`` (for ``st.html``)
or ``md_escape`` (for Streamlit labels and Markdown) before it is placed in a page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mmqa.answering.highlight import claims_citing, highlight

if TYPE_CHECKING:
    from mmqa.ingest_report import FileResult
    from mmqa.schema import Answer, Citation, Section

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=^&])")
MARK_STYLE = "background:#fde68a;color:inherit;padding:0 2px;border-radius:3px"
EM_SPACE = "\u2003"
QUOTE_STYLE = "margin:0.5em 0;padding-left:0.8em;border-left:3px solid #ccc"
UNSUPPORTED_STYLE = "text-decoration:underline wavy #dc2626;text-underline-offset:3px"


def md_escape(text: str) -> str:
    """``text`` with every Markdown (and Streamlit directive/math) character backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def escaped_pieces(pieces: Iterable[str]) -> Iterator[str]:
    """Streamed answer pieces made safe for ``st.write_stream`` (which renders Markdown)."""
    for piece in pieces:
        yield md_escape(piece) + (" " if piece[-1:].isspace() else "")


def source_anchor(turn: int, n: int) -> str:
    """The HTML id of source card ``n`` of chat turn ``turn``."""
    return f"mmqa-t{turn}-s{n}"


def answer_html(answer: Answer, turn: int) -> str:
    """The answer: sentences with [n] links to their source cards; unsupported sentences marked."""
    if answer.abstained or not answer.sentences:
        return f'<p class="mmqa-answer mmqa-abstained"><em>{escape(answer.text)}</em></p>'
    parts = []
    for sentence in answer.sentences:
        links = "".join(f'<a class="mmqa-ref" href="#{source_anchor(turn, n)}">[{n}]</a>' for n in sentence.sources)
        text = escape(sentence.text)
        if not sentence.supported:
            title = "The cited passages do not clearly support this sentence."
            text = (
                f'<span class="mmqa-unsupported" style="{UNSUPPORTED_STYLE}" title="{title}">{text}</span>'
                ' <strong class="mmqa-unsupported-flag" style="color:#dc2626">(unsupported)</strong>'
            )
        parts.append(f"{text} {links}".strip())
    return '<p class="mmqa-answer">' + " ".join(parts) + "</p>"


def passage_html(text: str, claims: list[str]) -> str:
    """The passage, the sentences that best support ``claims`` wrapped in ``<mark>``."""
    pieces = []
    for segment in highlight(text, claims):
        if segment.highlighted:
            pieces.append(f'<mark class="mmqa-support" style="{MARK_STYLE}">{escape(segment.text)}</mark>')
        else:
            pieces.append(escape(segment.text))
    return "".join(pieces)


def source_card_html(answer: Answer, citation: Citation, turn: int) -> str:
    """A source card: paper (short name, title, doc id), section, pages and the highlighted passage."""
    passage = citation.passage
    meta = passage.meta
    section = f"§{meta.get('section', '')} {meta.get('section_title', '')}".strip()
    if not meta.get("section"):
        section = str(meta.get("section_title", "")) or "(no section)"
    figure = f" · {escape(str(meta['figure']))}" if meta.get("figure") else ""
    short_name, title = str(meta.get("short_name", "")), str(meta.get("title", ""))
    title_part = f" — {escape(title)}" if title and title != short_name else ""
    return (
        f'<div class="mmqa-source" id="{source_anchor(turn, citation.n)}">'
        f'<div class="mmqa-source-paper"><strong>[{citation.n}] {escape(short_name)}</strong>'
        f"{title_part} <code>{escape(passage.doc_id)}</code></div>"
        f'<div class="mmqa-source-where">{escape(section)}{figure} · {escape(passage.pages_label())}</div>'
        f'<blockquote class="mmqa-passage" style="{QUOTE_STYLE}">'
        f"{passage_html(passage.text, claims_citing(answer, citation.n))}</blockquote>"
        + "".join(primary_html(answer, citation.n, primary) for primary in citation.primary)
        + "</div>"
    )


def primary_html(answer: Answer, n: int, primary: Citation) -> str:
    """The "In the cited paper" part of source card ``n``: the cited paper's own passage (an evidence chain)."""
    passage = primary.passage
    return (
        '<div class="mmqa-primary" style="margin-left:1.2em">'
        f'<div class="mmqa-primary-where"><em>In the cited paper</em> ↳ {escape(passage.where())}</div>'
        f'<blockquote class="mmqa-passage" style="{QUOTE_STYLE}">'
        f"{passage_html(passage.text, claims_citing(answer, n))}</blockquote></div>"
    )


def section_option(section: Section) -> str:
    """A section in a picker: indented by level, with its pages ('  3.1 Vision Transformer (ViT) · p. 3')."""
    return f"{EM_SPACE * max(0, section.level - 1)}{section.label} · {section.pages_label()}"


class ProgressBar(Protocol):
    """What ``st.progress`` returns."""

    def progress(self, value: float, text: str | None = None) -> Any:
        """Set the bar to ``value`` in [0, 1] with a caption."""


class ProgressObserver:
    """An ``IngestObserver`` that draws one bar over all files (embedding progress within each file)."""

    def __init__(self, bar: ProgressBar) -> None:
        self.bar = bar
        self.results: list[FileResult] = []
        self._index = 0
        self._total = 1
        self._name = ""

    def _draw(self, fraction: float, text: str) -> None:
        value = min(1.0, (self._index + fraction) / self._total)
        self.bar.progress(value, text=f"{md_escape(self._name)} ({self._index + 1}/{self._total}): {text}")

    def file_started(self, path: Path, index: int, total: int) -> None:
        """A new file: move the bar to its start."""
        self._index, self._total, self._name = index, max(total, 1), path.name
        self._draw(0.0, "parsing")

    def embedding(self, done: int, total: int) -> None:
        """Embedding progress of the current file."""
        self._draw(done / max(total, 1), f"embedding {done}/{total}")

    def file_done(self, result: FileResult) -> None:
        """A file finished: remember its result."""
        self.results.append(result)
        self._draw(1.0, result.status)
