"""The extractive answerer: cited sentences, abstention on questions the corpus does not answer."""

from __future__ import annotations

import re

from mmqa.answering.lexical import missing_entities, question_entities


def test_answer_cites_numbered_sources(indexed):
    answer = indexed.ask("Why did the Transformer use sinusoidal positional encodings instead of learned ones?")
    assert not answer.abstained
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert numbers == {c.n for c in answer.citations}
    assert sorted(numbers) == list(range(1, len(numbers) + 1))
    assert any(c.passage.doc_id == "1706.03762" for c in answer.citations)
    for sentence in answer.sentences:
        cited = next(c for c in answer.citations if c.n == sentence.sources[0])
        # extractive: every sentence is quoted from its source (minus the paper's own '[9]' markers)
        words = sentence.text.split()
        assert " ".join(words[:4]) in " ".join(cited.passage.text.split())


def test_answer_json_contract(indexed):
    data = indexed.ask("How many layers does OPT-175B have?").to_dict()
    assert {"question", "answer", "citations", "abstained", "backend", "sentences", "timings_ms"} <= set(data)
    assert data["backend"] == "extractive" and data["supported_sentences"] == len(data["sentences"])
    assert data["citations"] and {"n", "doc_id", "section", "section_title", "page_start", "page_end"} <= set(
        data["citations"][0]
    )
    assert data["timings_ms"]["total"] > 0


def test_abstains_when_papers_do_not_cover_it(indexed):
    answer = indexed.ask("What AP does YOLOv4 achieve on COCO test-dev, and at what frame rate?")
    assert answer.abstained
    assert "YOLOv4" in answer.text
    assert answer.citations == []
    assert answer.to_dict()["abstained"] is True


def test_an_acronym_question_is_answered_with_its_definition(indexed):
    # The question's other words ("in the DINO paper, and what does it measure?") match the defining
    # sentence weakly: scored on similarity alone the evidence fell below the abstention threshold.
    answer = indexed.ask("What is ATD(k) short for in the DINO paper, and what does it measure?")
    assert not answer.abstained
    assert "Average Top-K Distance (ATD(k))" in answer.sentences[0].text
    cited = next(c for c in answer.citations if c.n == answer.sentences[0].sources[0])
    assert (cited.passage.doc_id, cited.passage.meta["page_start"]) == ("2203.03605", 8)
    assert indexed.ask("What does BLOOM stand for?").abstained  # spelled out nowhere in the corpus


def test_question_entities():
    assert question_entities("How many TPU chips were used to pre-train BERT-Large?") == ["TPU", "BERT-Large"]
    assert question_entities("What does DINO stand for in the DETR-based paper?") == ["DINO", "DETR"]
    assert question_entities("What loss trains the Segment Anything Model (SAM)?") == ["Segment Anything Model", "SAM"]
    assert question_entities("In ViT's table, how did ViT-H/14 compare with BiT-L and Noisy Student?") == [
        "ViT", "ViT-H/14", "BiT-L", "Noisy Student",
    ]  # fmt: skip
    # A capital or digit standing alone in a hyphenated word is notation, not a name: pypdf prints the
    # paper's binomial as '(K 2)', and the question is answerable (it was refused for 'K-choose-2').
    assert question_entities("How does InstructGPT feed the K-choose-2 ranked comparisons to top-1 heads?") == [
        "InstructGPT"
    ]
    assert question_entities("Did GPT-3 use T5 or k-NN?") == ["GPT-3", "T5", "k-NN"]
    assert missing_entities(["BLOOM", "PaLM"], "PaLM is a model; a Bloom filter") == ["BLOOM"]
    assert missing_entities(["RealToxicityPrompts", "imagen"], "the RealToxicity- Prompts set; Imagen") == []
    # A run of name-like words is often a name with its descriptors, written apart in the paper.
    table = "Table 4: ... results on Section 23 of WSJ (F1) ... ResNets of 110 and 1202 layers"
    assert missing_entities(["WSJ Section 23 F1", "ResNet", "Segment Anything Model"], table) == [
        "Segment Anything Model"
    ]
    text = "Shuffling BN. ... the VLMO model ... trained on 1.4T tokens at 448 × 448 ... Flan-T5 ... Flan-PaLM ... NExT"
    names = ["shuffling-BN", "VLMo", "1.4T-token", "448x448", "Flan-T5/Flan-PaLM", "NeXT", "BERT-Large"]
    assert missing_entities(names, text + " BERT is large") == ["NeXT", "BERT-Large"]
