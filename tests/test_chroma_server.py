"""Several processes through a real Chroma server on 127.0.0.1: one ingests while another keeps searching."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port, pdf, run_cli

READER = r"""
import json, sys, time
from pathlib import Path
from mmqa.service import MMQA
from mmqa.settings import Settings
from mmqa.errors import EmptyIndexError
service = MMQA(Settings.load())
stop = Path(sys.argv[1])
seen, errors, partial, rounds = set(), [], 0, 0
while not stop.exists() or rounds < 3:
    rounds += 1
    try:
        manifest = service.manifest()
        live = manifest.live_chunk_ids()
        for passage in service.search("residual learning attention heads", 8).passages:
            seen.add(passage.doc_id)
            if passage.chunk_id not in live and passage.chunk_id not in service.manifest().live_chunk_ids():
                partial += 1
    except EmptyIndexError:
        pass
    except Exception as exc:
        errors.append(repr(exc))
    time.sleep(0.2)
print(json.dumps({"rounds": rounds, "errors": errors, "partial": partial, "seen": sorted(seen)}))
"""


@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` server on a free local port, stopped afterwards."""
    port = free_port()
    proc = _start_chroma(tmp_path / "server-data", port)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


def test_ingest_through_server_while_another_process_searches(chroma_server, tmp_path):
    home = tmp_path / "home"
    papers = tmp_path / "papers"
    papers.mkdir()
    for name in ("1512.03385", "1706.03762"):
        shutil.copy(pdf(name), papers / f"{name}.pdf")
    env = {**os.environ, "MMQA_HOME": str(home), "MMQA_CHROMA_URL": chroma_server}
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(stop)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    os.environ["MMQA_CHROMA_URL"] = chroma_server
    try:
        writer = run_cli(home, "ingest", str(papers), "--json")
    finally:
        del os.environ["MMQA_CHROMA_URL"]
        stop.touch()
    out, err = reader.communicate(timeout=300)
    assert writer.returncode == 0, writer.stderr
    assert {f["status"] for f in json.loads(writer.stdout)["files"]} == {"added"}
    result = json.loads(out.strip().splitlines()[-1])
    assert result["errors"] == [], err
    assert result["partial"] == 0
    assert result["rounds"] >= 3
    # the data lives in the server, not in an embedded database under MMQA_HOME
    assert not (home / "chroma").exists()
    final = subprocess.run(
        [sys.executable, "-m", "mmqa.cli", "search", "identity shortcuts", "--json"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert final.returncode == 0, final.stderr
    assert json.loads(final.stdout)["results"][0]["doc_id"] in {"1512.03385", "1706.03762"}


def test_unreachable_server_is_a_clear_error(tmp_path):
    os.environ["MMQA_CHROMA_URL"] = f"http://127.0.0.1:{free_port()}"
    try:
        proc = run_cli(tmp_path / "home", "ingest", str(pdf("1512.03385")))
    finally:
        del os.environ["MMQA_CHROMA_URL"]
    assert proc.returncode == 1
    assert proc.stderr.startswith("mmqa: cannot reach the Chroma server at http://127.0.0.1:")
    assert "Traceback" not in proc.stderr


def _start_chroma(data: Path, port: int) -> subprocess.Popen:
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2)
            return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    pytest.fail("chroma server did not start")


def test_server_gone_mid_session_then_back(tmp_path):
    """The server dies between commands and inside a long-lived service; a restart on the same data recovers."""
    from mmqa.service import MMQA
    from mmqa.settings import Settings

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    home, data = tmp_path / "home", tmp_path / "server-data"
    server = _start_chroma(data, port)
    os.environ["MMQA_CHROMA_URL"] = url
    try:
        assert run_cli(home, "ingest", str(pdf("1512.03385"))).returncode == 0
        service = MMQA(Settings.load(home=home))  # a long-lived reader, like the UI
        first = [p.chunk_id for p in service.search("identity shortcut connections", 3).passages]
        status_before = json.loads(run_cli(home, "status", "--json").stdout)

        server.terminate()
        server.wait(timeout=30)
        for args in (("search", "identity shortcut connections"), ("ingest", str(pdf("1706.03762")))):
            proc = run_cli(home, *args)
            assert proc.returncode == 1, args
            assert proc.stderr.startswith(f"mmqa: cannot reach the Chroma server at {url}"), proc.stderr
            assert "Traceback" not in proc.stderr
        from mmqa.errors import MMQAError

        with pytest.raises(MMQAError, match="Chroma server"):
            service.search("identity shortcut connections", 3)
        # the failed ingest changed nothing
        assert json.loads(run_cli(home, "status", "--json").stdout) == status_before

        server = _start_chroma(data, port)  # back, on the same data
        assert [p.chunk_id for p in service.search("identity shortcut connections", 3).passages] == first
        retry = run_cli(home, "ingest", str(pdf("1706.03762")))
        assert retry.returncode == 0, retry.stderr
        assert service.search("multi-head attention", 1).passages[0].doc_id == "1706.03762"
    finally:
        del os.environ["MMQA_CHROMA_URL"]
        server.terminate()
        server.wait(timeout=30)
