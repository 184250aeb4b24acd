"""The things data flows through, in order: Paper -> Section -> Chunk -> Passage -> Answer/Citation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any


def indexed_text(meta: dict[str, Any], text: str) -> str:
    """A chunk as the embedder and BM25 see it: 'PaLM. 6.2 BIG-bench. <text>'."""
    where = f"{meta.get('section', '')} {meta.get('section_title', '')}".strip()
    return f"{meta.get('short_name', '')}. {where}. {text}"


def pages_label(start: int, end: int) -> str:
    """'p. 3' or 'pp. 3–4'."""
    return f"p. {start}" if start == end else f"pp. {start}–{end}"


@dataclass
class Section:
    """A node of a paper's section tree. ``number`` is '' for unnumbered parts (Abstract, References)."""

    number: str
    title: str
    page_start: int
    page_end: int
    level: int = 1
    kind: str = "body"  # body | front | references | appendix

    @property
    def label(self) -> str:
        """'3.1 Vision Transformer (ViT)' or 'Abstract'."""
        return f"{self.number} {self.title}".strip()

    def pages_label(self) -> str:
        """'p. 3' or 'pp. 3–5'."""
        return pages_label(self.page_start, self.page_end)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return asdict(self)


@dataclass
class PageText:
    """The extracted text of one physical page (1-based) and its printed label."""

    number: int
    label: str
    text: str


@dataclass
class Paper:
    """A parsed PDF: identity, pages and the section tree (sections in reading order)."""

    doc_id: str
    title: str
    short_name: str
    version: str
    source_path: str
    sha256: str
    pages: list[PageText]
    sections: list[Section]
    has_outline: bool
    has_page_labels: bool
    lost_pages: list[int] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)  # names it goes by: 'Transformer', 'ViT', 'Vision Transformer'
    title_lines: list[str] = field(default_factory=list)  # the top of page 1, where the title is printed
    terms: list[str] = field(default_factory=list)  # acronyms (and long forms) its front matter defines


@dataclass
class Reference:
    """One entry of a paper's bibliography, as printed (plus the arXiv id it resolved to, if any).

    ``key`` is how the text cites it: 'He et al., 2022a', 'Kim and Lee, 2021' or '[12]'.
    ``cited_in`` lists the sections (numbers, or titles when unnumbered) whose passages cite it.
    """

    key: str
    authors: list[str]
    year: str
    title: str
    arxiv_id: str | None = None
    resolved_by: str = ""  # printed | cache | arxiv | s2 ('' while unresolved)
    cited_in: list[str] = field(default_factory=list)
    text: str = ""  # the entry as printed (whitespace squashed)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (as stored in the manifest)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reference:
        """The inverse of ``to_dict`` (unknown keys ignored, so older manifests still load)."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class Chunk:
    """A passage ready to index: text within one section, with flat metadata for the store."""

    chunk_id: str
    text: str
    doc_id: str
    title: str
    short_name: str
    version: str
    section: str
    section_title: str
    section_path: str
    page_start: int
    page_end: int
    page_label: str
    chunk_index: int
    kind: str  # text | caption | table (a table's rows, one per line)
    figure: str  # "Table 4" / "Figure 2" for captions and table rows, else ""
    content_hash: str
    paper_sha: str  # first 12 hex digits of the PDF's SHA-256: which version of the paper this came from
    cites: str = ""  # the bibliography entries this passage cites: keys and 'arxiv:ID's, '|'-delimited

    def metadata(self) -> dict[str, str | int]:
        """Flat metadata (no text) as stored beside the vector."""
        data = asdict(self)
        data.pop("text")
        data.pop("chunk_id")
        return data

    def embedding_text(self) -> str:
        """What the embedder and BM25 see: a short header that places the passage, then the text."""
        return indexed_text(self.metadata(), self.text)

    def sentence_units(self, sentences: list[str], min_words: int = 4) -> list[SentenceUnit]:
        """This chunk's sentences (of at least ``min_words`` words) as separately embedded units."""
        units = []
        # A table's row is placed by the table's caption (its first line), a sentence by its section.
        context = self.text.split("\n", 1)[0] if self.kind == "table" else self.section_title
        for j, sentence in enumerate(sentences):
            if len(sentence.split()) >= min_words:
                text = f"{self.short_name}. {context}. {sentence}"
                units.append(SentenceUnit(sentence_unit_id(self.chunk_id, j), text, self.chunk_id, self.doc_id,
                                          self.section, self.paper_sha))  # fmt: skip
        return units


def sentence_unit_id(chunk_id: str, position: int) -> str:
    """The id of the sentence at ``position`` (0-based, in the chunk's sentence split) of a chunk."""
    return f"{chunk_id}/s{position:02d}"


@dataclass
class SentenceUnit:
    """One sentence of a chunk, embedded on its own so a passage can be found by its best sentence."""

    unit_id: str
    text: str
    chunk_id: str
    doc_id: str
    section: str
    paper_sha: str

    def metadata(self) -> dict[str, str]:
        """Flat metadata stored with the sentence vector (same filter keys as chunks)."""
        return {"chunk_id": self.chunk_id, "doc_id": self.doc_id, "section": self.section, "paper_sha": self.paper_sha}


@dataclass
class Passage:
    """A retrieved chunk with its fused score and the ranks it had in each retriever."""

    chunk_id: str
    text: str
    meta: dict[str, Any]
    score: float
    dense_score: float | None = None
    bm25_score: float | None = None

    @property
    def doc_id(self) -> str:
        return str(self.meta["doc_id"])

    @property
    def page_start(self) -> int:
        return int(self.meta["page_start"])

    @property
    def page_end(self) -> int:
        return int(self.meta["page_end"])

    def pages_label(self) -> str:
        """'p. 3' or 'pp. 3–4' (physical pages)."""
        return pages_label(self.page_start, self.page_end)

    def to_result(self, n: int) -> dict[str, Any]:
        """The stable JSON shape shared by search results and citations."""
        return {
            "n": n,
            "doc_id": self.doc_id,
            "title": self.meta.get("title", ""),
            "section": self.meta.get("section", ""),
            "section_title": self.meta.get("section_title", ""),
            "page_start": self.page_start,
            "page_end": self.page_end,
            "score": round(float(self.score), 6),
            "text": self.text,
        }

    def where(self) -> str:
        """Short place of the passage: 'LoRA (2106.09685) §4.1, p. 4' (section title when it has no number)."""
        section = f"§{self.meta['section']}" if self.meta.get("section") else str(self.meta.get("section_title", ""))
        return f"{self.meta.get('short_name', '')} ({self.doc_id}) {section}".rstrip() + f", {self.pages_label()}"

    def reference(self, n: int) -> str:
        """Human citation: '[1] ViT (2010.11929) §3.1 Vision Transformer (ViT), p. 3'."""
        section = f"{self.meta.get('section', '')} {self.meta.get('section_title', '')}".strip()
        where = f"§{section}" if self.meta.get("section") else section
        figure = f" ({self.meta['figure']})" if self.meta.get("figure") else ""
        return f"[{n}] {self.meta.get('short_name', '')} ({self.doc_id}) {where}{figure}, {self.pages_label()}"


@dataclass
class Citation:
    """A numbered source of an answer; ``primary`` holds, when its passage cites indexed papers, those papers'
    own passages that best support the sentence citing it (``service.chains``), each with the same ``n``."""

    n: int
    passage: Passage
    primary: list[Citation] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON citation object: the passage's search-result fields and ``primary``, a list of such objects."""
        return {**self.passage.to_result(self.n), "primary": [c.to_dict() for c in self.primary]}


@dataclass
class AnswerSentence:
    """One sentence of an answer and the source numbers it rests on."""

    text: str
    sources: list[int]
    supported: bool = True
    support: float | None = None  # the citation checker's score, for generated sentences

    def display(self) -> str:
        """'ViT splits images into patches. [1]', with '(unsupported)' when the checker found no support."""
        markers = "".join(f"[{n}]" for n in self.sources)
        flag = " (unsupported)" if not self.supported else ""
        return f"{self.text} {markers}".strip() + flag

    def to_dict(self) -> dict[str, Any]:
        """JSON form of one answer sentence."""
        data: dict[str, Any] = {"text": self.text, "sources": self.sources, "supported": self.supported}
        if self.support is not None:
            data["support"] = round(self.support, 3)
        return data


def final_answer(events: Iterable[str | Answer]) -> Answer:
    """The Answer that ends a stream of display pieces (``MMQA.ask_stream``, ``ChatSession.ask_stream``)."""
    answer = None
    for event in events:
        if isinstance(event, Answer):
            answer = event
    if answer is None:
        raise ValueError("the answer stream ended without an Answer")
    return answer


@dataclass
class Answer:
    """The result of ``ask``: text with [n] markers, the numbered citations, and how it was made."""

    question: str
    sentences: list[AnswerSentence]
    citations: list[Citation]
    abstained: bool
    message: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    evidence_strength: float = 0.0
    backend: str = "extractive"  # or the LLM spec that generated it, e.g. 'gguf:model.gguf'
    notice: str = ""  # e.g. why a generated answer fell back to the extractive one
    dropped_citations: list[int] = field(default_factory=list)  # [n] markers naming no given source
    fell_back: bool = False  # the LLM failed and this is the extractive answer (``notice`` says why)

    @property
    def supported_share(self) -> float | None:
        """Share of answer sentences the citation checker found supported (None without sentences)."""
        if not self.sentences:
            return None
        return sum(s.supported for s in self.sentences) / len(self.sentences)

    @property
    def text(self) -> str:
        """The answer with its [n] markers, or the abstention message."""
        if self.abstained or not self.sentences:
            return self.message
        return " ".join(s.display() for s in self.sentences)

    def to_dict(self) -> dict[str, Any]:
        """The stable ``ask --json`` contract."""
        return {
            "question": self.question,
            "answer": self.text,
            "citations": [c.to_dict() for c in self.citations],
            "abstained": self.abstained,
            "backend": self.backend,
            "sentences": [s.to_dict() for s in self.sentences],
            "supported_sentences": sum(s.supported for s in self.sentences),
            "notice": self.notice,
            "fell_back": self.fell_back,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }
