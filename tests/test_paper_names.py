"""Titles and names of all 54 real papers (the six of the corpus and the 48 of the neighbourhood).

Parsing only (no embedding): each title is checked against page 1 as pypdf reads it, and the names
against each other, as the index would hold them side by side.
"""

from __future__ import annotations

import logging
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from pypdf import PdfReader

from mmqa.parsing import parse_pdf
from mmqa.parsing.pdf import paper_title
from mmqa.parsing.text import normalize
from mmqa.parsing.title import letters
from mmqa.retrieval.priors import PaperNames
from mmqa.settings import Settings
from tests.conftest import CORPUS, SHARED

NEIGHBOURHOOD = SHARED / "corpus" / "neighbourhood"
PAPERS = sorted(CORPUS.glob("*.pdf")) + sorted(NEIGHBOURHOOD.glob("*.pdf"))


def test_both_corpus_folders_are_there():
    assert len(PAPERS) == 54, f"expected the 6 + 48 shared papers, found {len(PAPERS)}"


def _title_lines(title: str, page_lines: list[str]) -> tuple[int, int] | None:
    """(first, last) index of a run of whole lines of page 1 that spell ``title``, or None."""
    want = letters(title)
    rows = [letters(line) for line in page_lines]
    for first in range(len(rows)):
        spelled = ""
        for last in range(first, min(first + 6, len(rows))):
            spelled += rows[last]
            if spelled == want:
                return first, last
            if len(spelled) >= len(want) or not want.startswith(spelled):
                break
    return None


@pytest.mark.parametrize("path", PAPERS, ids=lambda p: p.stem)
def test_the_title_is_the_title_block_of_page_one(path: Path):
    reader = PdfReader(str(path))
    page_lines = normalize(reader.pages[0].extract_text()).split("\n")
    title = paper_title(reader, "\n".join(page_lines))
    # Whole lines of page 1, nothing more: no author, e-mail or figure text run in, nothing cut off.
    span = _title_lines(title, page_lines)
    assert span is not None, f"{path.stem}: {title!r} is not a run of whole lines of page 1"
    abstract = next((i for i, line in enumerate(page_lines) if letters(line).startswith("abstract")), len(page_lines))
    assert span[1] < abstract, f"{path.stem}: {title!r} comes after the abstract heading"
    assert 2 <= len(title.split()) <= 25 and "@" not in title, title
    assert not re.search(r"\d{5}", title) and sum(ch.isdigit() for ch in title) <= 0.1 * len(title), title
    assert not re.search(r" [:,]|\b[A-Za-z]{2,} [a-z]\b(?<!\ba)", title), f"letters left apart: {title!r}"  # 'Reac t :'


@pytest.fixture(scope="module")
def parsed_papers():
    """Every paper parsed (two worker processes, as many as the machine has cores)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        papers = list(pool.map(_paper, PAPERS))
    return {p.doc_id: p for p in papers}


def _paper(path: Path):
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # a worker process: font warnings would flood the output
    return parse_pdf(path, Settings().parsing).paper


def test_no_two_papers_share_a_name_unless_it_is_ambiguous(parsed_papers):
    names = PaperNames(
        {d: p.aliases for d, p in parsed_papers.items()},
        {d: p.title for d, p in parsed_papers.items()},
        {d: p.terms for d, p in parsed_papers.items()},
    )
    labels: dict[str, list[str]] = {}
    for doc, paper in parsed_papers.items():
        labels.setdefault(paper.short_name, []).append(doc)
        cut = paper.short_name.endswith("…") and paper.title.startswith(paper.short_name[:-1])
        assert paper.short_name in paper.aliases or cut, doc  # its own name, or its title (cut when long)
    shared = {label: docs for label, docs in labels.items() if len(docs) > 1}
    assert set(shared) <= names.ambiguous, shared
    for name, docs in names.claims.items():
        assert len(docs) == 1 or name in names.ambiguous, (name, docs)
    # The two DINOs: neither wins on the bare name; the question's own words tell them apart.
    assert sorted(labels["DINO"]) == ["2104.14294", "2203.03605"]
    assert names.named("How is DINO trained?") == set()
    assert names.named("Which teacher does the self-supervised DINO use?") == {"2104.14294"}
    assert names.named("What AP does DINO reach in object detection on COCO?") == {"2203.03605"}
    # Names of the field, defined by many papers, name none of them on their own.
    assert "ViT" in names.ambiguous and names.named("How are ViT patches embedded?") == set()


def test_short_names_are_the_papers_own(parsed_papers):
    short = {d: p.short_name for d, p in parsed_papers.items()}
    # What the issue found wrong, each now the name the paper gives itself (or its title).
    assert short["2104.02057"] != "ViT" and short["2106.04560"] != "ViT"
    assert (short["2208.10442"], short["2109.01652"], short["2201.12086"]) == ("BEiT-3", "FLAN", "BLIP")
    assert (short["2112.10752"], short["2210.03629"], short["2106.09685"]) == ("LDMs", "ReAct", "LoRA")
    assert short["2304.03277"] == parsed_papers["2304.03277"].title  # 'LLMs' is no paper's name
    assert short["2302.07842"] == "Augmented Language Models"  # not 'LMs'
    assert short["2011.10566"] == "SimSiam"  # 'Our “SimSiam” method achieves ...'
    generic = {"ViT", "COCO", "NLI", "LLMs", "LMs", "DMs", "VLP"}
    assert [d for d, s in short.items() if s in generic] == ["2010.11929"]  # ViT, the paper that named it
