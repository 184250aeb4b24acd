"""Bad input: one-line errors naming the file, non-zero exit when nothing was ingested, index untouched."""

from __future__ import annotations

import json

import pytest

from tests.conftest import pdf, run_cli


@pytest.fixture
def bad_files(tmp_path):
    files = {}
    files["empty.pdf"] = tmp_path / "empty.pdf"
    files["empty.pdf"].write_bytes(b"")
    files["page.pdf"] = tmp_path / "page.pdf"  # what a failed download often is
    files["page.pdf"].write_text("<html><body>503 Service Unavailable</body></html>")
    real = pdf("1512.03385").read_bytes()
    files["truncated.pdf"] = tmp_path / "truncated.pdf"
    files["truncated.pdf"].write_bytes(real[: len(real) // 2])
    files["notes.pdf"] = tmp_path / "notes.pdf"
    files["notes.pdf"].write_text("just some notes, not a PDF")
    files["figure.pdf"] = tmp_path / "figure.pdf"  # a PNG saved under a .pdf name
    files["figure.pdf"].write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64)
    return files


def _snapshot(home):
    status = json.loads(run_cli(home, "status", "--json").stdout)
    search = json.loads(run_cli(home, "search", "residual learning shortcut", "--json").stdout)
    return status, search


def test_bad_files_fail_clearly_and_leave_the_index_alone(indexed, bad_files, tmp_path):
    home = indexed.settings.home
    before = _snapshot(home)
    missing = tmp_path / "does-not-exist.pdf"
    proc = run_cli(home, "ingest", *map(str, bad_files.values()), str(missing))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("mmqa: skipped")]
    assert len(errors) == 6, proc.stderr
    assert "Traceback" not in proc.stderr
    expected = {
        "empty.pdf": "empty file",
        "page.pdf": "not a PDF (starts with '<html><body>'",
        "notes.pdf": "not a PDF",
        "figure.pdf": "not a PDF (starts with '?PNG",
        "truncated.pdf": "PDF",
        "does-not-exist.pdf": "no such file",
    }
    for name, reason in expected.items():
        line = next(e for e in errors if name in e)
        assert reason in line, line
    assert "failed" in proc.stdout  # the summary table is printed either way
    assert _snapshot(home) == before


def test_mixed_ingest_succeeds_and_skips_unchanged(indexed, bad_files):
    home = indexed.settings.home
    proc = run_cli(home, "ingest", str(pdf("1512.03385")), str(bad_files["page.pdf"]), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    statuses = {f["path"].rsplit("/", 1)[-1]: f["status"] for f in report["files"]}
    assert statuses == {"1512.03385.pdf": "unchanged", "page.pdf": "failed"}


def test_folder_without_pdfs(tmp_path, indexed):
    (tmp_path / "readme.txt").write_text("no pdfs here")
    proc = run_cli(indexed.settings.home, "ingest", str(tmp_path))
    assert proc.returncode == 1
    assert "holds no PDF files" in proc.stderr
