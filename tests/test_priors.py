"""What a question's wording says about where the answer is: paper names, acronyms, tables (pure functions)."""

from __future__ import annotations

from mmqa.parsing.names import asked_acronym, defines, paper_aliases, spells
from mmqa.retrieval.priors import (
    boost,
    definitions_first,
    first_holding,
    holds_exhibit,
    named_papers,
    referenced_exhibit,
)

NAMES = {
    "1706.03762": ["Attention Is All You Need", "Transformer"],
    "2010.11929": ["ViT", "Vision Transformer"],
    "2205.01068": ["OPT", "Open Pre-trained Transformers"],
}


def test_the_longest_name_wins_and_names_stand_as_words():
    assert named_papers("Why did the Transformer authors pick sinusoids?", NAMES) == {"1706.03762"}
    assert named_papers("How is the Vision Transformer's input built?", NAMES) == {"2010.11929"}
    assert named_papers("ViT-B/16 versus OPT-175B", NAMES) == {"2010.11929", "2205.01068"}
    assert named_papers("Are Transformer-based detectors slow?", NAMES) == set()
    assert named_papers("Transformers and optimization in general", NAMES) == set()  # case and word boundary


def test_aliases_come_from_the_front_matter():
    front = (
        "We use the Vision Transformer (ViT) for images. Visual Question Answering (VQA) is hard. "
        "We propose a new simple network architecture, the Transformer, based solely on attention."
    )
    aliases = paper_aliases("Attention Is All You Need", "Attention Is All You Need", front)
    assert aliases == ["Attention Is All You Need", "ViT", "Vision Transformer", "Transformer"]
    assert "VQA" not in aliases  # defined in passing, not the paper's own name
    palm = paper_aliases("PaLM: Scaling Language Modeling", "PaLM", "which we call Pathways Language Model (PaLM).")
    assert palm == ["PaLM", "Pathways Language Model"]


def test_acronym_questions_and_definitions():
    assert asked_acronym("What does the name DINO stand for in that paper?") == "DINO"
    assert asked_acronym("what is CLIP short for?") == "CLIP"
    assert asked_acronym("What is the full name of OPT?") == "OPT"
    assert asked_acronym("How does ViT work?") is None
    assert defines("DINO", "We present DINO (DETR with Improved deNoising anchOr boxes), a detector.")
    assert defines("ViT", "we call it the Vision Transformer (ViT).")
    assert not defines("DINO", "DINO (ours) reaches 63.3 AP.")
    assert not defines("DINO", "DINO improves over DN-DETR.")
    assert spells("PaLM", "Pathways Language Model") and not spells("PaLM", "Language Model")


def test_boost_is_a_share_of_the_best_score():
    fused = [("a", 2.0), ("b", 1.8), ("c", 1.0)]
    assert [i for i, _ in boost(fused, lambda i: i == "b", 0.25)] == ["b", "a", "c"]
    assert dict(boost(fused, lambda i: i == "c", 0.25))["c"] == 1.5
    assert boost(fused, lambda i: True, 0.0) == fused


def test_definitions_come_first_in_reading_order_per_paper():
    ranked = ["intro", "other", "abstract", "x-late", "x-early"]
    paper = {"intro": "A", "abstract": "A", "other": "A", "x-late": "B", "x-early": "B"}
    position = {"intro": (3, 10), "abstract": (1, 0), "x-late": (9, 40), "x-early": (2, 5), "other": (5, 0)}
    defining = {"intro", "abstract", "x-late", "x-early"}
    order = definitions_first(ranked, defining.__contains__, paper.__getitem__, position.__getitem__)
    assert order == ["abstract", "intro", "x-early", "x-late", "other"]


def test_table_and_figure_references():
    assert referenced_exhibit("In ViT's comparison table, how many core-days?") == ("Table", None)
    assert referenced_exhibit("What does Table 2 report?") == ("Table", "2")
    assert referenced_exhibit("as plotted in Fig. 3") == ("Figure", "3")
    assert referenced_exhibit("How many heads?") is None
    table = ("Table", None)
    assert holds_exhibit(table, "", "VTAB 77.63 TPUv3-core-days 2.5k Table 2: Comparison with state of the art")
    assert holds_exhibit(table, "Table 5", "Training efficiency for different models")
    assert not holds_exhibit(table, "", "as shown in Table 2, ViT wins")  # a mention is not the table
    assert not holds_exhibit(("Table", "3"), "Table 2", "")
    ranked = ["text", "mention", "table", "caption"]
    holds = {"table", "caption"}.__contains__
    assert first_holding(ranked, holds) == ["table", "text", "mention", "caption"]
    assert first_holding(ranked, lambda _: False) == ranked
