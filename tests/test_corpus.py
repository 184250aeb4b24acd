"""The default corpus declared in ingest/corpus.toml: `mmqa ingest` with no argument, offline use."""

from __future__ import annotations

import os

import pytest

from mmqa.acquire.corpus import DEFAULT_CORPUS_FILE, CorpusSpec
from mmqa.errors import MMQAError
from mmqa.service import MMQA
from tests.conftest import CORPUS, run_cli

SPEC = """
[survey]
arxiv = "1512.03385"
version = "latest"
[extra]
arxiv = ["1706.03762", "2010.11929", "1512.03385"]
[skip]
arxiv = ["2010.11929"]
"""


def test_shipped_corpus_file_declares_the_survey():
    spec = CorpusSpec.load(DEFAULT_CORPUS_FILE)
    assert str(spec.survey) == "2309.10020"
    assert spec.sources()[0] == "arxiv:2309.10020"
    assert spec.sources(survey_only=True) == ["arxiv:2309.10020"]


def test_bad_corpus_file_names_the_file(tmp_path):
    bad = tmp_path / "corpus.toml"
    bad.write_text('[survey]\narxiv = "../etc"\n')
    with pytest.raises(MMQAError, match=r"corpus\.toml: not an arXiv id"):
        CorpusSpec.load(bad)


def test_default_ingest_from_a_folder(tmp_path, settings_for):
    spec = tmp_path / "corpus.toml"
    spec.write_text(SPEC)
    service = MMQA(settings_for(tmp_path / "home", corpus_file=spec, offline=True))
    assert service.default_sources() == ["arxiv:1512.03385", "arxiv:1706.03762"]  # skip and duplicates honoured
    report = service.ingest(service.default_sources(survey_only=True), from_dir=CORPUS)
    assert [(f.doc_id, f.status) for f in report.files] == [("1512.03385", "added")]


def test_offline_default_ingest_says_what_is_missing(tmp_path):
    spec = tmp_path / "corpus.toml"
    spec.write_text(SPEC)
    os.environ.update(MMQA_CORPUS_FILE=str(spec), MMQA_OFFLINE="1")
    try:
        proc = run_cli(tmp_path / "home", "ingest")
    finally:
        del os.environ["MMQA_CORPUS_FILE"], os.environ["MMQA_OFFLINE"]
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.startswith("mmqa: skipped")]
    assert len(lines) == 2 and all("MMQA_OFFLINE=1 forbids downloading" in line for line in lines)
