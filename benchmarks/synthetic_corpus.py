"""A synthetic corpus for the scale benchmark: perturbed copies of the real papers, with new ids.

Paper 1..R are the R real PDFs as they are. Every further paper is a copy of one real paper
(round-robin): the text of its first pages, extracted with pypdf, with about 10% of the words of
every line replaced by other words of the corpus (seeded per paper, and at least one per sentence, so
no chunk or sentence equals its source and the embedding cache never hits), section headings kept as
they are, a new title line, the arXiv stamp removed, and a new name ``synthetic-NNNN.pdf`` (its doc id).
The text is written with the standard Helvetica font, ≤ 95 characters a line, 60 lines a page.

    .venv/bin/python benchmarks/synthetic_corpus.py OUT_DIR [--size 50] [--max-pages 12] [--real 6]
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "pdfs"
LINE_CHARS = 95
PAGE_LINES = 60
RATE = 0.10

# Lines mmqa's heading detection may take for a section start (src/mmqa/parsing/sections.py): numbered
# ('3.1 Encoder and Decoder Stacks', 'B.2 Fine-tuning') or one of the unnumbered headings. They are
# copied unchanged; a few table rows that look like this stay unchanged too, which does no harm.
_NUMBERED_HEADING = re.compile(r"^(\d{1,2}(\.\d{1,2}){0,3}|[A-H](\.\d{1,2}){0,2})\.?\s+[A-Z]\S*(\s+\S+){0,13}$")
_UNNUMBERED_HEADINGS = {
    "abstract", "references", "bibliography", "appendix", "appendices",
    "acknowledgments", "acknowledgements", "acknowledgment", "acknowledgement",
}  # fmt: skip
_TOKEN = re.compile(r"^([^A-Za-z]*)([A-Za-z]+)([^A-Za-z]*)$")
_SENTENCE_END = re.compile(r"[.?!][)\]\"']*$")


@dataclass
class BasePaper:
    """A real paper as the source of synthetic copies: its title and the lines of its first pages."""

    path: Path
    title: str
    pages: int
    lines: list[str]


def smallest_real(corpus: Path, count: int | None = None) -> list[Path]:
    """The real PDFs, fewest pages first (then by name); only the first ``count`` when given."""
    from pypdf import PdfReader

    papers = sorted(corpus.glob("*.pdf"), key=lambda p: (len(PdfReader(str(p)).pages), p.name))
    return papers[:count] if count else papers


def load_base(path: Path, max_pages: int) -> BasePaper:
    """Read a real paper with mmqa's own reader; keep its title and the lines of its first ``max_pages`` pages."""
    from mmqa.parsing.pdf import read_pdf
    from mmqa.parsing.text import strip_arxiv_stamp

    raw = read_pdf(path)
    lines = [strip_arxiv_stamp(line).strip() for page in raw.page_lines[:max_pages] for line in page]
    return BasePaper(path, raw.title_guess or path.stem, min(max_pages, len(raw.page_lines)), lines)


def vocabulary(bases: list[BasePaper]) -> list[str]:
    """The lower-case words (3-15 letters) of the base papers, sorted, as replacement words."""
    words = {w.lower() for b in bases for line in b.lines for w in re.findall(r"\b[A-Za-z]{3,15}\b", line)}
    return sorted(words)


def is_heading(line: str) -> bool:
    """Could mmqa read this line as a section heading? (Then it is copied unchanged.)"""
    text = line.strip()
    if text.rstrip(":").strip().lower() in _UNNUMBERED_HEADINGS:
        return True
    return bool(_NUMBERED_HEADING.match(text)) and not text.endswith((".", ",", ";"))


class Perturber:
    """Replaces about ``rate`` of the words, and at least one word in every sentence, deterministically."""

    def __init__(self, seed: str, vocab: list[str], rate: float = RATE) -> None:
        self.rng = random.Random(seed)
        self.vocab = vocab
        self.rate = rate
        self.changed_in_sentence = False

    def _replacement(self, word: str) -> str:
        new = word.lower()
        while new == word.lower():
            new = self.rng.choice(self.vocab)
        if word.isupper() and len(word) > 1:
            return new.upper()
        return new.capitalize() if word[0].isupper() else new

    def line(self, line: str) -> str:
        """The line with some words replaced; sentence state carries over to the next line."""
        out = []
        for token in line.split():
            match = _TOKEN.match(token)
            ends_sentence = bool(_SENTENCE_END.search(token))
            if match and len(match.group(2)) >= 2:
                forced = ends_sentence and not self.changed_in_sentence
                if forced or self.rng.random() < self.rate:
                    token = match.group(1) + self._replacement(match.group(2)) + match.group(3)
                    self.changed_in_sentence = True
            out.append(token)
            if ends_sentence:
                self.changed_in_sentence = False
        return " ".join(out)


def synthetic_lines(base: BasePaper, number: int, vocab: list[str], seed: int = 0) -> list[str]:
    """The text lines of synthetic paper ``number``: a new title line, then the perturbed copy."""
    perturber = Perturber(f"{seed}-{number}", vocab)
    body = [line if is_heading(line) else perturber.line(line) for line in base.lines]
    return [f"Synthetic {number:04d}: {base.title}", *body]


def paginate(lines: list[str]) -> list[list[bytes]]:
    """Lines wrapped to LINE_CHARS, PAGE_LINES a page, in WinAnsi (cp1252; other characters become '?')."""
    wrapped = [part for line in lines for part in (textwrap.wrap(line, LINE_CHARS) or [""])]
    encoded = [line.encode("cp1252", errors="replace") for line in wrapped]
    return [encoded[i : i + PAGE_LINES] for i in range(0, len(encoded), PAGE_LINES)]


def write_synthetic(base: BasePaper, number: int, vocab: list[str], out_dir: Path, seed: int = 0) -> Path:
    """Write ``synthetic-NNNN.pdf`` (a perturbed copy of ``base``) into ``out_dir``; return its path."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.pdf_factory import text_pdf

    return text_pdf(out_dir / f"synthetic-{number:04d}.pdf", paginate(synthetic_lines(base, number, vocab, seed)))


class SyntheticCorpus:
    """Papers 1..n of the benchmark corpus in one folder: links to the real PDFs, then synthetic copies."""

    def __init__(self, folder: Path, real: list[Path], max_pages: int, seed: int = 0) -> None:
        self.folder = folder
        self.real = real
        self.max_pages = max_pages
        self.seed = seed
        self.count = 0
        self._bases: list[BasePaper] | None = None
        self._vocab: list[str] = []
        folder.mkdir(parents=True, exist_ok=True)

    def _load(self) -> list[BasePaper]:
        if self._bases is None:
            self._bases = [load_base(path, self.max_pages) for path in self.real]
            self._vocab = vocabulary(self._bases)
        return self._bases

    def grow(self, size: int) -> list[Path]:
        """Add papers until the folder holds ``size``; return the new ones."""
        added = []
        while self.count < size:
            self.count += 1
            if self.count <= len(self.real):
                link = self.folder / self.real[self.count - 1].name
                link.symlink_to(self.real[self.count - 1].resolve())
                added.append(link)
            else:
                bases = self._load()
                base = bases[(self.count - len(self.real) - 1) % len(bases)]
                added.append(write_synthetic(base, self.count, self._vocab, self.folder, self.seed))
        return added


def main() -> None:
    """Generate a corpus folder and print what it holds (and how each synthetic PDF parses)."""
    logging.disable(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", type=int, default=50)
    parser.add_argument("--max-pages", type=int, default=12)
    parser.add_argument("--real", type=int, default=None, help="use only the N real PDFs with fewest pages")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from mmqa.parsing import parse_pdf
    from mmqa.settings import ParsingSettings

    corpus = SyntheticCorpus(args.out, smallest_real(CORPUS, args.real), args.max_pages, args.seed)
    started = time.perf_counter()
    papers = corpus.grow(args.size)
    print(f"{len(papers)} papers in {args.out} ({time.perf_counter() - started:.1f} s)")
    for path in papers[len(corpus.real) :]:
        paper = parse_pdf(path, ParsingSettings()).paper
        numbered = sum(1 for s in paper.sections if s.number)
        print(f"{path.name}: doc_id {paper.doc_id}, {len(paper.pages)} pages, {len(paper.sections)} sections "
              f"({numbered} numbered), title {paper.title!r}")  # fmt: skip


if __name__ == "__main__":
    main()
