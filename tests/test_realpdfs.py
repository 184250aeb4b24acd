"""Real odd PDFs from the test collections of PDF libraries (../shared/robustness/realpdfs, see its MANIFEST.md),
ingested the way a user would: with the `mmqa` command, in one batch, into a home that already holds a paper."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from tests.conftest import SHARED, pdf, run_cli
from tests.pdf_factory import subset_pdf

REALPDFS = SHARED / "robustness" / "realpdfs"

# What MANIFEST.md implies for each file. Indexed: a phrase of its text that a search finds in it.
INDEXED = {
    "paper-tracemonkey.pdf": "trace trees",
    "paper-naacl06.pdf": "Preemptive Information Extraction",
    "enc-aes128-emptypw-form.pdf": "pasaporte",  # AES-128, empty user password: needs `cryptography`
    "xref-keyword-missing.pdf": "Reduced test-case",  # repaired by pypdf
    "cjk-chinese-tables.pdf": "发行人历史信用评级情况",
    "rtl-arabic.pdf": "habibi",
    "page-a0-large.pdf": "256 30 40",
    "many-pages-117.pdf": "Mannigfaltigkeit",
    "linearized-form-160F.pdf": "Certificat de salaire",
    "pdf20-embedded-files.pdf": "automatic tagging",
    "outline-circular.pdf": "Page2",  # its outline loops; pypdf stops the loop
    "font-ligatures.pdf": "abcdeffffiflffifflststghijklmno",  # ligature glyphs, NFKC-normalised
    "font-nonunicode-cmap.pdf": "SURVWĜHGN",  # gibberish, but it is the text the file has
    "scan-canon-mangled.pdf": "pdf.js",  # only the invisible text layer survives
}
# Skipped: the start of the reason named in the output.
SKIPPED = {
    "not-a-pdf.pdf": "not a PDF (starts with 'potato salad')",
    "truncated-inline-image.pdf": "unreadable PDF (PdfStreamError",
    "junk-before-header.pdf": "unreadable PDF (PdfStreamError",
    "llava-truncated-download.pdf": "unreadable PDF (PdfStreamError",
    "enc-rc4-needs-password.pdf": "encrypted PDF (a password is needed)",
    "scan-epson-image-only.pdf": "no text layer (scanned or image-only PDF; OCR it first)",
    "annots-only-freetext.pdf": "no text layer (its only text is in annotations, which are not indexed)",
}
PAPER = "1512.03385"
QUERY = "residual learning shortcut connections"


def _snapshot(home) -> tuple[dict, list]:
    """The earlier paper's status row and a fixed search in it (passages without their scores)."""
    status = run_cli(home, "status", "--json")
    search = run_cli(home, "search", QUERY, "--doc", PAPER, "-k", "5", "--json")
    assert status.returncode == 0 and search.returncode == 0, status.stderr + search.stderr
    row = next(p for p in json.loads(status.stdout)["papers"] if p["doc_id"] == PAPER)
    passages = [{k: v for k, v in r.items() if k != "score"} for r in json.loads(search.stdout)["results"]]
    return row, passages


def test_the_manifest_lists_every_file():
    assert sorted(INDEXED.keys() | SKIPPED.keys()) == sorted(p.name for p in REALPDFS.glob("*.pdf"))


def test_one_batch_of_real_odd_pdfs_after_an_ordinary_paper(tmp_path):
    from mmqa.service import MMQA
    from mmqa.settings import Settings

    home = tmp_path / "home"
    # The first pages of a corpus paper keep the test short; the paper keeps its arXiv identity.
    paper = subset_pdf(pdf(PAPER), tmp_path / f"{PAPER}.pdf", pages=3)
    first = run_cli(home, "ingest", str(paper), timeout=600)
    assert first.returncode == 0, first.stderr
    before = _snapshot(home)

    batch = run_cli(home, "ingest", str(REALPDFS), "--json", timeout=1800)
    assert batch.returncode == 0, batch.stderr
    assert "Traceback" not in batch.stdout + batch.stderr
    # stderr holds one line per skipped file and nothing else: no pypdf warnings, no progress bar.
    lines = [line for line in batch.stderr.splitlines() if line.strip()]
    assert all(line.startswith("mmqa: skipped ") for line in lines), batch.stderr
    results = {r["path"].rsplit("/", 1)[-1]: r for r in json.loads(batch.stdout)["files"]}
    assert sorted(results) == sorted(INDEXED.keys() | SKIPPED.keys())

    for name, reason in SKIPPED.items():
        assert results[name]["status"] == "failed", results[name]
        assert results[name]["reason"].startswith(reason), results[name]
        assert re.search(rf"^mmqa: skipped {re.escape(name)}: {re.escape(reason)}", batch.stderr, re.M), name
        assert results[name]["seconds"] < 30, results[name]
    assert "cut short" in results["llava-truncated-download.pdf"]["reason"]

    for name in INDEXED:
        result = results[name]
        assert result["status"] == "added" and result["chunks"] >= 1, result
        # Generous: CI shares two cores with other jobs. Parsing is a small part; embedding is the rest.
        assert result["seconds"] < 60 + 6 * result["pages"], result

    assert _snapshot(home) == before  # the earlier paper is untouched

    service = MMQA(Settings.load(home=home))  # every CLI process has exited: this one may open the index
    for name, phrase in INDEXED.items():
        passages = service.search(phrase, k=3).passages
        found = [p for p in passages if p.doc_id == results[name]["doc_id"] and phrase.lower() in p.text.lower()]
        assert found, (name, phrase, [(p.doc_id, p.text[:60]) for p in passages])


def test_an_encrypted_pdf_with_its_password(tmp_path):
    home = tmp_path / "home"
    locked, plain = REALPDFS / "enc-rc4-needs-password.pdf", REALPDFS / "xref-keyword-missing.pdf"
    secret = "openpassword"  # the user password named in MANIFEST.md

    wrong = run_cli(home, "ingest", str(locked), "--password", stdin="not-it\n")
    assert wrong.returncode == 1
    assert "mmqa: skipped enc-rc4-needs-password.pdf: encrypted PDF (the password given does not open it)" in (
        wrong.stderr
    )
    done = run_cli(home, "ingest", str(locked), str(plain), "--password", "--json", stdin=secret + "\n")
    assert done.returncode == 0, done.stderr
    assert [f["status"] for f in json.loads(done.stdout)["files"]] == ["added", "added"]
    found = run_cli(home, "search", "Lorem ipsum dolor sit amet", "-k", "1", "--json")
    assert json.loads(found.stdout)["results"][0]["doc_id"] == "enc-rc4-needs-password"
    # The password is stored nowhere: not in the manifest, the caches, the database or any log.
    for path in home.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert secret not in done.stdout + done.stderr + wrong.stdout + wrong.stderr

    again = run_cli(home, "ingest", str(locked), "--json")  # no password needed for an unchanged file
    assert again.returncode == 0 and json.loads(again.stdout)["files"][0]["status"] == "unchanged"

    # After an upgrade that changes the index key, --rebuild cannot open it without the password: that
    # one file is skipped with the usual line, the other paper is indexed again.
    upgraded = {"MMQA_PARSING__INDEX_REFERENCES": "true"}
    rebuilt = run_cli(home, "ingest", "--rebuild", env=upgraded)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Traceback" not in rebuilt.stderr
    assert "mmqa: skipped enc-rc4-needs-password.pdf: encrypted PDF (a password is needed)" in rebuilt.stderr
    retry = run_cli(home, "ingest", str(locked), "--password", env=upgraded, stdin=secret + "\n")
    assert retry.returncode == 0 and "added" in retry.stdout, retry.stderr

    misuse = run_cli(home, "ingest", "--rebuild", "--password", stdin=secret + "\n")
    assert misuse.returncode == 1
    assert misuse.stderr.startswith("mmqa: --password goes with the PDFs it opens"), misuse.stderr


def test_without_cryptography_an_aes_pdf_is_one_skipped_file(tmp_path):
    """The crash of the issue: pypdf's DependencyError for AES used to end the whole batch.

    `cryptography` is a dependency now, so its absence is recreated by blocking the import in a new
    process (parsing in-process, where that block holds; a spawned worker would import it again).
    """
    code = "import sys; sys.modules['cryptography'] = None; from mmqa.cli import main; main()"
    aes, plain = REALPDFS / "enc-aes128-emptypw-form.pdf", REALPDFS / "rtl-arabic.pdf"
    env = {**os.environ, "MMQA_HOME": str(tmp_path / "home"), "MMQA_PARSING__PARSE_AHEAD": "false"}
    proc = subprocess.run([sys.executable, "-c", code, "ingest", str(aes), str(plain)],
                          capture_output=True, text=True, env=env, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    expected = (r"^mmqa: skipped enc-aes128-emptypw-form\.pdf: encrypted PDF that pypdf cannot decrypt here "
                r"\(DependencyError: cryptography.* is required for AES algorithm\)$")
    assert re.search(expected, proc.stderr, re.M), proc.stderr
    assert re.search(r"rtl-arabic\.pdf\s.*added", proc.stdout), proc.stdout
