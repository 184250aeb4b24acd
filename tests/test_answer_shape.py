"""The shape of the default (extractive) answer, on real papers of both corpus folders: a definition question
leads with the sentence that defines what it asks about, a single-paper question cites one paper, and no
quoted sentence is a caption fragment ('(right) ...'), a footnote-glued word ('5For ...'), a sentence cut
in the middle or one that announces a list it does not quote (it is quoted with what follows). Real index,
real embedder, no LLM."""

from __future__ import annotations

import re

import pytest

from mmqa.answering.quotes import announces, clean, labelled, opens_list_item, stands_alone
from mmqa.parsing.definitions import asked_subject, defines_subject
from tests.conftest import BLIP, LORA, QLORA

# (question, its paper, words of the paper's own one-sentence definition, as printed in its abstract)
DEFINITIONS = [
    ("What is LoRA?", LORA, ("freezes", "rank decomposition")),
    ("What is BLIP?", BLIP, ("VLP framework",)),
    ("What is QLoRA?", QLORA, ("efficient finetuning approach",)),
]
_FRAGMENT = re.compile(r"^\((?:left|right|top|bottom|[a-h])\)|^\d+[A-Z][a-z]|^[a-z]|:$")


def _assert_reads_on_its_own(answer) -> None:
    for sentence in answer.sentences:
        assert not _FRAGMENT.search(sentence.text.strip()), sentence.text


@pytest.mark.parametrize(("question", "paper", "words"), DEFINITIONS)
def test_definition_question_leads_with_the_defining_sentence(chained, question, paper, words):
    answer = chained.ask(question)
    assert not answer.abstained, answer.message
    lead = answer.sentences[0]
    assert all(word in lead.text for word in words), lead.text
    cited = {c.n: c.passage for c in answer.citations}
    assert {cited[n].doc_id for n in lead.sources} == {paper}


@pytest.mark.parametrize(("question", "paper", "words"), DEFINITIONS)
def test_single_paper_question_cites_one_paper(chained, question, paper, words):
    answer = chained.ask(question)
    assert {c.passage.doc_id for c in answer.citations} == {paper}, [c.passage.doc_id for c in answer.citations]
    _assert_reads_on_its_own(answer)


def test_no_caption_fragments_or_dangling_sentences(indexed, dev_records):
    # The setup script's demo question once got "(right) Multi-Head Attention consists of several attention
    # layers running in parallel." (a Figure 2 caption) and "... in three different ways:".
    questions = ["What is multi-head attention and why is it used?"]
    questions += [r["question"] for r in list(dev_records.values())[:12] if not r.get("unanswerable")]
    answered = 0
    for question in questions:
        answer = indexed.ask(question)
        answered += not answer.abstained
        _assert_reads_on_its_own(answer)
    assert answered >= len(questions) - 1


def test_concept_the_papers_do_not_discuss_gets_nearby_material_or_an_abstention(indexed):
    # The mission's own example: the six papers never say "masked image modeling"; ViT §4.6 tries masked
    # patch prediction. The answer says so plainly and quotes only that, not sentences about masks or images.
    nearby = indexed.ask("what is masked image modeling")
    assert not nearby.abstained and "do not discuss masked image modeling" in nearby.notice
    assert {c.passage.doc_id for c in nearby.citations} == {"2010.11929"}
    assert all("masked" in s.text for s in nearby.sentences), nearby.text
    absent = indexed.ask("What is a diffusion model?")
    assert absent.abstained and "do not discuss diffusion model" in absent.message


def test_definition_questions_and_defining_sentences():
    assert asked_subject("What is LoRA?") == "LoRA"
    assert asked_subject("what is masked image modeling") == "masked image modeling"
    assert asked_subject("What is chain-of-thought prompting, as used in PaLM?") == "chain-of-thought prompting"
    assert asked_subject("What is the size of the largest model?") is None
    assert asked_subject("What does DINO stand for?") is None
    assert defines_subject("QLoRA", "We present QLORA, an efficient finetuning approach that reduces memory use.")
    assert defines_subject("masked image modeling", "This strategy is known as masked image modeling (MIM).")
    assert defines_subject("BLIP", "In this paper, we propose BLIP, a new VLP framework which transfers flexibly.")
    assert not defines_subject("LoRA", "LoRA possesses several key advantages.")
    assert not defines_subject("BLIP", "The result is shown in Table 6, where BLIP also outperforms them.")
    # an infinitive between the verb and the subject: the experiments are presented, not the subject
    shows = "We present comprehensive experiments on ImageNet [36] to show the degradation problem and evaluate it."
    assert not defines_subject("degradation problem", shows)
    # the end of a longer name: Double Quantization is introduced, not quantization
    assert not defines_subject("quantization", "(2) Double Quantization, a method that quantizes the constants.")
    assert defines_subject("LoRA", "Thus LoRA, a low-rank method, adds no inference latency.")


def test_quote_clean_up_on_real_extraction_artefacts():
    assert clean("(right) Multi-Head Attention consists of several attention layers running in parallel.") == (
        "Multi-Head Attention consists of several attention layers running in parallel."
    )
    assert clean("5For GPT-3 175B, we use a learning rate of 2e-4.").startswith("For GPT-3 175B")
    assert clean("while requiring substantially fewer resources to train.1").endswith("to train.")
    assert clean("as shown in prior work [9, 18].") == "as shown in prior work."
    assert announces("The Transformer uses multi-head attention in three different ways:")
    assert not stands_alone("and then fine-tuned on the downstream task with a small learning rate.")
    assert stands_alone("(a) The model is trained with a contrastive loss on image-text pairs.")
    # QLoRA's list of contributions: the item's number is not quoted, and the next item is another topic.
    item = "(2) Double Quantization, a method that quantizes the quantization constants, saving 0.37 bits."
    assert clean(item).startswith("Double Quantization, a method")
    assert opens_list_item("(3) Paged Optimizers, using NVIDIA unified memory to avoid memory spikes.")
    assert opens_list_item("• No Biases – No biases were used.") and not opens_list_item("In (3) we show it.")
    # BLIP's Table 2 as pypdf gives it: the rows, the label, then the caption, which is quoted with its label.
    rows = "Beam 19% 79.6 61.9 94.1 83.1 38.4 128.9 Nucleus 25% 80.6 63.1 94.8 84.9 38.6 129.7 Table 2."
    caption = "Comparison between beam search and nucleus sampling for synthetic caption generation."
    assert labelled(caption, rows) == f"Table 2. {caption}"
    assert labelled(caption, "We compare both in Table 2 and discuss them.") == caption
    assert labelled("We observe that sampling helps.", "The results are summarised in Table 2.") == (
        "We observe that sampling helps."
    )  # a label ending prose is a reference to the table, not its caption


def test_an_answer_stays_on_the_pages_that_answer(indexed, dev_records):
    # Every sentence comes from the paper and the pages of the lead's passage: its citations all point where
    # the answer is (citation precision on neighbourhood_dev went 0.632 -> 0.895 with this).
    questions = [r["question"] for r in list(dev_records.values())[:15] if not r.get("unanswerable")]
    answered = 0
    for question in questions:
        answer = indexed.ask(question)
        if answer.abstained or asked_subject(question):  # a definition may lead from the paper's abstract
            continue
        answered += 1
        cited = [c.passage for c in answer.citations]
        assert len({p.doc_id for p in cited}) == 1, (question, answer.text)

        def overlaps(a, b) -> bool:
            return a.page_start <= b.page_end and b.page_start <= a.page_end

        assert any(all(overlaps(focus, p) for p in cited) for focus in cited), (question, answer.text)
    assert answered >= 10


def test_a_comparison_quotes_each_paper_it_compares(chained):
    # QLoRA discusses LoRA throughout, so its passages alone once answered this; a comparison names both.
    answer = chained.ask("How does QLoRA differ from LoRA?")
    assert {c.passage.doc_id for c in answer.citations} >= {QLORA, LORA}, answer.text
    # Two names before the comparing word are not two papers compared ('... the standard one').
    single = chained.ask("How does the QLoRA finetuning of LLaMA differ from the standard one?")
    assert len({c.passage.doc_id for c in single.citations}) == 1, single.text


def test_a_concept_question_leads_with_where_its_paper_names_it(indexed):
    # Not a paper's name: DINO names its gradient-detachment trick on p. 6 and contrasts it with 'look forward
    # twice' in §3.5 (p. 11), which uses the words more often and used to rank first.
    question = "What is look forward once?"
    top = indexed.search(question, 3).passages[0]
    assert (top.doc_id, top.page_start) == ("2203.03605", 6), top.text[:80]
    answer = indexed.ask(question)
    assert "We call this gradient detachment technique" in answer.sentences[0].text, answer.text
    assert {(c.passage.doc_id, c.passage.page_start) for c in answer.citations} == {("2203.03605", 6)}


def test_a_table_question_is_answered_by_its_row_under_the_tables_caption_and_header(indexed):
    # Before rows were passages of their own the answer quoted the model-variants paragraph around Table 1
    # ('We base ViT configurations on those used for BERT ...'), which holds none of the numbers.
    answer = indexed.ask("In ViT's table of model variants, how many layers does ViT-Large have?")
    lead = answer.sentences[0].text
    assert lead.startswith('Table 1 (Details of Vision Transformer model variants), columns "Model Layers'), lead
    # The row that answers comes first; the other rows of the passage follow, once, after the same lead-in.
    assert lead.split(": ", 1)[1].startswith("ViT-Large 24 1024 4096 16 307M"), lead
    assert lead.count("Table 1") == 1 and "ViT-Base 12 768" in lead
    cited = {c.n: c.passage for c in answer.citations}
    assert [(cited[n].doc_id, cited[n].page_start, cited[n].meta["kind"]) for n in answer.sentences[0].sources] == [
        ("2010.11929", 5, "table")
    ]


def test_a_list_items_definition_is_quoted_without_its_number_or_the_next_item(chained):
    # QLoRA lists its contributions as '(1) 4-bit NormalFloat ... (2) Double Quantization, a method ... (3) Paged
    # Optimizers ...': the answer used to quote '(2) Double Quantization ...' followed by item (3).
    answer = chained.ask("What is double quantization?")
    assert answer.sentences[0].text.startswith("Double Quantization, a method that quantizes"), answer.text
    assert not any("Paged Optimizers" in s.text for s in answer.sentences), answer.text
