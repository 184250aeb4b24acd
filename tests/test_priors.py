"""What a question's wording says about where the answer is: paper names, acronyms, summaries, and a
passage's context (pure functions)."""

from __future__ import annotations

from mmqa.parsing.names import asked_acronym, defines, read_names, spells
from mmqa.retrieval.priors import (
    PaperNames,
    asks_about_table,
    boost,
    definitions_first,
    first_definition_first,
    holds_table_caption,
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
        "Vision Transformer (ViT) attains excellent results. Visual Question Answering (VQA) is hard. "
        "We propose a new simple network architecture, the Transformer, based solely on attention."
    )
    names = read_names("Attention Is All You Need", front)
    assert names.aliases == ["ViT", "Vision Transformer", "Transformer", "Attention Is All You Need"]
    assert names.short == "ViT"
    assert "VQA" not in names.aliases  # defined in passing, not the paper's own name
    assert names.terms == ["ViT", "Vision Transformer", "VQA", "Visual Question Answering"]
    palm = read_names("PaLM: Scaling Language Modeling", "which we call Pathways Language Model (PaLM).")
    assert (palm.short, palm.aliases) == ("PaLM", ["PaLM", "Pathways Language Model"])


def test_a_paper_owns_only_the_names_it_introduces():
    cited = read_names("Scaling Vision Transformers", "Networks such as the Vision Transformer (ViT) work well.")
    assert (cited.short, cited.aliases) == ("Scaling Vision Transformers", ["Scaling Vision Transformers"])
    assert cited.terms == ["ViT", "Vision Transformer"]  # defined there, but another paper's name
    plural = read_names(
        "High-Resolution Image Synthesis with Latent Diffusion Models",
        "Diffusion models (DMs) achieve great results. Our latent diffusion models (LDMs) are cheaper.",
    )
    assert plural.short == "LDMs" and "LDM" in plural.aliases and "DMs" not in plural.aliases
    quoted = read_names("Exploring Simple Siamese Representation Learning", "Our “SimSiam” method achieves results.")
    assert quoted.short == "SimSiam"  # introduced in quotes, in the abstract
    flan = read_names(
        "Finetuned Language Models Are Zero-Shot Learners",
        "We evaluate on natural language inference (NLI). We call this model FLAN, and it works.",
    )
    assert flan.short == "FLAN" and "NLI" not in flan.aliases
    bit = read_names("Big Transfer (BiT): General Visual Representation Learning", "We revisit pre-training.")
    assert bit.short == "BiT"
    parti = read_names("Scaling Models", "We present the Pathways Autoregressive Text-to-Image (Parti) model.")
    assert parti.short == "Parti"
    beit = read_names("Image as a Foreign Language: BEiT Pretraining", "We introduce BEIT-3, a general model.")
    assert beit.short == "BEiT-3"  # the abstract's capitals, spelled as the title spells 'BEiT'


def test_an_ambiguous_name_names_a_paper_only_where_the_question_tells_which():
    names = PaperNames(
        {"2203.03605": ["DINO"], "2104.14294": ["DINO", "Emerging Properties"], "2010.11929": ["ViT"], "x": ["MAE"]},
        titles={
            "2203.03605": "DINO: DETR with Improved DeNoising Anchor Boxes for End-to-End Object Detection",
            "2104.14294": "Emerging Properties in Self-Supervised Vision Transformers",
            "2010.11929": "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale",
            "2104.02057": "An Empirical Study of Training Self-Supervised Vision Transformers",
            "2106.04560": "Scaling Vision Transformers",
        },
        terms={"2010.11929": ["ViT"], "2104.02057": ["ViT"], "2106.04560": ["ViT"], "y": ["MAE"]},
    )
    assert names.ambiguous == {"DINO", "ViT"}  # two papers call themselves DINO; three define ViT
    assert names.named("What does DINO's teacher do?") == set()
    assert names.named("How is the self-supervised DINO trained?") == {"2104.14294"}
    assert names.named("What AP does DINO reach for object detection?") == {"2203.03605"}
    assert names.named("How many patches does ViT use?") == set()
    assert names.named("How does ViT do image recognition at scale?") == {"2010.11929"}
    assert names.named("Is MAE slow?") == {"x"}  # defined by one other paper: still its own


def test_a_paper_named_as_where_to_look():
    names = PaperNames({
        "2009.06732": ["Efficient Transformers"], "2103.03206": ["Perceiver"], "2401.13601": ["MM-LLMs"],
        "2302.07842": ["Augmented Language Models", "ALMs"], "2203.03605": ["DINO"], "2104.14294": ["DINO"],
    })  # fmt: skip
    # In any case, a hyphen for a space, right before 'survey', 'paper' or 'authors'; the other names are the topic.
    question = "How does the efficient-Transformers survey's summary table characterize Perceiver?"
    assert names.where_to_look(question) == {"2009.06732"} and names.named(question) == {"2103.03206"}
    assert names.where_to_look("How does the augmented language models survey define a tool?") == {"2302.07842"}
    assert names.where_to_look("What is QLoRA, as the MM-LLMs survey summarizes it?") == {"2401.13601"}
    assert names.where_to_look("Why did the Perceiver authors use a latent array?") == {"2103.03206"}
    assert names.where_to_look("How do efficient Transformers scale?") == set()  # not named as a source
    assert names.where_to_look("What does the DINO paper propose?") == set()  # ambiguous: not a source alone
    assert PaperNames({"x": ["-Net"]}).where_to_look("What does the net paper say?") == {"x"}


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


# Passages of papers A and B: which paper each is in, where it stands (page, chunk index), which define the term.
PAPER_OF = {"intro": "A", "abstract": "A", "other": "A", "x-late": "B", "x-early": "B"}.__getitem__
POSITION = {"intro": (3, 10), "abstract": (1, 0), "x-late": (9, 40), "x-early": (2, 5), "other": (5, 0)}.__getitem__
DEFINING = {"intro", "abstract", "x-late", "x-early"}.__contains__


def test_definitions_come_first_in_reading_order_per_paper():
    ranked = ["intro", "other", "abstract", "x-late", "x-early"]
    order = definitions_first(ranked, DEFINING, PAPER_OF, POSITION)
    assert order == ["abstract", "intro", "x-early", "x-late", "other"]


def test_one_definition_goes_first_the_best_papers_earliest():
    ranked = ["other", "intro", "x-early", "abstract", "x-late"]
    order = first_definition_first(ranked, DEFINING, PAPER_OF, POSITION)
    # A's definition ranks best (intro), its earliest (abstract) goes first; the rest keep their order
    assert order == ["abstract", "other", "intro", "x-early", "x-late"]
    assert first_definition_first(ranked, lambda _: False, PAPER_OF, POSITION) == ranked


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


def test_table_questions_and_table_captions():
    assert asks_about_table("In ViT's table of model variants, how many layers does ViT-L have?")
    assert asks_about_table("Which Tables report the ablations?")
    assert not asks_about_table("How stable is training?")
    caption = {"kind": "caption", "figure": "Table 4"}
    assert holds_table_caption("Table 4. Error rates (%) of single-model results", caption)
    assert not holds_table_caption("Figure 2: The Transformer architecture", {"kind": "caption", "figure": "Figure 2"})
    text = {"kind": "text"}
    assert holds_table_caption("GLaM (Du et al., 2021) O(N 2) Sparse Table 1: Summary of Efficient Transformer", text)
    assert not holds_table_caption("The results are shown in Table 1. We then ...", text)  # a sentence citing it
