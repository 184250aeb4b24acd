"""Parsing real PDFs: outline and detected sections, identity, chunks that fit and stay in one section."""

from __future__ import annotations

import pytest

from mmqa.models import resolve_model_dir
from mmqa.parsing import parse_pdf
from mmqa.parsing.chunker import Chunker
from mmqa.parsing.sections import detect_headings
from mmqa.parsing.tables import is_row_like
from mmqa.parsing.text import normalize, sentence_spans, split_sentences
from mmqa.parsing.tokens import token_counter
from mmqa.settings import Settings
from tests.conftest import NEIGHBOURHOOD, pdf

SETTINGS = Settings()


@pytest.fixture(scope="module")
def parsed():
    cache = {}

    def get(name: str):
        if name not in cache:
            cache[name] = parse_pdf(pdf(name), SETTINGS.parsing)
        return cache[name]

    return get


@pytest.fixture(scope="module")
def chunker():
    return Chunker(SETTINGS.chunking, token_counter(str(resolve_model_dir(SETTINGS.embedding.model))))


def _section(paper, number):
    return next(s for s in paper.sections if s.number == number)


def test_sections_from_outline(parsed):
    paper = parsed("2010.11929").paper
    assert paper.has_outline
    vit = _section(paper, "3.1")
    assert vit.title == "Vision Transformer (ViT)"
    assert (vit.page_start, vit.page_end) == (3, 4)
    assert _section(paper, "4.6").title == "Self-supervision"
    assert _section(paper, "D.10").kind == "appendix"


def test_sections_detected_without_outline(parsed):
    resnet = parsed("1512.03385").paper
    assert not resnet.has_outline
    assert [s.label for s in resnet.sections[:5]] == [
        "Abstract", "1 Introduction", "2 Related Work", "3 Deep Residual Learning", "3.1 Residual Learning",
    ]  # fmt: skip
    assert _section(resnet, "3.1").page_start == 3
    opt = parsed("2205.01068").paper
    assert not opt.has_outline
    assert _section(opt, "2.3").title == "Pre-training Corpus"
    assert _section(opt, "C.2").page_start == 20
    assert any(s.kind == "references" for s in opt.sections)


def test_useless_outline_falls_back_to_detection(parsed):
    # DINO's outline has a single entry (the title): headings are detected from the text instead.
    dino = parsed("2203.03605").paper
    assert not dino.has_outline
    numbers = [s.number for s in dino.sections]
    assert "3.3" in numbers and "B" in numbers
    assert _section(dino, "B").title == "Training Efficiency"
    # numbered contribution bullets in the introduction are not mistaken for sections
    assert not any(s.title.startswith("We ") for s in dino.sections)


def test_outline_paper_gets_unlisted_references(parsed):
    palm = parsed("2204.02311").paper
    labels = [s.label for s in palm.sections]
    assert labels.index("15 Acknowledgments") < labels.index("References") < labels.index("A Contributions")


def test_sections_tile_pages(parsed):
    for name in ("1706.03762", "2205.01068"):
        paper = parsed(name).paper
        for a, b in zip(paper.sections, paper.sections[1:], strict=False):
            assert a.page_start <= a.page_end
            assert b.page_start >= a.page_start
            assert a.page_end in (b.page_start, b.page_start - 1) or a.page_end >= b.page_start - 1


def test_identity_title_and_short_name(parsed):
    resnet = parsed("1512.03385").paper
    assert (resnet.doc_id, resnet.version) == ("1512.03385", "v1")
    assert resnet.title == "Deep Residual Learning for Image Recognition"
    assert parsed("2204.02311").paper.short_name == "PaLM"
    assert parsed("2010.11929").paper.short_name == "ViT"  # defined as '(ViT)' in the abstract
    assert parsed("2205.01068").paper.version == "v1"


def test_aliases_are_the_names_a_paper_gives_itself(parsed):
    assert parsed("1706.03762").paper.aliases == ["Transformer", "Attention Is All You Need"]  # "..., the Transformer,"
    assert parsed("1706.03762").paper.short_name == "Transformer"
    assert "Vision Transformer" in parsed("2010.11929").paper.aliases
    assert parsed("2204.02311").paper.aliases == ["PaLM", "Pathways Language Model"]
    assert parsed("2205.01068").paper.aliases == ["OPT", "Open Pre-trained Transformers"]
    assert parsed("2203.03605").paper.aliases == ["DINO"]


def test_chunks_fit_the_embedder_and_stay_in_their_section(parsed, chunker):
    counter = chunker.counter
    for name in ("2010.11929", "1512.03385", "2203.03605"):
        result = parsed(name)
        texts = {(t.section.number, t.section.title): t for t in result.texts}
        chunks = chunker.chunk(result.paper, result.texts)
        assert len(chunks) > 50
        for chunk in chunks:
            # +2 for [CLS]/[SEP]; all-MiniLM-L6-v2 silently cuts at 256
            assert counter.count(chunk.embedding_text()) + 2 <= 256, chunk.chunk_id
            section_text = texts[(chunk.section, chunk.section_title)]
            # A table chunk is its caption's first sentence, then lines of the section: its header and rows.
            parts = chunk.text.split("\n")[1:] if chunk.kind == "table" else [chunk.text]
            assert all(part in section_text.text for part in parts), f"{chunk.chunk_id} crosses its section"
            section = section_text.section
            assert section.page_start <= chunk.page_start <= chunk.page_end <= section.page_end
            assert chunk.page_end - chunk.page_start <= 1


def test_chunk_metadata_is_flat(parsed, chunker):
    result = parsed("2010.11929")
    chunk = next(c for c in chunker.chunk(result.paper, result.texts) if c.section == "3.1")
    meta = chunk.metadata()
    assert all(isinstance(v, str | int) for v in meta.values())
    assert meta["doc_id"] == "2010.11929" and meta["section_title"] == "Vision Transformer (ViT)"
    assert meta["section_path"] == "3 Method > 3.1 Vision Transformer (ViT)"
    assert meta["page_label"] == str(meta["page_start"])


def test_captions_become_their_own_chunks(parsed, chunker):
    result = parsed("2205.01068")
    captions = [c for c in chunker.chunk(result.paper, result.texts) if c.kind == "caption"]
    table1 = next(c for c in captions if c.figure == "Table 1")
    assert table1.text.startswith("Table 1: Model architecture details.")
    assert table1.page_start == 2
    assert {"Figure 1", "Table 4"} <= {c.figure for c in captions}


def test_a_tables_rows_are_passages_of_their_own_under_its_caption_and_header(parsed, chunker):
    vit = parsed("2010.11929")
    chunks = chunker.chunk(vit.paper, vit.texts)
    table1 = [c for c in chunks if c.kind == "table" and c.figure == "Table 1"]
    assert [c.text.split("\n") for c in table1] == [[
        "Table 1: Details of Vision Transformer model variants.",
        "Model Layers Hidden size D MLP size Heads Params",
        "ViT-Base 12 768 3072 12 86M", "ViT-Large 24 1024 4096 16 307M", "ViT-Huge 32 1280 5120 16 632M",
    ]]  # fmt: skip
    assert table1[0].page_start == table1[0].page_end == 5
    # Table 2 is below its caption; the axis ticks of the figure above it ('65', '70', ...) are not its rows.
    table2 = [c.text.split("\n") for c in chunks if c.kind == "table" and c.figure == "Table 2"]
    assert table2 and all(lines[1].startswith("Ours-JFT") and "65" not in lines for lines in table2)
    assert any("VTAB (19 tasks) 77.63 ± 0.23 76.28 ± 0.46 72.72 ± 0.21 76.29 ± 1.70 −" in lines for lines in table2)


def test_a_long_table_is_cut_between_rows_and_each_part_keeps_the_header():
    survey = parse_pdf(NEIGHBOURHOOD / "2009.06732.pdf", SETTINGS.parsing)  # efficient Transformers, Table 1
    chunker = Chunker(SETTINGS.chunking, token_counter(str(resolve_model_dir(SETTINGS.embedding.model))))
    parts = [c for c in chunker.chunk(survey.paper, survey.texts) if c.kind == "table" and c.figure == "Table 1"]
    assert len(parts) >= 3
    for part in parts:
        caption, header, *rows = part.text.split("\n")
        assert caption == "Table 1: Summary of Efficient Transformer Models."
        assert header == "Model / Paper Complexity Decode Class"
        assert rows and part.page_start == 7
    assert any("Perceiver (Jaegle et al., 2021) O(kN) ✓ M+DS" in part.text.split("\n") for part in parts)
    # A cell pypdf broke over three lines ('O(N', '√', 'N) ✓ FP') is one row again.
    assert any("Sparse Transformer (Child et al., 2019) O(N √ N) ✓ FP" in part.text.split("\n") for part in parts)


def test_a_bibliography_entry_is_not_taken_for_an_appendix_heading():
    # A line of Perceiver's bibliography reads 'A. Going deeper with convolutions. In Proceedings of ...': it was
    # taken for appendix A, so three pages of references were indexed as an appendix and ranked as text.
    perceiver = parse_pdf(NEIGHBOURHOOD / "2103.03206.pdf", SETTINGS.parsing)
    by_number = {s.number: s for s in perceiver.paper.sections if s.number}
    assert (by_number["A"].title, by_number["A"].page_start) == ("Extended related work", 15)
    references = next(s for s in perceiver.paper.sections if s.kind == "references")
    assert references.page_end >= 13


def test_an_appendix_heading_after_the_references_may_hold_a_year():
    pages = [
        ["1 Introduction", "x", "2 Method", "x", "3 Experiments", "x", "References", "[1] A. Author. A title. 2019."],
        ["A Results on WMT 2014 English-German", "x", "A.1 Setup", "x", "B Additional Ablations", "x"],
    ]
    appendix = [(m.number, m.title) for m in detect_headings(pages) if m.kind == "appendix"]
    assert appendix == [("A", "Results on WMT 2014 English-German"), ("A.1", "Setup"), ("B", "Additional Ablations")]


def test_row_like_lines_and_line_breaks():
    assert is_row_like("Perceiver (Jaegle et al., 2021) O(kN) ✓ M+DS")
    assert is_row_like("ViT-Base 12 768 3072 12 86M") and is_row_like("Warmup steps 1500")
    assert not is_row_like("In this section, we provide a high-level overview of efficient")
    assert not is_row_like("Table 1: Details of Vision Transformer model variants.")
    # A heading glued to the first line of a paragraph (pypdf) is prose.
    assert not is_row_like("Label Smoothing During training, we employed label smoothing of value εls = 0.1 [36]. This")
    # Only a table passage keeps line breaks: each of its rows is a sentence.
    assert split_sentences("Table 1: Details.\nModel Layers\nViT-Base 12 768") == [
        "Table 1: Details.", "Model Layers", "ViT-Base 12 768",
    ]  # fmt: skip


def test_sentences_and_normalisation():
    text = "We follow He et al. (2016) closely. See Fig. 3 for details. Results improve. 2 layers suffice."
    assert split_sentences(text) == [
        "We follow He et al. (2016) closely.", "See Fig. 3 for details.", "Results improve.", "2 layers suffice.",
    ]  # fmt: skip
    assert all(text[a:b].strip() for a, b in sentence_spans(text))
    assert normalize("speciﬁc\x00") == "specific"


def test_list_items_start_sentences():
    text = (
        "PaLM uses the following modifications: • SwiGLU Activation – We use SwiGLU (Shazeer, 2020). "
        "• No Biases – No biases were used, e.g. in layer norms. We found this stabilises training."
    )
    assert split_sentences(text) == [
        "PaLM uses the following modifications:",
        "• SwiGLU Activation – We use SwiGLU (Shazeer, 2020).",
        "• No Biases – No biases were used, e.g. in layer norms.",
        "We found this stabilises training.",
    ]


def test_list_items_bound_chunks(parsed, chunker):
    result = parsed("2204.02311")
    chunks = chunker.chunk(result.paper, result.texts)
    # The 'No Biases' item and the sentence that explains it stay in one passage.
    assert any("No biases were used" in c.text and "increased training stability" in c.text for c in chunks)


def test_front_matter_and_contents_stay_out_of_passages(parsed, chunker):
    dino = parsed("2203.03605")  # LNCS layout: 'Abstract. We present DINO ...' on one line
    abstract = dino.texts[0]
    assert abstract.section.title == "Abstract"
    assert abstract.text.startswith("We present DINO (DETR with Improved deNoising anchOr boxes)")
    assert "Tsinghua" not in abstract.text
    palm = parsed("2204.02311")  # page 2 is a table of contents
    chunks = chunker.chunk(palm.paper, palm.texts)
    assert not any(". . . . ." in c.text or "6.7 Multilingual Question Answering" in c.text for c in chunks)


def test_running_heads_with_page_numbers_stay_out_of_passages(parsed, chunker):
    dino = parsed("2203.03605")  # LNCS: 'DINO: DETR with ... Anchor Boxes 7' and '8 H. Zhang, F. Li, ...' alternate
    text = " ".join(c.text for c in chunker.chunk(dino.paper, dino.texts))
    assert "DINO: DETR with Improved DeNoising Anchor Boxes" not in text
    assert "H. Zhang, F. Li, S. Liu, et al." not in text
    assert "Model Epochs AP AP50 AP75" in text  # the table row under the page-13 head stays
    vit = parsed("2010.11929")  # repeated table rows away from the page edges are content, not furniture
    assert sum(t.text.count("ViT-L/16") for t in vit.texts) >= 10
