"""Evaluation on a QA set (format: shared/eval/README.md): retrieval hits, MRR, abstention, answer quality.

A retrieved passage is a hit when it comes from the gold paper, its page range covers a gold
page, and it spans at most two pages (so a whole-paper chunk can never 'hit').

The answer figures read an answer as a researcher does: does its first sentence come from a gold page
(*lead on gold*), do its citations (*citation precision*) and its sentences (*paper precision*) stay
with the paper that answers, how much of the gold evidence's content it carries (*evidence carried*),
and how long it is.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from mmqa.answering.lexical import content_terms, join_line_breaks
from mmqa.errors import MMQAError
from mmqa.schema import Answer, Passage

MAX_HIT_SPAN = 2
EVIDENCE_CARRIED_BAR = 0.8  # an answer 'carries the evidence' when it holds this share of its content words


@dataclass
class QARecord:
    """One evaluation question."""

    id: str
    question: str
    arxiv_id: str = ""
    pages: list[int] = field(default_factory=list)
    section: str = ""
    evidence: str = ""
    unanswerable: bool = False


def load_qa(path: Path) -> list[QARecord]:
    """Read a QA JSONL file; a malformed line is reported with its number."""
    if not path.exists():
        raise MMQAError(f"{path}: no such file")
    records = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            records.append(
                QARecord(
                    id=data["id"],
                    question=data["question"],
                    arxiv_id=data.get("arxiv_id", ""),
                    pages=list(data.get("pages", [])),
                    section=data.get("section", ""),
                    evidence=data.get("evidence", ""),
                    unanswerable=bool(data.get("unanswerable", False)),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise MMQAError(f"{path}:{number}: not a QA record ({exc})") from exc
    return records


def is_hit(passage: Passage | dict[str, Any], record: QARecord) -> bool:
    """Does this result support the gold answer (right paper, covers a gold page, ≤ 2 pages)?"""
    if isinstance(passage, Passage):
        doc_id, start, end = passage.doc_id, passage.page_start, passage.page_end
    else:
        doc_id, start, end = passage["doc_id"], passage["page_start"], passage["page_end"]
    if doc_id != record.arxiv_id or end - start + 1 > MAX_HIT_SPAN:
        return False
    return any(start <= page <= end for page in record.pages)


def first_hit_rank(results: list, record: QARecord, depth: int = 10) -> int | None:
    """1-based rank of the first hit within ``depth``, or None."""
    for rank, result in enumerate(results[:depth], start=1):
        if is_hit(result, record):
            return rank
    return None


class Searcher(Protocol):
    """What evaluation needs from a system: ranked passages, and an answer that may abstain."""

    def search_passages(self, question: str, k: int) -> list[Passage]: ...

    def answer(self, question: str) -> Answer: ...

    def section_span(self, passage: Passage) -> tuple[int, int] | None:
        """First and last page of the section a passage belongs to (None if unknown)."""
        ...


def section_hit(span: tuple[int, int] | None, record: QARecord) -> bool:
    """Does the section (first page, last page) contain a gold page of the record's paper?"""
    return span is not None and any(span[0] <= page <= span[1] for page in record.pages)


def evidence_carried(evidence: str, answer_text: str) -> float:
    """Share of the gold evidence's distinct content words that the answer contains (1.0 with no evidence)."""
    wanted = set(content_terms(join_line_breaks(evidence)))
    if not wanted:
        return 1.0
    return len(wanted & set(content_terms(join_line_breaks(answer_text)))) / len(wanted)


def answer_figures(answer: Answer, record: QARecord) -> dict[str, Any]:
    """Per-answer reader figures: lead on gold, paper precision, evidence carried, length in words."""
    by_number = {c.n: c.passage for c in answer.citations}
    lead_sources = [by_number[n] for n in (answer.sentences[0].sources if answer.sentences else []) if n in by_number]
    on_paper = [
        bool(s.sources) and all(n in by_number and by_number[n].doc_id == record.arxiv_id for n in s.sources)
        for s in answer.sentences
    ]
    text = " ".join(s.text for s in answer.sentences)
    return {
        "lead_on_gold": any(is_hit(p, record) for p in lead_sources),
        "paper_precision": sum(on_paper) / len(on_paper) if on_paper else 0.0,
        "evidence_carried": round(evidence_carried(record.evidence, text), 4),
        "words": len(text.split()),
    }


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals over per-question rows (as produced by ``evaluate``)."""
    answerable = [r for r in rows if not r["unanswerable"]]
    unanswerable = [r for r in rows if r["unanswerable"]]
    n = len(answerable) or 1
    abstained = [r for r in rows if r["abstained"]]
    true_abstain = [r for r in abstained if r["unanswerable"]]
    cited = [r for r in answerable if not r["abstained"]]
    latencies = [r["latency_ms"] for r in rows]
    return {
        "questions": len(rows),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "hit@1": sum(1 for r in answerable if r["rank"] == 1) / n,
        "hit@5": sum(1 for r in answerable if r["rank"] and r["rank"] <= 5) / n,
        "mrr@10": sum(1 / r["rank"] for r in answerable if r["rank"]) / n,
        "abstention_accuracy": sum(1 for r in rows if r["abstained"] == r["unanswerable"]) / (len(rows) or 1),
        "abstention_precision": len(true_abstain) / len(abstained) if abstained else 1.0,
        "abstention_recall": len(true_abstain) / len(unanswerable) if unanswerable else 1.0,
        "citation_precision": (
            sum(r["cited_on_gold"] for r in cited) / sum(r["cited"] for r in cited)
            if any(r["cited"] for r in cited) else 0.0
        ),
        "answers_citing_gold": sum(1 for r in cited if r["cited_on_gold"] > 0) / n,
        "section_accuracy": sum(1 for r in answerable if r["section_hit"]) / n,
        **_answer_quality(answerable, cited),
        "latency_ms_p50": percentile(latencies, 50),
        "latency_ms_p95": percentile(latencies, 95),
        **_supported_share(rows),
    }  # fmt: skip


def _answer_quality(answerable: list[dict[str, Any]], answered: list[dict[str, Any]]) -> dict[str, float]:
    """Reader figures over the answerable questions: answered share, then means over the answers given."""
    n = len(answered) or 1
    carried = [r["evidence_carried"] for r in answered]
    return {
        "answered": len(answered) / (len(answerable) or 1),
        "lead_on_gold": sum(1 for r in answered if r["lead_on_gold"]) / n,
        "paper_precision": sum(r["paper_precision"] for r in answered) / n,
        "evidence_carried_mean": sum(carried) / n,
        "evidence_carried_0.8": sum(1 for c in carried if c >= EVIDENCE_CARRIED_BAR) / n,
        "answer_words_median": float(statistics.median(r["words"] for r in answered)) if answered else 0.0,
    }


def _supported_share(rows: list[dict[str, Any]]) -> dict[str, float]:
    """With an LLM backend: the share of generated answer sentences the citation checker found supported."""
    generated = [r for r in rows if r["backend"] != "extractive" and r["sentences"]]
    if not generated:
        return {}
    sentences = sum(r["sentences"] for r in generated)
    return {
        "supported_sentence_share": sum(r["supported_sentences"] for r in generated) / sentences,
        "generated_answers": len(generated),
        "llm_fallbacks": sum(1 for r in rows if r["fell_back"]),
    }


def evaluate(records: list[QARecord], searcher: Searcher, depth: int = 10) -> dict[str, Any]:
    """Run every question; return {"summary": ..., "questions": [...]}."""
    rows = []
    for record in records:
        results = searcher.search_passages(record.question, depth)
        started = time.perf_counter()
        answer = searcher.answer(record.question)
        latency = (time.perf_counter() - started) * 1000
        rank = None if record.unanswerable else first_hit_rank(results, record, depth)
        top = results[0] if results else None
        cited = [c.passage for c in answer.citations]
        top_in_gold_paper = top is not None and top.doc_id == record.arxiv_id
        rows.append(
            {
                "id": record.id,
                "question": record.question,
                "unanswerable": record.unanswerable,
                "rank": rank,
                "top": top.reference(1) if top else "",
                "abstained": answer.abstained,
                "evidence_strength": round(answer.evidence_strength, 4),
                "cited": len(cited),
                "cited_on_gold": sum(1 for p in cited if not record.unanswerable and is_hit(p, record)),
                "section_hit": top_in_gold_paper and section_hit(searcher.section_span(top), record),
                "backend": answer.backend,
                "sentences": len(answer.sentences),
                "supported_sentences": sum(s.supported for s in answer.sentences),
                "notice": answer.notice,
                "fell_back": answer.fell_back,
                "latency_ms": latency,
                **answer_figures(answer, record),
            }
        )
    return {"summary": summarize(rows), "questions": rows}
