"""Bibliographies: parsing references (a generated survey and the six real papers), linking citations to
chunks, resolving entries to arXiv ids, and the survey round trip through a local stand-in for arXiv.

The arXiv API and Semantic Scholar cannot be reached from the test machines, so FakeArxiv (tests/test_arxiv.py)
answers with canned responses in their documented formats; everything else is real.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from mmqa.acquire.arxiv import ArxivClient
from mmqa.acquire.resolver import ReferenceResolver, ResolutionCache, titles_match
from mmqa.errors import EmptyIndexError
from mmqa.parsing import parse_pdf
from mmqa.parsing.references import Bibliography, parse_references
from mmqa.service import MMQA
from mmqa.settings import ArxivSettings, ParsingSettings
from tests.conftest import pdf, run_cli
from tests.pdf_factory import survey_pdf
from tests.test_arxiv import FakeArxiv

SURVEY_ID = "2401.00001"  # a made-up id the fake server serves the generated survey under
CORPUS_SPEC = f"""
[survey]
arxiv = "{SURVEY_ID}"
[cited]
max = 5
[extra]
arxiv = []
[skip]
# ResNet resolves but is skipped, and so are the printed ids the server has no PDF for: the round trip
# ingests exactly the Transformer and ViT
arxiv = ["1512.03385", "2103.00020", "2102.03334"]
"""


@pytest.fixture
def arxiv():
    fake = FakeArxiv()
    fake.titles = {"1706.03762": "Attention Is All You Need", "2010.11929": "An Image is Worth 16x16 Words"}
    fake.s2 = {"Deep Residual Learning for Image Recognition": "1512.03385"}
    yield fake
    fake.server.shutdown()


def _metadata_hits(fake: FakeArxiv) -> list[str]:
    return [path for _, path in fake.hits if "search_query" in path or path.startswith("/graph/")]


@pytest.fixture(scope="module")
def survey_refs(tmp_path_factory):
    path = survey_pdf(tmp_path_factory.mktemp("survey") / f"{SURVEY_ID}.pdf")
    parsed = parse_pdf(path, ParsingSettings())
    return parsed, parse_references(parsed.texts)


def test_survey_bibliography_is_parsed(survey_refs):
    _, refs = survey_refs
    by_key = {r.key: r for r in refs}
    assert list(by_key) == [
        "Dosovitskiy et al., 2021", "He et al., 2016a", "He et al., 2016b", "Kim and Lee, 2021",
        "LeCun et al., 1998", "Radford et al., 2021", "Vaswani et al., 2017",
    ]  # fmt: skip
    assert by_key["Dosovitskiy et al., 2021"].arxiv_id == "2010.11929"  # arXiv:ID
    assert by_key["Radford et al., 2021"].arxiv_id == "2103.00020"  # https://arxiv.org/abs/IDv1
    assert by_key["Vaswani et al., 2017"].arxiv_id is None
    assert by_key["Vaswani et al., 2017"].title == "Attention is all you need"
    vaswani = by_key["Vaswani et al., 2017"]
    assert vaswani.authors[0] == "Vaswani, A." and len(vaswani.authors) == 8
    assert by_key["Kim and Lee, 2021"].title == "Two-author citations in vision-language pretraining"
    assert by_key["He et al., 2016b"].year == "2016b"


def test_citations_link_to_sections(survey_refs):
    parsed, refs = survey_refs
    bibliography = Bibliography(refs)
    cited = {st.section.number: [r.key for r in bibliography.cited(st.text)] for st in parsed.texts}
    assert cited["1"] == ["Vaswani et al., 2017", "LeCun et al., 1998"]
    assert cited["2.1"] == ["Dosovitskiy et al., 2021", "He et al., 2016a", "He et al., 2016b"]  # '2016a;b'
    assert cited["2.2"] == ["Radford et al., 2021", "Kim and Lee, 2021", "Vaswani et al., 2017"]


def test_numbered_citations():
    from mmqa.schema import Reference

    refs = [Reference(f"[{n}]", ["A. Author"], "2020", f"Title {n}") for n in range(1, 21)]
    cited = Bibliography(refs).cited("as in [3, 12] and [5–7], not [99]")
    assert [r.key for r in cited] == ["[3]", "[12]", "[5]", "[6]", "[7]"]


# (paper, style, at least this many entries, a known entry: key, first author's family name, year, arXiv id)
REAL = [
    ("1706.03762", "numbered", 40, ("[11]", "He", "2016", None)),
    ("1512.03385", "numbered", 50, ("[42]", "Srivastava", "2015", "1505.00387")),
    ("2203.03605", "numbered", 41, ("[36]", "Vaswani", "2017", None)),
    ("2010.11929", "author-year", 55, ("Chen et al., 2020b", "Chen", "2020b", None)),
    ("2204.02311", "author-year", 150, ("Austin et al., 2021", "Austin", "2021", "2108.07732")),
    ("2205.01068", "author-year", 90, ("Xu et al., 2021b", "Xu", "2021b", "2107.07567")),
]


@pytest.mark.parametrize(("name", "style", "at_least", "known"), REAL, ids=[r[0] for r in REAL])
def test_real_bibliographies(name, style, at_least, known):
    parsed = parse_pdf(pdf(name), ParsingSettings())
    refs = parse_references(parsed.texts)
    assert at_least <= len(refs) <= at_least * 1.3
    assert all(r.key.startswith("[") == (style == "numbered") for r in refs)
    assert sum(bool(r.year) for r in refs) >= 0.95 * len(refs)
    assert sum(bool(r.title) and bool(r.authors) for r in refs) >= 0.9 * len(refs)
    key, family, year, arxiv_id = known
    entry = next(r for r in refs if r.key == key)
    assert entry.authors[0].split(",")[0].split()[-1] == family
    assert (entry.year, entry.arxiv_id) == (year, arxiv_id)
    bibliography = Bibliography(refs)
    cited = {r.key for st in parsed.texts if st.section.kind != "references" for r in bibliography.cited(st.text)}
    assert len(cited) >= 0.8 * len(refs)  # almost every entry is cited somewhere in the text


def test_titles_must_match_closely():
    assert titles_match("Attention is all you need", "Attention Is All You Need.")
    assert titles_match("Deep residual learning for image recognition", "Deep Residual Learning for Image Recognition")
    assert not titles_match("Attention is all you need", "Attention is not all you need")
    assert not titles_match("Gradient-based learning", "Gradient-based learning applied to document recognition")


def _client(arxiv: FakeArxiv, tmp_path: Path, **overrides) -> ArxivClient:
    options = {"url": arxiv.url, "api_url": arxiv.url, "s2_url": arxiv.url, "delay": 0.0, "retries": 2,
               "backoff": 0.01, **overrides}  # fmt: skip
    return ArxivClient(ArxivSettings(**options), tmp_path / "papers")


def test_resolution_offline_online_and_cached(arxiv, survey_refs, tmp_path):
    cache_path = tmp_path / "cache.json"
    offline = ReferenceResolver(_client(arxiv, tmp_path, offline=True), ResolutionCache(cache_path))
    refs = [type(r).from_dict(r.to_dict()) for r in survey_refs[1]]
    offline.resolve(refs)
    assert {r.key: r.arxiv_id for r in refs if r.arxiv_id} == {
        "Dosovitskiy et al., 2021": "2010.11929", "Kim and Lee, 2021": "2102.03334",
        "Radford et al., 2021": "2103.00020",
    }  # fmt: skip  # printed ids only
    assert arxiv.hits == []

    online = ReferenceResolver(_client(arxiv, tmp_path), ResolutionCache(cache_path))
    summary = online.resolve(refs)
    ids = {r.key: (r.arxiv_id, r.resolved_by) for r in refs}
    assert ids["Vaswani et al., 2017"] == ("1706.03762", "arxiv")  # title search on the arXiv API
    assert ids["He et al., 2016a"] == ("1512.03385", "s2")  # not found by arXiv, matched by Semantic Scholar
    assert ids["LeCun et al., 1998"] == (None, "")  # on neither: stays unresolved, never guessed
    assert ids["He et al., 2016b"] == (None, "")
    assert (summary.printed, summary.looked_up, summary.found) == (3, 4, 2)
    asked = len(_metadata_hits(arxiv))

    again = [type(r).from_dict(r.to_dict()) for r in survey_refs[1]]
    ReferenceResolver(_client(arxiv, tmp_path), ResolutionCache(cache_path)).resolve(again)
    assert len(_metadata_hits(arxiv)) == asked  # hits and misses both came from the cache
    assert {r.key: r.arxiv_id for r in again} == {r.key: r.arxiv_id for r in refs}

    cached_offline = [type(r).from_dict(r.to_dict()) for r in survey_refs[1]]
    ReferenceResolver(_client(arxiv, tmp_path, offline=True), ResolutionCache(cache_path)).resolve(cached_offline)
    assert next(r for r in cached_offline if r.key == "Vaswani et al., 2017").arxiv_id == "1706.03762"


def test_empty_index_names_the_default_ingest(tmp_path, settings_for):
    with pytest.raises(EmptyIndexError, match=r"run `mmqa ingest` for the default corpus"):
        MMQA(settings_for(tmp_path / "home")).ask("what is attention")


def test_survey_round_trip(arxiv, tmp_path, settings_for):
    """Survey PDF -> bibliography -> resolved ids -> cited papers fetched and ingested -> refs, filters, BibTeX."""
    arxiv.files[f"/pdf/{SURVEY_ID}"] = survey_pdf(tmp_path / "survey.pdf").read_bytes()
    spec = tmp_path / "corpus.toml"
    spec.write_text(CORPUS_SPEC)
    home = tmp_path / "home"
    overrides = {"arxiv_url": arxiv.url, "s2_url": arxiv.url, "corpus_file": spec, "arxiv.delay": 0.0}
    service = MMQA(settings_for(home, **overrides))

    outcome = service.ingest_survey()  # = `mmqa ingest` with this corpus file
    assert sorted(f.doc_id for f in outcome.report.files if f.status == "added") == [
        "1706.03762", "2010.11929", SURVEY_ID,
    ]  # fmt: skip
    assert (outcome.references, outcome.resolved) == (7, 5)
    manifest = service.manifest()
    assert manifest.papers[SURVEY_ID].survey
    refs = {r.key: r for r in manifest.papers[SURVEY_ID].reference_objects()}
    assert refs["Vaswani et al., 2017"].cited_in == ["1", "2.2"]
    assert refs["Vaswani et al., 2017"].arxiv_id == "1706.03762"

    chunks = service.store.get(manifest.papers[SURVEY_ID].chunk_ids)
    cites = {c.meta["section"]: c.meta["cites"] for c in chunks if c.meta.get("kind") == "text"}
    assert cites["2.1"].split("|") == ["Dosovitskiy et al., 2021", "He et al., 2016a", "He et al., 2016b",
                                       "arxiv:2010.11929"]  # fmt: skip
    assert cites["3"] == ""

    asked = len(_metadata_hits(arxiv))
    service.resolve_references(SURVEY_ID)
    assert len(_metadata_hits(arxiv)) == asked  # the resolution cache answered

    proc = run_cli(home, "refs", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {"doc_id", "references"} and data["doc_id"] == SURVEY_ID
    fields = {"key", "authors", "year", "title", "arxiv_id", "indexed", "linked", "linked_doc", "linked_by", "cited_in"}
    assert all(set(r) == fields for r in data["references"])
    rows = {r["key"]: r for r in data["references"]}
    assert rows["Dosovitskiy et al., 2021"]["indexed"] and rows["Dosovitskiy et al., 2021"]["cited_in"] == ["2.1"]
    assert rows["Dosovitskiy et al., 2021"]["linked_doc"] == "2010.11929"
    assert rows["LeCun et al., 1998"]["arxiv_id"] is None and not rows["LeCun et al., 1998"]["indexed"]

    missing = {r["key"] for r in json.loads(run_cli(home, "refs", "--missing", "--json").stdout)["references"]}
    assert missing == set(rows) - {"Dosovitskiy et al., 2021", "Vaswani et al., 2017"}

    bib = run_cli(home, "refs", "--bibtex").stdout
    assert bib.count("@misc{") == 7
    assert set(re.findall(r"^\s+(\w+) = ", bib, re.M)) <= {"title", "author", "year", "eprint", "archivePrefix"}
    lecun = bib[bib.index("@misc{lecun1998") :].split("\n}")[0]
    assert "eprint" not in lecun and "year = {1998}" in lecun

    cited = service.search("attention layers", k=5, filters=_filter(cited_by="2.1"))
    assert cited.passages and {p.doc_id for p in cited.passages} == {"2010.11929"}
    in_survey = service.search("attention layers", k=5, filters=_filter(scope="survey"))
    assert {p.doc_id for p in in_survey.passages} == {SURVEY_ID}
    cited_scope = service.search("attention layers", k=8, filters=_filter(scope="cited"))
    assert {p.doc_id for p in cited_scope.passages} <= {"1706.03762", "2010.11929"}

    os.environ["MMQA_OFFLINE"] = "1"
    try:
        proc = run_cli(home, "ask", "Which building block do contrastive image-text models share?", "--doc",
                       SURVEY_ID, "--bibtex")  # fmt: skip
    finally:
        del os.environ["MMQA_OFFLINE"]
    assert proc.returncode == 0, proc.stderr
    assert f"eprint = {{{SURVEY_ID}}}" in proc.stdout


def _filter(**kwargs):
    from mmqa.retrieval.filters import SearchFilter

    return SearchFilter(**kwargs)
