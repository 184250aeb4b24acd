"""Parsing real PDFs: outline and detected sections, identity, chunks that fit and stay in one section."""

from __future__ import annotations

import pytest

from mmqa.models import resolve_model_dir
from mmqa.parsing import parse_pdf
from mmqa.parsing.chunker import Chunker
from mmqa.parsing.text import normalize, sentence_spans, split_sentences
from mmqa.parsing.tokens import token_counter
from mmqa.settings import Settings
from tests.conftest import pdf

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
            assert chunk.text in section_text.text, f"{chunk.chunk_id} crosses its section"
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
