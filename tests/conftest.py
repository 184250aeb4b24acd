"""Shared fixtures: the real corpus in ../shared, a real Chroma index built once per session."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus" / "pdfs"
DEV_QA = SHARED / "eval" / "dev_qa.jsonl"
NEIGHBOURHOOD = SHARED / "corpus" / "neighbourhood"
SURVEY = "2401.13601"  # the MM-LLMs survey, a stand-in for the product's survey
LORA, BLIP, QLORA, LLAMA = "2106.09685", "2201.12086", "2305.14314", "2302.13971"
CITED = {LORA, BLIP, QLORA, LLAMA}  # papers the survey cites

# Tests must not pick up a developer's own configuration.
for _key in [k for k in os.environ if k.startswith("MMQA_")]:
    del os.environ[_key]


def pdf(name: str) -> Path:
    """A real paper from the shared corpus."""
    path = CORPUS / f"{name}.pdf"
    assert path.exists(), f"shared corpus missing: {path} (tests expect ../shared beside the checkout)"
    return path


@pytest.fixture(scope="session")
def settings_for():
    """Build Settings for a data home (defaults otherwise)."""
    from mmqa.settings import Settings

    def make(home: Path, **overrides):
        return Settings.load(home=home, **overrides)

    return make


@pytest.fixture(scope="session", autouse=True)
def shared_models(tmp_path_factory):
    """One ONNX export of MiniLM shared by every test home and CLI process (the export takes ~10 s)."""
    models = tmp_path_factory.mktemp("models")
    os.environ["MMQA_EMBEDDING__MODELS_DIR"] = str(models)
    yield models
    os.environ.pop("MMQA_EMBEDDING__MODELS_DIR", None)


@pytest.fixture(scope="session")
def indexed(tmp_path_factory, settings_for, shared_models):
    """A service over a real index of the six shared papers (ingested once per test session)."""
    from mmqa.service import MMQA

    home = tmp_path_factory.mktemp("home")
    service = MMQA(settings_for(home))
    report = service.ingest([CORPUS])
    assert [f.status for f in report.files] == ["added"] * 6, report.files
    return service


@pytest.fixture(scope="session")
def ui_home(tmp_path_factory, settings_for, shared_models):
    """A data home with two real papers (Transformer, ViT) indexed, for the UI tests (~45 s, once)."""
    from mmqa.service import MMQA

    home = tmp_path_factory.mktemp("ui-home")
    report = MMQA(settings_for(home)).ingest([pdf("1706.03762"), pdf("2010.11929")])
    assert [f.status for f in report.files] == ["added"] * 2, report.files
    return home


@pytest.fixture(scope="session")
def chained(tmp_path_factory, settings_for, shared_models):
    """`ingest --survey arxiv:2401.13601 --from DIR` offline, DIR holding the survey and four papers it cites."""
    from mmqa.service import MMQA

    folder = tmp_path_factory.mktemp("chain-folder")
    for doc_id in (SURVEY, *sorted(CITED)):
        (folder / f"{doc_id}.pdf").symlink_to(NEIGHBOURHOOD / f"{doc_id}.pdf")
    service = MMQA(settings_for(tmp_path_factory.mktemp("chains"), offline=True))
    outcome = service.ingest_survey(f"arxiv:{SURVEY}", from_dir=folder)
    assert {f.doc_id for f in outcome.report.files if f.status == "added"} == {SURVEY, *CITED}
    assert {link.doc_id for link in service.reference_links(SURVEY).values()} == CITED
    return service


@pytest.fixture(scope="session")
def dev_records():
    """The dev QA set, by id."""
    return {r["id"]: r for r in (json.loads(line) for line in DEV_QA.read_text().splitlines() if line.strip())}


def free_port() -> int:
    """A TCP port nobody listens on right now (127.0.0.1)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cli(
    home: Path, *args: str, timeout: float = 300, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess:
    """Run ``mmqa`` in a new process against ``home`` (sharing the session's model cache), with extra ``env``
    and ``stdin`` typed in."""
    env = {**os.environ, "MMQA_HOME": str(home), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "mmqa.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        input=stdin,
    )
