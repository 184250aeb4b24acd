"""Linking a survey's references to indexed papers (offline, order-independent), and the section numbers
a survey prints when its PDF outline has none. Real PDFs, a real index; the unit tests of the title
normaliser use literal titles as printed in real bibliographies."""

from __future__ import annotations

import json

import pytest

from mmqa.acquire.links import (
    BY_PRINTED_ID,
    BY_TITLE,
    PaperLinker,
    cited_doc_ids,
    printed_title_keys,
    same_title,
    title_key,
)
from mmqa.index.manifest import PaperRecord
from mmqa.retrieval.filters import SearchFilter
from mmqa.schema import Reference
from mmqa.service import MMQA
from tests.conftest import SHARED, pdf, run_cli

NEIGHBOURHOOD = SHARED / "corpus" / "neighbourhood"
SURVEY = "2401.13601"  # MM-LLMs: its outline says "Modality Encoder", its text "2.1 Modality Encoder"
LORA = "2106.09685"  # cited with no id printed; its page 1 prints "LORA: ... LAN-" / "GUAGE MODELS"
VAE = "1312.6114"  # cited with its arXiv id printed
UNCITED = "2003.04297"  # MoCo v2: in the folder, not cited by the survey
TRANSFORMER = "1706.03762"  # cited by title only, and ingested after the survey here


@pytest.mark.parametrize(
    ("printed", "indexed"),
    [
        ("Lora: Low-rank adaptation of large lan- guage models", "LoRA: Low-Rank Adaptation of Large Language Models"),
        ("Attention is all you need", "Attention Is All You Need"),
        ("Scaling instruction-ﬁnetuned language models", "Scaling Instruction-Finetuned Language Models"),
        (
            "BERT: pre-training of deep bidirectional transformers",
            "BERT: Pre-training of Deep Bidirectional Transformers",
        ),
        ("Vision- language pre-training", "Vision-Language Pre-Training"),
    ],
)
def test_same_title_after_normalising(printed, indexed):
    assert same_title(printed, indexed)


@pytest.mark.parametrize(
    ("printed", "indexed"),
    [
        # near misses: one word, one number or a subtitle apart is another paper
        ("LLaMA: Open and efficient foundation language models", "Llama 2: Open foundation and fine-tuned chat models"),
        ("Visual instruction tuning", "Improved baselines with visual instruction tuning"),
        ("Language models are few-shot learners", "Language models are unsupervised multitask learners"),
        ("Blip: Bootstrapping language-image pre-training", "Blip-2: Bootstrapping language-image pre-training"),
        ("Qwen technical report", "Qwen2 technical report"),
        # too short to identify a paper, even when identical
        ("ViT", "ViT"),
        ("Introduction", "Introduction"),
    ],
)
def test_merely_similar_titles_never_match(printed, indexed):
    assert not same_title(printed, indexed)


def _record(doc_id: str, title: str, aliases: list[str] | None = None) -> PaperRecord:
    return PaperRecord(doc_id, title, "", "", "", "", 1, [], [], False, "", "", aliases=aliases or [])


def test_linker_prefers_printed_id_and_never_links_a_wrong_title():
    papers = {
        "2106.09685": _record("2106.09685", "LoRA: Low-Rank Adaptation of Large Language Models"),
        "2302.13971": _record("2302.13971", "Published as a conference paper at ICLR 2022"),  # a title read wrongly
        "2303.04671": _record(
            "2303.04671", "Visual ChatGPT", ["Talking, Drawing and Editing with Visual Foundation Models"]
        ),
        "dup-a": _record("dup-a", "A Survey of Large Language Models"),
        "dup-b": _record("dup-b", "A survey of large language models"),
    }
    linker = PaperLinker(papers)
    lora = Reference("Hu et al., 2021", ["Hu"], "2021", "Lora: Low-rank adaptation of large lan- guage models")
    llama = Reference(
        "Touvron et al., 2023a", ["Touvron"], "2023", "Llama: Open and efficient foundation language models"
    )
    printed = Reference("Touvron et al., 2023b", ["Touvron"], "2023", "Whatever", "2302.13971", "printed")
    alias = Reference("Wu et al., 2023", ["Wu"], "2023", "Talking, drawing and editing with visual foundation models")
    ambiguous = Reference("Zhao et al., 2023", ["Zhao"], "2023", "A survey of large language models")
    links = linker.links([lora, llama, printed, alias, ambiguous], citing="2401.13601")
    assert {k: (v.doc_id, v.linked_by) for k, v in links.items()} == {
        "Hu et al., 2021": ("2106.09685", BY_TITLE),
        "Touvron et al., 2023b": ("2302.13971", BY_PRINTED_ID),
        "Wu et al., 2023": ("2303.04671", "alias"),
    }
    assert linker.link(lora, citing="2106.09685") is None  # a paper never links to itself
    assert cited_doc_ids("Hu et al., 2021|Touvron et al., 2023a|arxiv:2302.13971|arxiv:9999.99999", links) == [
        "2106.09685", "2302.13971"
    ]  # fmt: skip


@pytest.fixture(scope="module")
def survey_home(tmp_path_factory, settings_for, shared_models):
    """`ingest --survey arxiv:2401.13601 --from DIR` offline, DIR holding the survey, two papers it cites and
    one it does not; then the Transformer (cited) is ingested on its own, after the survey."""
    folder = tmp_path_factory.mktemp("folder")
    for doc_id in (SURVEY, LORA, VAE, UNCITED):
        (folder / f"{doc_id}.pdf").symlink_to(NEIGHBOURHOOD / f"{doc_id}.pdf")
    service = MMQA(settings_for(tmp_path_factory.mktemp("survey-links"), offline=True))
    outcome = service.ingest_survey(f"arxiv:{SURVEY}", from_dir=folder)
    assert sorted(f.doc_id for f in outcome.report.files if f.status == "added") == sorted([SURVEY, LORA, VAE])
    before = service.reference_links(SURVEY)
    survey_chunks = list(service.manifest().paper(SURVEY).chunk_ids)
    late = service.ingest([pdf(TRANSFORMER)])
    assert [f.status for f in late.files] == ["added"], late.files
    return service, before, survey_chunks


def _entry(listing: dict, title_start: str) -> dict:
    return next(r for r in listing["references"] if title_key(r["title"]).startswith(title_key(title_start)))


def test_survey_references_link_to_indexed_papers(survey_home):
    service, before, survey_chunks = survey_home
    listing = service.references(SURVEY).to_dict()
    lora = _entry(listing, "Lora: Low-rank adaptation")
    assert (lora["linked"], lora["linked_doc"], lora["linked_by"]) == (True, LORA, BY_TITLE)
    assert lora["arxiv_id"] is None  # linked by its title alone: the entry prints no id
    vae = _entry(listing, "Autoencoding variational bayes")
    assert (vae["linked_doc"], vae["linked_by"]) == (VAE, BY_PRINTED_ID)
    # ingested after the survey: linked now, with the survey neither parsed nor embedded again
    transformer = _entry(listing, "Attention is all you need")
    assert (transformer["linked_doc"], transformer["linked_by"]) == (TRANSFORMER, BY_TITLE)
    assert TRANSFORMER not in {link.doc_id for link in before.values()}
    assert service.manifest().paper(SURVEY).chunk_ids == survey_chunks
    linked = [r for r in listing["references"] if r["linked"]]
    assert {r["linked_doc"] for r in linked} == {LORA, VAE, TRANSFORMER}
    for row in linked:  # every title link names the paper the entry names: its title or the top of its page 1
        record = service.manifest().paper(row["linked_doc"])
        if row["linked_by"] == BY_TITLE:
            assert title_key(row["title"]) in {title_key(record.title), *printed_title_keys(record.title_lines)}


def test_survey_passages_cite_linked_papers(survey_home):
    service, _, _ = survey_home
    links = service.reference_links(SURVEY)
    chunks = service.store.get(service.manifest().paper(SURVEY).chunk_ids)
    cited = {c.chunk_id: service.cited_papers(SURVEY, str(c.meta.get("cites", "")), links) for c in chunks}
    assert set().union(*cited.values()) == {LORA, VAE, TRANSFORMER}  # the Transformer through its entry's key
    lora_passages = [c for c in chunks if LORA in cited[c.chunk_id]]
    assert lora_passages and all("Hu et al., 2021" in str(c.meta["cites"]) for c in lora_passages)
    scoped = service.search("low-rank adaptation of attention weights", k=5, filters=SearchFilter(scope="cited"))
    assert scoped.passages and {p.doc_id for p in scoped.passages} <= {LORA, VAE, TRANSFORMER}


def test_sections_take_numbers_printed_in_the_text(survey_home):
    service, _, _ = survey_home
    sections = {f"{s.number} {s.title}".strip() for s in service.sections(SURVEY)[SURVEY]}
    assert {"1 Introduction", "2.1 Modality Encoder", "2.3 LLM Backbone", "A Related Surveys"} <= sections
    listing = service.references(SURVEY).to_dict()
    for title_start, section in (("Image as a foreign language", "1"), ("Visual chatgpt", "1")):
        entry = _entry(listing, title_start)
        assert section in entry["cited_in"] and "Abstract" not in entry["cited_in"], entry


def test_cli_refs_json_and_sections(survey_home):
    service, _, _ = survey_home
    out = run_cli(service.settings.home, "refs", SURVEY, "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"linked", "linked_doc", "linked_by"} <= set(data["references"][0])
    out = run_cli(service.settings.home, "sections", SURVEY)
    assert out.returncode == 0 and "2.1" in out.stdout and "Modality Encoder" in out.stdout, out.stdout
