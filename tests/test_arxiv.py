"""The arXiv client against a real HTTP server on 127.0.0.1 serving the real corpus PDFs at arXiv paths."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from mmqa.acquire.arxiv import ArxivClient, ArxivId
from mmqa.errors import MMQAError
from mmqa.settings import ArxivSettings
from tests.conftest import CORPUS


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


class FakeArxiv:
    """Serves /pdf/<id>[vN] from the shared corpus; faults are queued per request.

    It also answers the two metadata services in their documented formats: the arXiv API (Atom; id_list
    and ti:"..." title search) and Semantic Scholar's title match (JSON). They are canned stand-ins,
    because the real services cannot be reached from the test machines.
    """

    def __init__(self) -> None:
        self.faults: list[str] = []  # "503", "slow", "truncated", "html"
        self.hits: list[tuple[float, str]] = []
        self.versions: dict[str, str] = {}  # what the API announces: id -> latest version
        self.files: dict[str, bytes] = {}  # URL path -> body, overriding the corpus
        self.titles: dict[str, str] = {}  # what the API's title search knows: id -> title
        self.s2: dict[str, str] = {}  # what Semantic Scholar's title match knows: title -> arXiv id
        self.api_down = False  # the API answers 503 (the PDF downloads still work)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                outer.hits.append((time.monotonic(), self.path))
                if self.path.startswith("/api/query?search_query="):
                    return self._title_search()
                if self.path.startswith("/api/query"):
                    return self._feed()
                if self.path.startswith("/graph/v1/paper/search/match"):
                    return self._s2_match()
                fault = outer.faults.pop(0) if outer.faults else ""
                paper = self.path.rsplit("/", 1)[-1].split("v")[0]
                source = CORPUS / f"{paper}.pdf"
                if fault == "503" or not (source.exists() or self.path in outer.files):
                    self.send_response(503 if fault else 404)
                    self.end_headers()
                    return
                body = outer.files.get(self.path) or source.read_bytes()
                if fault == "truncated":
                    body = body[: len(body) // 2]
                if fault == "html":
                    body = b"<html><body>rate limited</body></html>"
                if fault == "slow":
                    time.sleep(1.5)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/pdf")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout test): expected

            def _feed(self) -> None:
                # id_list=A,B: the entries of those ids the API knows (its version and title).
                if outer.api_down:
                    return self._send(503, "text/plain", b"unavailable")
                asked = unquote(self.path.split("id_list=", 1)[1].split("&")[0]).split(",")
                known = [i for i in asked if i in outer.versions or i in outer.titles]
                self._atom({i: (outer.versions.get(i, "v1"), outer.titles.get(i, f"paper {i}")) for i in known})

            def _title_search(self) -> None:
                # ti:"phrase" matches titles containing the phrase (case and punctuation aside), as arXiv does.
                phrase = _words(unquote(self.path.split("search_query=", 1)[1].split("&")[0]).split('"')[1])
                self._atom({i: ("v1", t) for i, t in outer.titles.items() if phrase in _words(t)})

            def _atom(self, papers: dict[str, tuple[str, str]]) -> None:
                # The arXiv API's Atom format: one <entry> per paper, its <id> the abs URL with the version.
                entries = "".join(
                    f"<entry><id>http://arxiv.org/abs/{i}{v}</id><title>{t}</title></entry>"
                    for i, (v, t) in papers.items()
                )
                body = f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">{entries}</feed>'.encode()
                self._send(200, "application/atom+xml", body)

            def _s2_match(self) -> None:
                # Semantic Scholar's /paper/search/match: the best title match, or 404 "Title match not found".
                query = _words(parse_qs(urlsplit(self.path).query)["query"][0])
                hits = [(t, i) for t, i in outer.s2.items() if _words(t) == query]
                if not hits:
                    return self._send(404, "application/json", b'{"error": "Title match not found"}')
                title, arxiv_id = hits[0]
                paper = {"paperId": "abc", "title": title, "year": 2016, "externalIds": {"ArXiv": arxiv_id}}
                self._send(200, "application/json", json.dumps({"data": [paper]}).encode())

            def _send(self, code: int, kind: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def arxiv():
    fake = FakeArxiv()
    yield fake
    fake.server.shutdown()


def _client(arxiv: FakeArxiv, tmp_path: Path, **overrides) -> ArxivClient:
    options = {"url": arxiv.url, "delay": 0.0, "timeout": 5.0, "retries": 3, "backoff": 0.05, **overrides}
    settings = ArxivSettings(**options)
    return ArxivClient(settings, tmp_path / "papers")


def test_download_then_cache_hit(arxiv, tmp_path):
    client = _client(arxiv, tmp_path)
    path = client.fetch(ArxivId.parse("arxiv:1512.03385v1"))
    assert path.name == "1512.03385v1.pdf"
    assert path.read_bytes() == (CORPUS / "1512.03385.pdf").read_bytes()
    assert client.fetch(ArxivId.parse("1512.03385v1")) == path
    assert client.fetch(ArxivId.parse("1512.03385")) == path  # unversioned id: newest cached version
    assert len(arxiv.hits) == 1 and arxiv.hits[0][1] == "/pdf/1512.03385v1"


def test_rate_limit_between_requests(arxiv, tmp_path):
    client = _client(arxiv, tmp_path, delay=0.6)
    client.fetch(ArxivId.parse("1512.03385"))
    client.fetch(ArxivId.parse("1706.03762"))
    assert arxiv.hits[1][0] - arxiv.hits[0][0] >= 0.55


def test_retry_after_503(arxiv, tmp_path):
    arxiv.faults = ["503", "503"]
    path = _client(arxiv, tmp_path).fetch(ArxivId.parse("1706.03762"))
    assert path.exists() and len(arxiv.hits) == 3


def test_timeout_then_success(arxiv, tmp_path):
    arxiv.faults = ["slow"]
    client = _client(arxiv, tmp_path, timeout=0.5)
    path = client.fetch(ArxivId.parse("1706.03762"))
    assert path.exists() and len(arxiv.hits) == 2


def test_truncated_or_html_download_is_never_cached(arxiv, tmp_path):
    arxiv.faults = ["truncated", "html", "truncated"]
    client = _client(arxiv, tmp_path)
    with pytest.raises(MMQAError, match=r"download failed after 3 tries \(truncated PDF"):
        client.fetch(ArxivId.parse("1512.03385"))
    assert list((tmp_path / "papers").iterdir()) == []  # no partial file left behind


def test_offline_and_from_dir(arxiv, tmp_path):
    client = _client(arxiv, tmp_path, offline=True)
    with pytest.raises(MMQAError, match="MMQA_OFFLINE=1 forbids downloading"):
        client.fetch(ArxivId.parse("2010.11929"))
    assert client.fetch(ArxivId.parse("2010.11929"), from_dir=CORPUS) == CORPUS / "2010.11929.pdf"
    assert arxiv.hits == []


@pytest.mark.parametrize("bad", ["../../etc/passwd", "arxiv:1234", "2010.11929/../x", "arxiv:2010.11929v2.pdf"])
def test_ids_cannot_name_paths(bad):
    with pytest.raises(MMQAError, match="not an arXiv id"):
        ArxivId.parse(bad)


def test_ingest_arxiv_id_through_the_service(arxiv, tmp_path, settings_for):
    from mmqa.service import MMQA

    service = MMQA(settings_for(tmp_path / "home", arxiv_url=arxiv.url, **{"arxiv.delay": 0.0}))
    report = service.ingest(["arxiv:1706.03762v5", "arxiv:9999.99999"])
    statuses = {f.path: f.status for f in report.files}
    assert statuses["arxiv:9999.99999"] == "failed"
    ok = next(f for f in report.files if f.status == "added")
    assert ok.doc_id == "1706.03762"
    assert service.manifest().papers["1706.03762"].version == "v5"


def test_update_fetches_and_swaps_a_newer_version(arxiv, tmp_path, settings_for):
    from mmqa.service import MMQA
    from tests.pdf_factory import subset_pdf

    service = MMQA(settings_for(tmp_path / "home", arxiv_url=arxiv.url, **{"arxiv.delay": 0.0}))
    service.ingest(["arxiv:1512.03385v1"])
    v2 = subset_pdf(CORPUS / "1512.03385.pdf", tmp_path / "v2.pdf", 9)  # the "new version": 9 pages
    arxiv.files["/pdf/1512.03385v2"] = v2.read_bytes()
    arxiv.versions = {"1512.03385": "v2"}

    check = service.update(check_only=True)
    assert check == [{"doc_id": "1512.03385", "version": "v1", "latest": "v2", "action": "newer version available"}]
    assert service.manifest().papers["1512.03385"].version == "v1"

    rows = service.update()
    assert rows[0]["action"] == "updated"
    record = service.manifest().papers["1512.03385"]
    assert (record.version, record.pages) == ("v2", 9)
    assert set(service.store.ids_of("1512.03385")) == set(record.chunk_ids)  # the old version is gone
    assert service.update(check_only=True)[0]["action"] == "up to date"
    assert any(path.startswith("/api/query?id_list=1512.03385") for _, path in arxiv.hits)


def test_arxiv_api_title_is_the_authority_and_is_cached(arxiv, tmp_path, settings_for):
    # The API's title for the Transformer is made to differ from the PDF's title block, so which one wins
    # shows; the fake API is a stand-in for the real one, which these machines cannot reach.
    from mmqa.service import MMQA

    home = tmp_path / "home"
    api_title = "Attention Is All You Need (as the arXiv API lists it)"
    arxiv.titles = {"1706.03762": api_title}
    service = MMQA(settings_for(home, arxiv_url=arxiv.url, **{"arxiv.delay": 0.0}))
    assert service.ingest(["arxiv:1706.03762v5"]).files[0].status == "added"
    record = service.manifest().papers["1706.03762"]
    assert record.title == api_title
    assert service.status()["papers"][0]["title"] == api_title
    chunks = list(record.chunk_ids)

    # Cached: offline, a re-ingest of the same file keeps the API's title and asks nothing.
    hits = len(arxiv.hits)
    offline = MMQA(settings_for(home, offline=True))
    assert offline.ingest([offline.fetch_arxiv("arxiv:1706.03762v5")]).files[0].status == "unchanged"
    assert offline.manifest().papers["1706.03762"].title == api_title and len(arxiv.hits) == hits

    # A corrected title renames the indexed paper without re-embedding it (same chunks).
    titles_file = home / "papers" / "titles.json"
    assert json.loads(titles_file.read_text())["1706.03762"] == api_title
    titles_file.write_text(json.dumps({"1706.03762": "Attention Is All You Need"}))
    assert offline.ingest([offline.fetch_arxiv("arxiv:1706.03762v5")]).files[0].status == "unchanged"
    renamed = offline.manifest().papers["1706.03762"]
    assert (renamed.title, renamed.chunk_ids) == ("Attention Is All You Need", chunks)


def test_arxiv_api_down_keeps_the_pdf_title(arxiv, tmp_path, settings_for):
    from mmqa.service import MMQA

    arxiv.api_down = True
    service = MMQA(settings_for(tmp_path / "home", arxiv_url=arxiv.url, **{"arxiv.delay": 0.0, "arxiv.retries": 1}))
    result = service.ingest(["arxiv:1512.03385v1"]).files[0]
    assert result.status == "added" and result.title == "Deep Residual Learning for Image Recognition"


def test_service_keeps_the_rate_limit_across_papers(arxiv, tmp_path, settings_for):
    from mmqa.service import MMQA

    service = MMQA(settings_for(tmp_path / "home", arxiv_url=arxiv.url, **{"arxiv.delay": 0.6}))
    service.fetch_arxiv("arxiv:1512.03385")
    service.fetch_arxiv("arxiv:1706.03762")  # e.g. the next paper of the default corpus
    assert arxiv.hits[1][0] - arxiv.hits[0][0] >= 0.55
