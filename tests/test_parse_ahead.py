"""Parsing ahead in a worker process gives the same paper as parsing in-process, and the same errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from mmqa.errors import InputError
from mmqa.parsing import parse_pdf
from mmqa.parsing.ahead import ParseAhead
from mmqa.settings import ParsingSettings
from tests.conftest import SHARED, pdf
from tests.pdf_factory import subset_pdf


def test_a_paper_parsed_ahead_equals_one_parsed_in_process(tmp_path):
    source = subset_pdf(pdf("1706.03762"), tmp_path / "attention-4p.pdf", pages=4)
    settings = ParsingSettings()
    expected = parse_pdf(source, settings)
    with ParseAhead(settings) as ahead:
        ahead.submit(source)
        parsed, waited, worked = ahead.take(source)
    assert worked > 0 and waited >= 0
    assert parsed.paper.doc_id == expected.paper.doc_id == "1706.03762"
    assert [s.to_dict() for s in parsed.paper.sections] == [s.to_dict() for s in expected.paper.sections]
    assert [t.text for t in parsed.texts] == [t.text for t in expected.texts]
    assert len(parsed.texts) >= 3


def test_a_file_not_asked_ahead_is_parsed_in_process(tmp_path):
    source = subset_pdf(pdf("1512.03385"), tmp_path / "resnet-2p.pdf", pages=2)
    with ParseAhead(ParsingSettings()) as ahead:
        parsed, waited, worked = ahead.take(source)
    assert parsed.paper.doc_id == "1512.03385"
    assert waited == pytest.approx(worked, abs=0.05)


def test_a_broken_pdf_parsed_ahead_raises_the_same_one_line_error(tmp_path):
    real = pdf("1512.03385").read_bytes()
    broken = tmp_path / "truncated.pdf"
    broken.write_bytes(real[: len(real) // 3])
    with pytest.raises(InputError) as in_process:
        parse_pdf(broken, ParsingSettings())
    with ParseAhead(ParsingSettings()) as ahead:
        ahead.submit(broken)
        with pytest.raises(InputError) as ahead_error:
            ahead.take(broken)
    assert (ahead_error.value.path, ahead_error.value.reason) == (in_process.value.path, in_process.value.reason)
    assert "\n" not in str(ahead_error.value)


REALPDFS = SHARED / "robustness" / "realpdfs"


def test_a_parse_past_the_time_limit_is_stopped_and_the_next_file_still_parses():
    settings = ParsingSettings(parse_timeout=1)  # the 117-page file takes 3 s or more in pypdf
    slow, quick = REALPDFS / "many-pages-117.pdf", REALPDFS / "xref-keyword-missing.pdf"
    with ParseAhead(settings) as ahead:
        ahead.submit(slow)
        ahead.submit(quick)
        started = time.perf_counter()
        with pytest.raises(InputError, match="parsing took longer than 1 s and was stopped"):
            ahead.take(slow)
        assert time.perf_counter() - started < 10  # the stuck worker is killed, not waited for
        parsed, _, _ = ahead.take(quick)  # submitted again to a fresh worker
    assert parsed.paper.doc_id == "xref-keyword-missing"


def test_a_worker_that_dies_fails_its_file_only():
    slow, quick = REALPDFS / "many-pages-117.pdf", REALPDFS / "rtl-arabic.pdf"
    with ParseAhead(ParsingSettings()) as ahead:
        ahead.submit(slow)
        ahead.submit(quick)
        # What the out-of-memory killer would do to the worker in the middle of a parse.
        worker = next(iter(ahead._pool._processes.values()))
        time.sleep(0.5)
        os.kill(worker.pid, signal.SIGKILL)
        with pytest.raises(InputError, match="the parser process stopped while reading it") as failure:
            ahead.take(slow)
        assert "\n" not in str(failure.value)
        parsed, _, _ = ahead.take(quick)
    assert "habibi" in parsed.texts[0].text


def test_an_unexpected_error_in_the_parser_becomes_a_one_line_input_error(monkeypatch):
    # Stands in for a parser bug that only some odd file triggers: no real file does so today.
    def broken(page_lines):
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.setattr("mmqa.parsing.paper.detect_headings", broken)
    with pytest.raises(InputError) as failure:
        parse_pdf(REALPDFS / "xref-keyword-missing.pdf", ParsingSettings())
    assert failure.value.reason == "could not be parsed (ZeroDivisionError: division by zero second line)"


def test_without_a_worker_files_are_parsed_in_process(tmp_path):
    # A script without the `if __name__ == "__main__"` guard: spawn cannot start a worker from it.
    script = tmp_path / "unguarded.py"
    script.write_text(
        "from pathlib import Path\n"
        "from mmqa.parsing.ahead import ParseAhead\n"
        "from mmqa.settings import ParsingSettings\n"
        f"files = [Path({str(REALPDFS / 'rtl-arabic.pdf')!r}), Path({str(REALPDFS / 'outline-circular.pdf')!r})]\n"
        "with ParseAhead(ParsingSettings()) as ahead:\n"
        "    for f in files:\n"
        "        ahead.submit(f)\n"
        "    print([ahead.take(f)[0].paper.doc_id for f in files])\n"
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    # (The would-be worker runs the script too, so the line may come twice.)
    assert set(proc.stdout.split("\n")) - {""} == {"['rtl-arabic', 'outline-circular']"}


_KILLED_PARENT = """
import sys, time
from pathlib import Path
from mmqa.parsing.ahead import ParseAhead
from mmqa.settings import ParsingSettings
ahead = ParseAhead(ParsingSettings())
ahead.submit(Path(sys.argv[1]))
print(next(iter(ahead._pool._processes)), flush=True)
time.sleep(600)
"""


def test_a_worker_ends_when_its_parent_is_killed():
    # An ingest killed outright (SIGKILL, the out-of-memory killer) cannot stop its worker. The worker used to
    # stay forever, blocked writing its parsed paper into a pipe nobody read; now it notices and ends.
    parent = subprocess.Popen(
        [sys.executable, "-c", _KILLED_PARENT, str(REALPDFS / "many-pages-117.pdf")], stdout=subprocess.PIPE, text=True
    )
    worker = int(parent.stdout.readline())
    time.sleep(1)  # the worker is parsing
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 30
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(worker)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:  # an ended process not yet reaped by init is gone too
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
