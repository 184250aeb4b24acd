"""Odd PDFs (right-to-left text, an outline pointing at missing pages) and a disk that fills up mid-ingest."""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfWriter
from pypdf.generic import NameObject, NumberObject

from mmqa.index.manifest import Manifest
from mmqa.service import MMQA
from tests.conftest import pdf, run_cli
from tests.pdf_factory import text_pdf, unicode_pdf

BODY = "Residual connections let very deep networks train because each block only learns a correction."


def test_right_to_left_and_math_text_is_ingested_and_searchable(tmp_path, settings_for):
    lines = [
        "1 Introduction",
        *[BODY] * 6,
        "Hebrew: שלום עולם, מודל שפה גדול",
        "Arabic: مرحبا بالعالم، نموذج لغوي كبير",
        "Math: ∀x ∈ ℝ, ∑ᵢ xᵢ ≤ 𝔼[X], and the ﬁne-tuning ligature.",
        "2 Method",
        *[BODY] * 6,
    ]
    path = unicode_pdf(tmp_path / "rtl.pdf", [lines])
    service = MMQA(settings_for(tmp_path / "home"))
    report = service.ingest([path])
    assert [f.status for f in report.files] == ["added"], report.files
    texts = " ".join(p.text for p in service.search("residual connections deep networks", k=5).passages)
    assert "Residual connections" in texts
    everything = " ".join(p.text for p in service.search("Hebrew Arabic Math ligature", k=5).passages)
    assert any("\u0590" <= ch <= "\u05ff" for ch in everything)  # Hebrew letters survived, in whatever order
    assert any("\u0600" <= ch <= "\u06ff" for ch in everything)
    assert "fine-tuning" in everything  # the ligature was normalised (NFKC)
    result = service.search("שלום עולם", k=3)  # a right-to-left query: an answer or nothing, never a crash
    assert isinstance(result.passages, list)


def test_outline_pointing_at_missing_pages(tmp_path, settings_for):
    body = [BODY.encode()] * 20
    titles = ["1 Introduction", "2 Method", "3 Results", "4 Appendix"]
    source = text_pdf(tmp_path / "src.pdf", [[t.encode(), *body] for t in titles])
    writer = PdfWriter(clone_from=str(source))
    for number, title in enumerate(titles):
        writer.add_outline_item(title=title, page_number=number)
    pages = writer._root_object["/Pages"]
    del pages["/Kids"][3]  # the bookmark '4 Appendix' now points at a page that is not in the document
    pages[NameObject("/Count")] = NumberObject(3)
    broken = tmp_path / "broken-outline.pdf"
    writer.write(broken)

    service = MMQA(settings_for(tmp_path / "home"))
    report = service.ingest([broken])
    assert [f.status for f in report.files] == ["added"], report.files
    sections = next(iter(service.sections().values()))
    assert all(1 <= s.page_start <= s.page_end <= 3 for s in sections)
    assert "Appendix" not in {s.title for s in sections}
    assert {"Introduction", "Method", "Results"} <= {s.title for s in sections}


def _snapshot(home: Path) -> tuple[dict, list]:
    status = json.loads(run_cli(home, "status", "--json").stdout)
    search = json.loads(run_cli(home, "search", "identity shortcut connections", "-k", "3", "--json").stdout)
    for paper in status["papers"]:
        paper.pop("ingested_at")
    return status, [(r["doc_id"], r["page_start"], r["text"][:80]) for r in search["results"]]


def test_disk_full_on_a_small_tmpfs_keeps_the_index_and_a_retry_succeeds(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({made.stderr.decode().strip()}); the failing-file test covers it")
    try:
        home = mount / "home"
        first = run_cli(home, "ingest", str(pdf("1512.03385")))
        assert first.returncode == 0, first.stderr
        before = _snapshot(home)
        free = shutil.disk_usage(mount).free
        filler = mount / "filler"
        with filler.open("wb") as handle:  # leave ~300 kB: enough to start, not to finish
            handle.truncate(0)
            handle.write(b"\0" * max(0, free - 300_000))
        full = run_cli(home, "ingest", str(pdf("1706.03762")))
        assert full.returncode == 1
        message = full.stderr.strip()  # (the progress bar, cleared, leaves a line break before it)
        assert message.startswith("mmqa: disk full while indexing 1706.03762.pdf"), full.stderr
        assert len(message.splitlines()) == 1 and "Traceback" not in message
        filler.unlink()
        assert _snapshot(home) == before  # nothing indexed was lost or changed
        retry = run_cli(home, "ingest", str(pdf("1706.03762")))
        assert retry.returncode == 0, retry.stderr
        status = json.loads(run_cli(home, "status", "--json").stdout)
        assert {p["doc_id"] for p in status["papers"]} == {"1512.03385", "1706.03762"}
        found = json.loads(run_cli(home, "search", "multi-head attention", "-k", "3", "--json").stdout)
        assert found["results"][0]["doc_id"] == "1706.03762"
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_disk_full_while_saving_the_manifest(tmp_path, settings_for, monkeypatch):
    # A failing file object stands in for a full disk where a tmpfs cannot be mounted: the manifest
    # write raises ENOSPC, which is exactly what a full disk does to it.
    service = MMQA(settings_for(tmp_path / "home"))
    service.ingest([pdf("1512.03385")])
    before = Manifest.load(service.manifest_path)
    real_save = Manifest.save

    def full_disk(self, path):
        with (path.parent / "manifest.json.tmp").open("w") as handle:
            handle.write("{")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Manifest, "save", full_disk)
    from mmqa.errors import DiskFullError

    with pytest.raises(DiskFullError, match=r"disk full while indexing 1706\.03762\.pdf"):
        service.ingest([pdf("1706.03762")])
    monkeypatch.setattr(Manifest, "save", real_save)
    after = Manifest.load(service.manifest_path)
    assert after.papers.keys() == before.papers.keys() == {"1512.03385"}
    assert {p.doc_id for p in service.search("attention heads", k=5).passages} == {"1512.03385"}
    report = service.ingest([pdf("1706.03762")])  # the retry cleans up the orphans and succeeds
    assert [f.status for f in report.files] == ["added"]
    assert service.search("multi-head attention", k=1).passages[0].doc_id == "1706.03762"
    live = Manifest.load(service.manifest_path).live_chunk_ids()
    assert service.store.all_chunk_ids() == live  # no orphan chunk of the failed attempt is left
