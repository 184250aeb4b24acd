"""What a question's wording says about where the answer is: paper names, acronyms, summaries, and a
passage's context (pure functions)."""

from __future__ import annotations

from mmqa.parsing.names import asked_acronym, defines, paper_aliases, spells
from mmqa.retrieval.priors import (
    boost,
    definitions_first,
    in_context,
    is_summary_section,
    named_papers,
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
    assert asked_acronym("What is ATD(k) short for in the DINO paper?") == "ATD"
    assert defines("ATD", "we define a metric called Average Top-K Distance (ATD(k)) and use it")
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



def test_summary_sections_and_demotion():
    assert all(map(is_summary_section, ["Abstract", "Introduction", "Conclusions", "Conclusion."]))
    assert not any(map(is_summary_section, ["Related Work", "Introduction to Attention", "Discussion"]))
    fused = [("abstract", 1.0), ("body", 0.98), ("other", 0.5)]
    assert [i for i, _ in boost(fused, lambda i: i == "abstract", -0.03)] == ["body", "abstract", "other"]


def test_a_passage_is_read_in_its_context():
    # "answer" sits between two on-topic passages; "mention" scores a little higher on its own, but its one
    # neighbour is off topic, and a neighbour that is no candidate ("unscored") counts as 0.
    fused = [("mention", 1.0), ("answer", 0.97), ("before", 0.9), ("after", 0.8), ("off-topic", 0.1)]
    neighbours = {
        "answer": ("before", "after"), "before": ("answer",), "after": ("answer",),
        "mention": ("off-topic", "unscored"), "off-topic": ("mention",),
    }  # fmt: skip
    rescored = dict(in_context(fused, neighbours, 0.1))
    assert rescored["answer"] == 0.97 + 0.1 * (0.9 + 0.8) / 2
    assert rescored["mention"] == 1.0 + 0.1 * 0.1 / 2
    assert [i for i, _ in in_context(fused, neighbours, 0.1)][:2] == ["answer", "mention"]
    assert rescored["before"] == 0.9 + 0.1 * 0.97 / 2  # one neighbour: the missing one counts as 0
    assert in_context(fused, neighbours, 0.0) == fused
    assert in_context(fused, {}, 0.1) == fused  # no neighbours known (an index from before they were kept)
