"""Validate a QA JSONL file in the format of ../shared/eval/dev_qa.jsonl (see ../shared/eval/README.md).

Usage: python benchmarks/check_qa.py PATH.jsonl [PDF_DIR]   (PDF_DIR defaults to ../shared/corpus/pdfs)

Checks every record: exact field set, unique ids of the form <prefix>-NNN, known
arxiv_id, 1-2 valid 1-based pages, allowed kind, 8-25-word evidence that matches
(whitespace-collapsed, case-sensitive substring, pypdf extract_text) on at least one
listed page, no duplicate questions, and unanswerable records with only
id/question/unanswerable=true. Prints one line per bad record and exits 1 on any
failure; otherwise prints a summary and exits 0.
"""
import json
import logging
import re
import sys
from collections import Counter
from pathlib import Path

from pypdf import PdfReader

ANS_KEYS = {"id", "question", "arxiv_id", "pages", "section", "answer", "evidence", "kind"}
UNANS_KEYS = {"id", "question", "unanswerable"}
KINDS = {"definition", "mechanism", "number", "comparison", "motivation", "table_figure"}
_cache = {}
logging.getLogger("pypdf").setLevel(logging.ERROR)  # silence font-encoding warnings


def page_texts(pdf_dir, arxiv_id):
    if arxiv_id not in _cache:
        pdf = Path(pdf_dir) / f"{arxiv_id}.pdf"
        _cache[arxiv_id] = ([" ".join(p.extract_text().split()) for p in PdfReader(pdf).pages]
                            if pdf.exists() else None)
    return _cache[arxiv_id]


def check_record(rec, pdf_dir):
    """Return a reason string if the record is bad, else None."""
    if not isinstance(rec, dict):
        return "not a JSON object"
    if not isinstance(rec.get("question"), str) or not rec["question"].strip():
        return "missing or empty question"
    if "unanswerable" in rec:
        if set(rec) != UNANS_KEYS or rec["unanswerable"] is not True:
            return f"unanswerable record must have exactly {sorted(UNANS_KEYS)} with true"
        return None
    if set(rec) != ANS_KEYS:
        return f"fields {sorted(set(rec) ^ ANS_KEYS)} missing or unexpected"
    for k in ("section", "answer", "evidence"):
        if not isinstance(rec[k], str) or not rec[k].strip():
            return f"empty or non-string {k}"
    if rec["kind"] not in KINDS:
        return f"bad kind {rec['kind']!r}"
    texts = page_texts(pdf_dir, rec["arxiv_id"])
    if texts is None:
        return f"unknown arxiv_id {rec['arxiv_id']!r}"
    pages = rec["pages"]
    if (not isinstance(pages, list) or not 1 <= len(pages) <= 2 or len(set(pages)) != len(pages)
            or not all(isinstance(p, int) and 1 <= p <= len(texts) for p in pages)):
        return f"bad pages {pages!r} (need 1-2 distinct ints in 1..{len(texts)})"
    n = len(rec["evidence"].split())
    if not 8 <= n <= 25:
        return f"evidence has {n} words (need 8-25)"
    snippet = " ".join(rec["evidence"].split())
    if not any(snippet in texts[p - 1] for p in pages):
        return f"evidence not found on pages {pages}"
    return None


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2])
        return 2
    path = Path(argv[1])
    pdf_dir = argv[2] if len(argv) > 2 else str(Path(__file__).resolve().parents[2] / "shared" / "corpus" / "pdfs")
    bad, recs = [], []
    for ln, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            recs.append((ln, json.loads(line)))
        except json.JSONDecodeError as e:
            bad.append(f"line {ln}: invalid JSON ({e.msg})")
    ids = Counter(r.get("id") for _, r in recs if isinstance(r, dict))
    def norm(q):
        return re.sub(r"\W+", " ", q.lower()).strip()
    qs = Counter(norm(r["question"]) for _, r in recs
                 if isinstance(r, dict) and isinstance(r.get("question"), str))
    prefixes = {str(r.get("id")).split("-")[0] for _, r in recs if isinstance(r, dict)}
    for ln, rec in recs:
        rid = rec.get("id") if isinstance(rec, dict) else None
        reason = check_record(rec, pdf_dir)
        if reason is None and not re.fullmatch(r"[a-z]+-\d{3}", str(rid)):
            reason = f"bad id {rid!r}"
        if reason is None and ids[rid] > 1:
            reason = f"duplicate id {rid!r}"
        if reason is None and qs[norm(rec["question"])] > 1:
            reason = "duplicate question"
        if reason:
            bad.append(f"line {ln} ({rid}): {reason}")
    if len(prefixes) > 1:
        bad.append(f"mixed id prefixes {sorted(prefixes)}")
    for b in bad:
        print(b)
    if bad:
        return 1
    n_un = sum(1 for _, r in recs if r.get("unanswerable"))
    per = Counter(r["arxiv_id"] for _, r in recs if not r.get("unanswerable"))
    kinds = Counter(r["kind"] for _, r in recs if not r.get("unanswerable"))
    print(f"OK: {len(recs)} records ({len(recs) - n_un} answerable, {n_un} unanswerable)")
    print("per paper: " + ", ".join(f"{k}={v}" for k, v in sorted(per.items())))
    print("kinds: " + ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
