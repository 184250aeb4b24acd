"""Pure functions: fusion, diversity, evaluation metrics, settings precedence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mmqa.answering.focus import select
from mmqa.evaluation import QARecord, answer_figures, first_hit_rank, is_hit, percentile, section_hit, summarize
from mmqa.index.embedding_cache import EmbeddingCache
from mmqa.parsing.questions import comparison_sides
from mmqa.progress import IngestRate
from mmqa.retrieval.fusion import (
    convex_fusion,
    diversify,
    drop_contained,
    each_group_in_top,
    reciprocal_rank_fusion,
)
from mmqa.schema import Answer, AnswerSentence, Citation, Passage
from mmqa.settings import Settings


def test_reciprocal_rank_fusion():
    fused = dict(reciprocal_rank_fusion([["a", "b"], ["b", "c"]], [1.0, 1.0], k=60))
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert max(fused, key=fused.get) == "b"


def test_convex_fusion_keeps_score_gaps():
    fused = convex_fusion({"a": 0.9, "b": 0.5, "c": 0.4}, {"a": 0.0, "b": 1.0, "c": 10.0}, 0.5)
    scores = dict(fused)
    assert scores["c"] == pytest.approx(0.5)  # lowest dense, best lexical
    assert scores["a"] == pytest.approx(0.5)
    assert scores["b"] == pytest.approx(0.5 * 0.2 + 0.05)


def test_convex_fusion_trusts_bm25_more_when_no_passage_is_close_in_meaning():
    dense, lexical = {"a": 0.3, "b": 0.0}, {"a": 0.0, "b": 1.0}
    assert dict(convex_fusion(dense, lexical, 0.6))["a"] == pytest.approx(0.6)  # min-max: 0.3 looks like 1.0
    fused = dict(convex_fusion(dense, lexical, 0.6, trusted_similarity=0.6))
    assert fused["a"] == pytest.approx(0.3) and fused["b"] == pytest.approx(0.7)  # w = 0.6 * 0.3 / 0.6
    close = dict(convex_fusion({"a": 0.8, "b": 0.0}, lexical, 0.6, trusted_similarity=0.6))
    assert close["a"] == pytest.approx(0.6)  # a close passage: w unchanged


def test_diversify_caps_each_group():
    items = ["a1", "a2", "a3", "b1", "a4", "c1"]
    assert diversify(items, lambda s: s[0], 2) == ["a1", "a2", "b1", "c1", "a3", "a4"]
    assert diversify(items, lambda s: s[0], 0) == items


def test_each_compared_paper_gets_a_place_in_the_top():
    ranked = ["a1", "a2", "a3", "b1", "a4", "c1"]
    # c's best item takes the place of the last 'a' of the top 3 (a keeps two); the rest keep their order.
    assert each_group_in_top(ranked, ["a", "c"], lambda s: s[0], 3) == ["a1", "a2", "c1", "a3", "b1", "a4"]
    assert each_group_in_top(ranked, ["a", "b"], lambda s: s[0], 4) == ranked  # both there already
    assert each_group_in_top(ranked, ["z"], lambda s: s[0], 3) == ranked  # no item of z to promote
    assert each_group_in_top(["a1", "b1", "c1"], ["c"], lambda s: s[0], 2) == ["a1", "b1", "c1"]  # no spare place


def test_comparison_sides():
    assert comparison_sides("How does BLIP differ from CoCa?") == ("How does BLIP ", " from CoCa?")
    assert comparison_sides("Is the model better than GPT-3?") == ("Is the model better ", " GPT-3?")
    assert comparison_sides("What is the difference between BLIP and CoCa?")[1] == " between BLIP and CoCa?"
    assert comparison_sides("How does BLIP filter noisy captions?") is None


def test_hit_rule():
    record = QARecord("q", "?", "2010.11929", [5])
    assert is_hit({"doc_id": "2010.11929", "page_start": 4, "page_end": 5}, record)
    assert not is_hit({"doc_id": "2010.11929", "page_start": 4, "page_end": 6}, record)  # spans 3 pages
    assert not is_hit({"doc_id": "1706.03762", "page_start": 5, "page_end": 5}, record)
    results = [
        {"doc_id": "x", "page_start": 5, "page_end": 5},
        {"doc_id": "2010.11929", "page_start": 5, "page_end": 5},
    ]
    assert first_hit_rank(results, record) == 2


def _row(rank, abstained, cited, on_gold, latency, unanswerable=False, section_hit=False, **extra):
    row = {"unanswerable": unanswerable, "rank": rank, "abstained": abstained, "cited": cited,
           "cited_on_gold": on_gold, "latency_ms": latency, "section_hit": section_hit, "backend": "extractive",
           "sentences": 2, "supported_sentences": 2, "notice": "", "fell_back": False, "lead_on_gold": on_gold > 0,
           "paper_precision": 1.0, "evidence_carried": 1.0, "words": 40}  # fmt: skip
    return {**row, **extra}


def test_summary_on_a_hand_made_case():
    rows = [
        _row(1, False, 2, 1, 10.0, section_hit=True),
        _row(3, False, 1, 0, 20.0, section_hit=True),
        _row(None, True, 0, 0, 30.0),
        _row(None, True, 0, 0, 40.0, unanswerable=True),
    ]
    s = summarize(rows)
    assert s["hit@1"] == pytest.approx(1 / 3)
    assert s["hit@5"] == pytest.approx(2 / 3)
    assert s["mrr@10"] == pytest.approx((1 + 1 / 3) / 3)
    assert s["section_accuracy"] == pytest.approx(2 / 3)
    assert s["abstention_accuracy"] == pytest.approx(3 / 4)
    assert s["abstention_precision"] == pytest.approx(1 / 2)
    assert s["abstention_recall"] == pytest.approx(1.0)
    assert s["citation_precision"] == pytest.approx(1 / 3)
    assert s["answers_citing_gold"] == pytest.approx(1 / 3)
    assert "supported_sentence_share" not in s  # extractive answers are quotes: nothing to check
    assert percentile([10, 20, 30, 40], 50) == pytest.approx(25)


def test_answer_figures_on_a_hand_made_answer():
    record = QARecord("q", "?", "2106.09685", [4], evidence="we freeze the pre-trained weights and inject trainable "
                      "rank decom- position matrices")  # fmt: skip
    gold = Passage("a", "", {"doc_id": "2106.09685", "page_start": 4, "page_end": 4}, 1.0)
    same_paper = Passage("b", "", {"doc_id": "2106.09685", "page_start": 9, "page_end": 9}, 0.9)
    other = Passage("c", "", {"doc_id": "1902.00751", "page_start": 2, "page_end": 2}, 0.8)
    answer = Answer("?", [AnswerSentence("Adapters add layers.", [3]),
                          AnswerSentence("LoRA freezes the pre-trained weights and injects rank decomposition.", [1]),
                          AnswerSentence("It trains fewer parameters.", [2, 3])],
                    [Citation(1, gold), Citation(2, same_paper), Citation(3, other)], abstained=False)  # fmt: skip
    figures = answer_figures(answer, record)
    assert figures["lead_on_gold"] is False  # the first sentence quotes another paper
    assert figures["paper_precision"] == pytest.approx(1 / 3)  # only the middle sentence stays with LoRA
    # evidence words: freeze pre-trained weight inject trainable rank decomposition matrice: 6 of 8 present
    assert figures["evidence_carried"] == pytest.approx(6 / 8)
    assert figures["words"] == 3 + 9 + 4
    rows = [_row(1, False, 3, 1, 5.0, **figures),
            _row(1, False, 1, 1, 5.0, lead_on_gold=True, paper_precision=1.0, evidence_carried=0.9, words=20),
            _row(None, True, 0, 0, 5.0)]  # fmt: skip
    s = summarize(rows)
    assert s["answered"] == pytest.approx(2 / 3)
    assert s["lead_on_gold"] == pytest.approx(1 / 2)
    assert s["paper_precision"] == pytest.approx((1 / 3 + 1) / 2)
    assert s["evidence_carried_mean"] == pytest.approx((6 / 8 + 0.9) / 2)
    assert s["evidence_carried_0.8"] == pytest.approx(1 / 2)
    assert s["answer_words_median"] == pytest.approx(18)


def test_summary_reports_supported_share_for_generated_answers():
    llm = {"backend": "gguf:m.gguf"}
    rows = [
        _row(1, False, 1, 1, 10.0, sentences=4, supported_sentences=3, **llm),
        _row(1, False, 1, 1, 10.0, sentences=2, supported_sentences=0, **llm),
        _row(1, False, 1, 1, 10.0, notice="LLM gguf: timed out. Showing the extractive answer.", fell_back=True),
    ]
    s = summarize(rows)
    assert s["supported_sentence_share"] == pytest.approx(3 / 6)
    assert s["generated_answers"] == 2 and s["llm_fallbacks"] == 1


def test_section_hit():
    record = QARecord("q", "?", "2010.11929", [5])
    assert section_hit((4, 6), record) and not section_hit((6, 9), record) and not section_hit(None, record)


def test_settings_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("MMQA_EMBEDDING__MODELS_DIR", raising=False)
    monkeypatch.setenv("MMQA_HOME", str(tmp_path / "env-home"))
    monkeypatch.setenv("MMQA_RETRIEVAL__K", "7")
    from_env = Settings.load()
    assert from_env.home == tmp_path / "env-home" and from_env.retrieval.k == 7
    flagged = Settings.load(home=tmp_path / "flag-home", **{"retrieval.k": 3})
    assert flagged.home == tmp_path / "flag-home" and flagged.retrieval.k == 3
    assert Settings.load(**{"retrieval.k": None}).retrieval.k == 7  # an unset flag does not override


def test_index_key_follows_chunking_and_model(tmp_path):
    base = Settings.load(home=tmp_path)
    assert base.index_key() == Settings.load(home=Path("/elsewhere")).index_key()
    assert base.index_key() != Settings.load(home=tmp_path, **{"chunking.max_tokens": 128}).index_key()
    # Parsing in a worker process or not yields the same chunks: no re-index for flipping it.
    assert base.index_key() == Settings.load(home=tmp_path, **{"parsing.parse_ahead": False}).index_key()
    # int8 and fp32 vectors never share an index; torch is fp32 whatever quantize says.
    fp32 = Settings.load(home=tmp_path, **{"embedding.quantize": "none"}).index_key()
    assert fp32 != base.index_key()
    assert fp32 == Settings.load(home=tmp_path, **{"embedding.backend": "torch"}).index_key()


def test_ingest_rate_figures():
    rate = IngestRate(total=10, started=100.0)
    assert rate.eta is None and rate.pages_per_second == 0.0
    assert rate.describe() == "0/10 papers · 0.0 pages/s · ETA ?"
    rate.file_done(pages=12, now=106.0)
    rate.file_done(pages=0, now=106.5, worked=False)  # unchanged: counts as done, not toward the pace
    rate.file_done(pages=18, now=118.0)
    assert rate.done == 3 and rate.worked == 2
    assert rate.pages_per_second == 30 / 18
    assert rate.eta == 18 / 2 * 7  # 9 s a paper, 7 papers left
    assert rate.describe() == "3/10 papers · 1.7 pages/s · ETA 1:03"
    rate.total = 400  # a survey's cited papers join the run
    assert rate.describe().endswith("ETA 59:33")
    rate.total = 5
    rate.file_done(pages=1, now=100.0 + 3 * 3600 + 4)  # 3 papers in 3 h 4 s: one hour a paper, one left
    assert rate.describe().endswith("ETA 1:00:01")


def test_drop_contained_keeps_the_first_of_duplicates():
    texts = {"page": "Table 37: Results by model.  Task Raw", "caption": "Table 37: Results by model.", "other": "x"}
    assert drop_contained(["page", "caption", "other"], texts.__getitem__) == ["page", "other"]
    # A caption ranked first does not hide the fuller page chunk below it.
    assert drop_contained(["caption", "page"], texts.__getitem__) == ["caption", "page"]


def test_embedding_cache_computes_each_distinct_text_once(tmp_path):
    asked: list[list[str]] = []

    def compute(texts: list[str]) -> np.ndarray:  # stands in for the embedder: one distinct vector per text
        asked.append(texts)
        return np.array([[float(len(t)), float(ord(t[0]))] for t in texts], dtype=np.float32)

    cache = EmbeddingCache(tmp_path / "cache.sqlite", "model:int8")
    vectors, reused = cache.embed(["overlap one.", "a sentence of its own", "overlap one."], compute)
    assert asked == [["overlap one.", "a sentence of its own"]] and reused == 0
    assert np.array_equal(vectors[0], vectors[2]) and not np.array_equal(vectors[0], vectors[1])
    again, reused = cache.embed(["a sentence of its own", "overlap one."], compute)
    assert len(asked) == 1 and reused == 2 and np.array_equal(again, vectors[[1, 0]])
    other = EmbeddingCache(tmp_path / "cache.sqlite", "model")  # another model key shares nothing
    other.embed(["a sentence of its own"], compute)
    assert asked[-1] == ["a sentence of its own"]


def _passage(n: int, doc: str, pages: tuple[int, int]) -> Passage:
    return Passage(f"{doc}#{n}", "", {"doc_id": doc, "page_start": pages[0], "page_end": pages[1]}, 1.0)


def test_an_answer_quotes_the_pages_of_the_first_passage_near_the_best():
    passages = [_passage(0, "a", (3, 3)), _passage(1, "a", (9, 9)), _passage(2, "b", (1, 1)), _passage(3, "a", (3, 4))]
    scored = [  # (score, passage rank, position, sentence), best first
        (0.90, 1, 0, "best, on page 9"), (0.86, 0, 4, "close, on page 3"), (0.84, 3, 2, "close, pages 3-4"),
        (0.80, 2, 0, "close, another paper"), (0.70, 0, 6, "far, on page 3"), (0.20, 0, 5, "after page 3's best"),
    ]  # fmt: skip
    # The first-ranked passage near the best is the focus (page 3); its pages' sentences, then the one after.
    assert [s[3] for s in select(scored, passages, frozenset(), 4, 0.15)] == [
        "close, on page 3", "after page 3's best", "close, pages 3-4",
    ]
    # A narrower window than the focus window quotes the focus's best sentence (and the one after) all the same.
    assert [s[3] for s in select(scored, passages, frozenset(), 4, 0.0)] == ["close, on page 3", "after page 3's best"]
    # A longer answer only adds to a shorter one.
    short, long = (set(select(scored, passages, frozenset(), n, w)) for n, w in ((2, 0.1), (6, 0.3)))
    assert short < long
    # A comparison quotes the best sentence of each paper compared.
    assert {passages[s[1]].doc_id for s in select(scored, passages, frozenset({"a", "b"}), 2, 0.15)} == {"a", "b"}
