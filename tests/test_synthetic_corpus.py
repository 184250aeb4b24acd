"""The scale benchmark's synthetic papers: every sentence perturbed, headings kept, a new id, parseable."""

from __future__ import annotations

import sys
from pathlib import Path

from mmqa.parsing import parse_pdf
from mmqa.settings import ParsingSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from synthetic_corpus import BasePaper, load_base, synthetic_lines, vocabulary, write_synthetic

from tests.conftest import pdf

LINES = [
    "Abstract",
    "We propose a residual learning framework to ease the training of deep networks.",
    "It works well. Deeper nets train easily.",
    "1 Introduction",
    "Deep convolutional networks have led to breakthroughs for image classification tasks.",
    "2 Related Work",
    "Residual representations and shortcut connections were studied before in many settings.",
]


def test_every_sentence_changes_and_headings_stay():
    base = BasePaper(Path("x.pdf"), "Deep Residual Learning", 1, LINES)
    vocab = vocabulary([base])
    lines = synthetic_lines(base, 7, vocab, seed=0)
    assert lines[0] == "Synthetic 0007: Deep Residual Learning"
    body = lines[1:]
    for original, copy in zip(LINES, body, strict=True):
        if original in {"Abstract", "1 Introduction", "2 Related Work"}:
            assert copy == original
        else:
            assert copy != original and len(copy.split()) == len(original.split())
    assert "It works well." not in body[2] or "Deeper nets train easily." not in body[2]  # both sentences touched
    assert synthetic_lines(base, 7, vocab, seed=0) == lines  # deterministic
    assert synthetic_lines(base, 8, vocab, seed=0)[1:] != body  # each copy differs


def test_a_synthetic_copy_of_a_real_paper_parses_with_its_own_id_and_sections(tmp_path):
    base = load_base(pdf("1706.03762"), max_pages=4)
    path = write_synthetic(base, 12, vocabulary([base]), tmp_path)
    paper = parse_pdf(path, ParsingSettings()).paper
    assert path.name == "synthetic-0012.pdf" and paper.doc_id != "1706.03762"
    assert paper.title.startswith("Synthetic 0012")
    titles = {s.title for s in paper.sections}
    assert {"Introduction", "Background", "Model Architecture"} <= titles, titles
