"""Evidence chains: a survey sentence shows the cited paper's own passage (CLI, JSON, UI), ``--cites`` finds the
passages citing a paper, and questions about "the survey" search the survey. Real PDFs (the MM-LLMs survey
2401.13601 and four papers it cites, ingested offline with ``--survey --from``), a real index, the real embedder."""

from __future__ import annotations

import json
import re

import pytest

from mmqa.answering.citations import CitationChecker
from mmqa.answering.highlight import claims_citing, excerpt
from mmqa.answering.lexical import content_terms
from mmqa.errors import MMQAError
from mmqa.retrieval.filters import SearchFilter
from mmqa.schema import AnswerSentence, Citation, Passage
from mmqa.service import MMQA
from tests.conftest import LORA, QLORA, SURVEY, run_cli
from tests.test_ui import ask as ui_ask
from tests.test_ui import cards, start

QLORA_QUESTION = "What is QLoRA according to the survey?"
# (question, the paper whose own passage must back the survey's sentence)
SURVEY_QUESTIONS = [
    (QLORA_QUESTION, QLORA),
    ("How does the survey say LoRA reduces the number of trainable parameters?", LORA),
    ("Which PEFT methods does the survey describe?", LORA),
]
_CITATION_WORDS = {"et", "al"}  # "Hu et al., 2021" shares these with any paper


def _supports(service: MMQA, claim: str, passage: Passage) -> bool:
    """The citation checker's verdict, and at least two content words (not 'et al') in common."""
    checker = CitationChecker(service.embedder, service.settings.llm_settings.min_support)
    verdict = checker.check([AnswerSentence(claim, [1])], [passage])[0]
    shared = (set(content_terms(claim)) & set(content_terms(passage.text))) - _CITATION_WORDS
    return verdict.supported and len(shared) >= 2


@pytest.mark.parametrize(("question", "paper"), SURVEY_QUESTIONS)
def test_survey_sentence_shows_the_cited_papers_own_passage(chained, question, paper):
    answer = chained.ask(question)
    assert not answer.abstained and {c.passage.doc_id for c in answer.citations} == {SURVEY}  # "the survey"
    chains = [c for c in answer.citations if c.primary]
    assert paper in {p.passage.doc_id for c in chains for p in c.primary}, answer.to_dict()
    for citation in chains:
        cited = chained.cited_papers(SURVEY, str(citation.passage.meta["cites"]))
        claim = claims_citing(answer, citation.n)[0]
        for primary in citation.primary:
            assert primary.passage.doc_id in cited and primary.n == citation.n
            assert _supports(chained, claim, primary.passage), (claim, primary.passage.text)
    for citation in answer.citations:  # a source citing no indexed paper has no chain
        if not chained.cited_papers(SURVEY, str(citation.passage.meta.get("cites", ""))):
            assert citation.primary == []


def test_ask_cli_line_and_json_primary(chained):
    home = chained.settings.home
    out = run_cli(home, "ask", QLORA_QUESTION, env={"COLUMNS": "300"})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    source = next(i for i, line in enumerate(lines) if line.startswith("[1] ") and f"({SURVEY})" in line)
    chain = lines[source + 1]
    assert chain.startswith("    ↳ in ") and f"({QLORA}) §" in chain and chain.endswith('"'), chain
    assert re.search(r", pp?\. \d", chain), chain  # its page, or its two pages ('pp. 6–7')
    out = run_cli(home, "ask", QLORA_QUESTION, "--json")
    assert out.returncode == 0, out.stderr
    citation = json.loads(out.stdout)["citations"][0]
    assert citation["doc_id"] == SURVEY and citation["primary"], citation
    primary = citation["primary"][0]
    assert primary["doc_id"] == QLORA and set(primary) == set(citation) and primary["primary"] == []


def test_search_cites_finds_the_passages_citing_a_paper(chained):
    result = chained.search("low-rank adaptation of large language models", k=8, filters=SearchFilter(cites=LORA))
    assert result.passages
    for passage in result.passages:
        assert LORA in chained.cited_papers(passage.doc_id, str(passage.meta.get("cites", ""))), passage.meta
    assert {p.doc_id for p in result.passages} == {SURVEY, QLORA}  # the survey and QLoRA cite LoRA; LoRA does not
    in_survey = SearchFilter(docs=[SURVEY], cites=LORA)
    only_survey = chained.search("parameter-efficient fine-tuning", k=3, filters=in_survey)
    assert only_survey.passages and {p.doc_id for p in only_survey.passages} == {SURVEY}
    with pytest.raises(MMQAError, match=r"no indexed paper cites 9999\.99999"):
        chained.search("anything", filters=SearchFilter(cites="9999.99999"))
    out = run_cli(chained.settings.home, "search", "low-rank adaptation", "--cites", f"arxiv:{LORA}", "--json")
    assert out.returncode == 0, out.stderr
    assert {r["doc_id"] for r in json.loads(out.stdout)["results"]} <= {SURVEY, QLORA}


def test_question_about_the_survey_searches_the_survey(chained):
    answer = chained.ask("What does the survey say about LoRA?")
    assert not answer.abstained and {c.passage.doc_id for c in answer.citations} == {SURVEY}
    assert "LoRA" in answer.text
    plain = chained.ask("What is LoRA?")  # no "survey": every paper may answer
    assert {c.passage.doc_id for c in plain.citations} - {SURVEY}


def test_ui_source_card_shows_the_cited_paper(chained, monkeypatch):
    at = ui_ask(start(chained.settings.home, monkeypatch), QLORA_QUESTION)
    chained_cards = [card for card in cards(at) if 'class="mmqa-primary"' in card]
    assert chained_cards and "In the cited paper" in chained_cards[0] and f"({QLORA}) §" in chained_cards[0]
    labels = [e.label.replace("\\", "") for e in at.expander]  # labels are Markdown-escaped
    assert any(label.startswith("In the cited paper") and f"({QLORA})" in label for label in labels), labels


def test_excerpt_and_primary_json_shape():
    meta = {"doc_id": LORA, "short_name": "LoRA", "section": "4.1", "section_title": "Low-Rank", "page_start": 4,
            "page_end": 4, "title": "LoRA"}  # fmt: skip
    text = "LoRA. We freeze the pre-trained weights and inject trainable rank decomposition matrices. Results follow."
    primary = Citation(1, Passage("c1", text, meta, 0.6))
    assert primary.passage.where() == "LoRA (2106.09685) §4.1, p. 4"
    assert excerpt(text, ["LoRA injects trainable low-rank matrices"]).startswith("We freeze the pre-trained")
    outer = Citation(1, Passage("c0", "survey text", {**meta, "doc_id": SURVEY}, 0.9), [primary])
    assert outer.to_dict()["primary"][0]["doc_id"] == LORA and outer.to_dict()["primary"][0]["primary"] == []
