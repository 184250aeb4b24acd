"""The `mmqa` command in new processes: persistence across processes, --json contracts, human output."""

from __future__ import annotations

import json
import re

from tests.conftest import run_cli

CITATION_FIELDS = {"n", "doc_id", "title", "section", "section_title", "page_start", "page_end", "score", "text"}


def test_search_json_from_another_process(indexed):
    proc = run_cli(indexed.settings.home, "search", "masked patch prediction self-supervision", "-k", "4", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # exactly one JSON object, nothing else on stdout
    assert set(data) == {"query", "results"}
    assert len(data["results"]) == 4
    assert all(set(r) == CITATION_FIELDS for r in data["results"])
    assert [r["n"] for r in data["results"]] == [1, 2, 3, 4]
    assert data["results"][0]["doc_id"] == "2010.11929"


def test_a_read_only_command_ends_with_all_its_output(indexed):
    # `ask` and `search` leave through os._exit (no interpreter teardown), so what stdout still buffers must be
    # flushed first: a short JSON answer to a pipe (block-buffered; PYTHONUNBUFFERED off) is the case to lose.
    home = indexed.settings.home
    proc = run_cli(home, "search", "attention", "-k", "1", "--json", env={"PYTHONUNBUFFERED": ""})
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["results"]) == 1
    status = json.loads(run_cli(home, "status", "--json", env={"PYTHONUNBUFFERED": ""}).stdout)
    assert len(status["papers"]) == 6  # and the index is whole after such an exit


def test_ask_json_with_filters(indexed):
    proc = run_cli(
        indexed.settings.home, "ask", "how are few-shot accuracies computed", "--doc", "2010.11929",
        "--section", "4", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {"question", "answer", "citations", "abstained", "backend", "sentences",
                         "supported_sentences", "notice", "fell_back", "timings_ms"}  # fmt: skip
    assert data["abstained"] is False and data["backend"] == "extractive"
    assert data["citations"] and all(set(c) == CITATION_FIELDS | {"primary"} for c in data["citations"])
    assert all(set(p) == CITATION_FIELDS | {"primary"} for c in data["citations"] for p in c["primary"])
    assert all(c["doc_id"] == "2010.11929" and c["section"].startswith("4") for c in data["citations"])
    assert re.search(r"\[1\]", data["answer"])


def test_ask_human_output(indexed):
    proc = run_cli(indexed.settings.home, "ask", "What does the Vision Transformer do with image patches?")
    assert proc.returncode == 0, proc.stderr
    assert "Sources" in proc.stdout
    assert re.search(r"^\[1\] ViT \(2010\.11929\) §[\dA-Z.]+ .+, pp?\. \d+", proc.stdout, re.M), proc.stdout


def test_ask_long_gives_a_longer_answer(indexed):
    question = ["ask", "How does the Transformer use multi-head attention?", "--json"]
    short = json.loads(run_cli(indexed.settings.home, *question).stdout)
    long = json.loads(run_cli(indexed.settings.home, *question, "--long").stdout)
    # Up to 4 (6 with --long) within the window, and the sentence after the best one on top.
    assert len(short["sentences"]) <= 5 and len(short["sentences"]) < len(long["sentences"]) <= 7, long["answer"]
    assert {s["text"] for s in short["sentences"]} <= {s["text"] for s in long["sentences"]}


def test_chat_keeps_its_scope_and_survives_a_bad_question(indexed):
    home = indexed.settings.home
    typed = "What do they do with image patches?\n/exit\n"
    proc = run_cli(home, "chat", "--doc", "2010.11929", stdin=typed)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^\[1\] ViT \(2010\.11929\)", proc.stdout, re.M), proc.stdout
    assert "Attention Is All You Need" not in proc.stdout
    # --scope survey with no survey indexed: one readable error for that question, then the chat goes on.
    proc = run_cli(home, "chat", "--scope", "survey", stdin="What is attention?\n/exit\n")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^mmqa: no survey is indexed", proc.stderr, re.M), proc.stderr


def test_status_and_sections(indexed):
    proc = run_cli(indexed.settings.home, "status", "--json")
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout)
    assert {p["doc_id"] for p in status["papers"]} == {
        "1512.03385", "1706.03762", "2010.11929", "2203.03605", "2204.02311", "2205.01068",
    }  # fmt: skip
    assert status["total_chunks"] == sum(p["chunks"] for p in status["papers"]) > 500
    proc = run_cli(indexed.settings.home, "sections", "1512.03385")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"3\.1 Residual Learning\s+p\. 3", proc.stdout)


def test_empty_index_says_what_to_run(tmp_path):
    proc = run_cli(tmp_path / "empty", "ask", "what is masked image modeling")
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("mmqa: nothing is indexed yet")
    assert "mmqa ingest" in proc.stderr and "Traceback" not in proc.stderr


def test_bad_question_is_a_clear_error(indexed):
    proc = run_cli(indexed.settings.home, "search", "   ?!  ")
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "question has no words" in proc.stderr
