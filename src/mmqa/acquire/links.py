"""Linking a paper's bibliography to the papers in the index, offline, from the manifest alone.

An entry links to an indexed paper when the arXiv id it prints is that paper's, when its title and
the paper's are the same after normalising (case, accents, ligatures, punctuation, hyphens and the
line-break hyphens of PDF text: "Lora: Low-rank adaptation of large lan- guage models" is "LoRA:
Low-Rank Adaptation of Large Language Models"), when its title is one of the names the paper gives
itself (``PaperRecord.aliases``), or when the id a title lookup found online is indexed. A title must
be identical after normalising: a merely similar one ("Llama 2: ..." against "LLaMA: ...") never
links, so a paper whose title was read wrongly from its PDF is missed rather than linked wrongly.

Links are computed when they are read, so a cited paper ingested after the survey is linked at once,
and nothing about it is stored in the chunks or embedded.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from mmqa.index.manifest import Manifest, PaperRecord
from mmqa.schema import Reference

BY_PRINTED_ID = "printed id"
BY_TITLE = "title"
BY_ALIAS = "alias"
BY_RESOLVED = "resolved online"
MIN_KEY_WORDS = 3  # "Introduction" or "ViT" identify nothing
MIN_KEY_CHARS = 12


@dataclass(frozen=True)
class Link:
    """An entry's indexed paper, and what linked them (one of the ``BY_*`` values)."""

    doc_id: str
    linked_by: str


def title_key(title: str) -> str:
    """A title reduced to lower-case letters and digits, with nothing between them.

    NFKC folds ligatures ('ﬁ' -> 'fi') and accents are dropped; joining everything makes 'LAN- GUAGE',
    'Vision-Language' and 'Vision Language' alike. Returns '' for a title too short to identify a paper.
    """
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", title))
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    words = re.findall(r"[a-z0-9]+", plain)
    key = "".join(words)
    return key if len(words) >= MIN_KEY_WORDS and len(key) >= MIN_KEY_CHARS else ""


def printed_title_keys(lines: list[str], most: int = 4) -> set[str]:
    """Keys of every run of up to ``most`` whole consecutive lines: a title printed over one to four lines
    at the top of page 1 is one of them, while a title that merely contains another ("Improved Baselines
    with Visual Instruction Tuning" and "Visual Instruction Tuning") is not cut down to it."""
    return {key for i in range(len(lines)) for j in range(i + 1, min(i + most, len(lines)) + 1)
            if (key := title_key(" ".join(lines[i:j])))}  # fmt: skip


def same_title(a: str, b: str) -> bool:
    """True when two titles are the same after normalising (and long enough to identify a paper)."""
    key = title_key(a)
    return bool(key) and key == title_key(b)


class PaperLinker:
    """Lookup tables over the indexed papers: doc ids, title keys and alias keys."""

    def __init__(self, papers: dict[str, PaperRecord]) -> None:
        self.papers = papers
        self._titles: dict[str, set[str]] = {}
        self._aliases: dict[str, set[str]] = {}
        for doc_id, record in papers.items():
            for key in {title_key(record.title), *printed_title_keys(record.title_lines)} - {""}:
                self._titles.setdefault(key, set()).add(doc_id)
            for alias in record.aliases:
                if key := title_key(alias):
                    self._aliases.setdefault(key, set()).add(doc_id)

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> PaperLinker:
        """A linker over every paper of ``manifest``."""
        return cls(manifest.papers)

    def link(self, ref: Reference, citing: str = "") -> Link | None:
        """The indexed paper ``ref`` names (never ``citing`` itself), or None."""
        if ref.arxiv_id and ref.resolved_by == "printed" and ref.arxiv_id in self.papers and ref.arxiv_id != citing:
            return Link(ref.arxiv_id, BY_PRINTED_ID)
        key = title_key(ref.title)
        for table, how in ((self._titles, BY_TITLE), (self._aliases, BY_ALIAS)):
            found = table.get(key, set()) - {citing} if key else set()
            if len(found) == 1:  # two indexed papers with one title: which one is meant is unknown
                return Link(found.pop(), how)
        if ref.arxiv_id and ref.arxiv_id in self.papers and ref.arxiv_id != citing:
            return Link(ref.arxiv_id, BY_RESOLVED)
        return None

    def links(self, refs: list[Reference], citing: str = "") -> dict[str, Link]:
        """Entry key -> Link, for the entries of ``refs`` that name an indexed paper."""
        found = {ref.key: self.link(ref, citing) for ref in refs}
        return {key: link for key, link in found.items() if link is not None}


def cited_doc_ids(cites: str, links: dict[str, Link]) -> list[str]:
    """The indexed papers a passage cites, from its ``cites`` metadata ('key|key|arxiv:ID').

    Keys go through ``links`` (the citing paper's, computed now), so a paper indexed after the passage
    was stored counts; an 'arxiv:ID' recorded at ingest counts when that paper is (still) linked by
    its id. Each doc id once, in citation order.
    """
    linked_ids = {link.doc_id for link in links.values()}
    out: list[str] = []
    for part in (p for p in cites.split("|") if p):
        doc_id = part.removeprefix("arxiv:") if part.startswith("arxiv:") else None
        if doc_id is None:
            link = links.get(part)
            doc_id = link.doc_id if link else None
        elif doc_id not in linked_ids:
            doc_id = None
        if doc_id and doc_id not in out:
            out.append(doc_id)
    return out


def folder_title_matches(refs: list[Reference], folder: Path, skip: set[str] | None = None) -> dict[str, str]:
    """Entry key -> arXiv id, for entries without an id whose title is printed at the top of page 1 of a
    paper in ``folder`` (``ID.pdf``; ids in ``skip`` are not read). Offline, this is how ``ingest --survey
    --from DIR`` finds the cited papers whose entries print no id. Only page 1 is read; unreadable files are
    passed over."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    from mmqa.acquire.arxiv import is_arxiv_id
    from mmqa.parsing.text import strip_arxiv_stamp, title_block

    wanted = {key: ref.key for ref in refs if not ref.arxiv_id and (key := title_key(ref.title))}
    found: dict[str, str] = {}
    for path in sorted(folder.glob("*.pdf")) if wanted else []:
        stem = re.sub(r"v\d+$", "", path.stem)
        if not is_arxiv_id(stem) or stem in (skip or set()):
            continue
        try:
            text = PdfReader(path).pages[0].extract_text() or ""
        except (PyPdfError, OSError, ValueError, IndexError):
            continue
        for key in printed_title_keys(title_block([strip_arxiv_stamp(x) for x in text.splitlines()])):
            if key in wanted:
                found.setdefault(wanted[key], stem)
    return found
