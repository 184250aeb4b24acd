"""Downloading arXiv PDFs politely: one request every few seconds, retries with backoff, a timeout,
atomic writes into a local cache, and an offline switch.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from mmqa import __version__
from mmqa.errors import MMQAError
from mmqa.settings import ArxivSettings

log = logging.getLogger(__name__)

_ID = re.compile(r"^(?:arxiv:)?(\d{4}\.\d{4,5})(v\d{1,3})?$", re.IGNORECASE)
T = TypeVar("T")
TITLES_FILE = "titles.json"  # in the PDF cache folder: the API's title of each paper it was asked about
_ID_LIST_MAX = 100  # ids per API request


class _BadBody(Exception):
    """A response arrived but is not what was asked for (truncated, HTML instead of PDF): retry."""


class NotFoundError(MMQAError):
    """The server answered 404: what was asked for does not exist there (a definite answer, not a failure)."""


USER_AGENT = f"mmqa/{__version__} (offline-first research QA; polite single-request client)"


@dataclass(frozen=True)
class ArxivId:
    """A bare arXiv id ('2304.08485') and an optional version ('v2')."""

    id: str
    version: str = ""

    @classmethod
    def parse(cls, text: str) -> ArxivId:
        """Parse 'arxiv:2304.08485v2', '2304.08485' ...; anything else (paths included) is refused."""
        match = _ID.match(text.strip())
        if not match:
            raise MMQAError(f"not an arXiv id: {text!r} (expected e.g. arxiv:2304.08485 or 2304.08485v2)")
        return cls(match.group(1), (match.group(2) or "").lower())

    @property
    def filename(self) -> str:
        """'2304.08485v2.pdf': safe by construction (digits, dot, 'v')."""
        return f"{self.id}{self.version}.pdf"

    def __str__(self) -> str:
        return f"{self.id}{self.version}"


def looks_like_pdf(path: Path) -> str | None:
    """None if ``path`` is a complete PDF, else what is wrong with it."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(1024)
        handle.seek(max(0, size - 2048))
        tail = handle.read()
    if not head.startswith(b"%PDF-"):
        preview = head[:12].decode("latin-1", "replace")
        return f"not a PDF (starts with {preview!r})"
    if b"%%EOF" not in tail:
        return "truncated PDF (no %%EOF marker)"
    return None


def atom_entries(feed: bytes) -> list[tuple[ArxivId, str]]:
    """(id with version, title) of each <entry> of an arXiv API Atom feed (its <id> is the abs URL)."""
    import xml.etree.ElementTree as ET

    atom = "{http://www.w3.org/2005/Atom}"
    try:
        root = ET.fromstring(feed)
    except ET.ParseError as exc:
        raise MMQAError(f"arXiv API: not an Atom feed ({exc})") from exc
    out = []
    for entry in root.iter(f"{atom}entry"):
        match = _ID.match((entry.findtext(f"{atom}id") or "").rsplit("/", 1)[-1])
        if match:
            title = " ".join((entry.findtext(f"{atom}title") or "").split())
            out.append((ArxivId(match.group(1), (match.group(2) or "").lower()), title))
    return out


def is_arxiv_id(text: str) -> bool:
    """True for a bare or versioned arXiv id ('2304.08485', 'arxiv:2304.08485v2')."""
    return _ID.match(text.strip()) is not None


class ArxivClient:
    """Fetches PDFs into ``cache_dir``; a paper already there is never downloaded again."""

    def __init__(self, settings: ArxivSettings, cache_dir: Path) -> None:
        self.settings = settings
        self.cache_dir = cache_dir
        self._last_request = 0.0
        self.requests = 0

    def cached(self, paper: ArxivId) -> Path | None:
        """The cached PDF of ``paper`` (for an unversioned id: any cached version, newest first)."""
        exact = self.cache_dir / paper.filename
        if exact.exists():
            return exact
        if not paper.version:
            versions = sorted(self.cache_dir.glob(f"{paper.id}v*.pdf"), key=lambda p: int(p.stem.split("v")[-1]))
            if versions:
                return versions[-1]
        return None

    def fetch(self, paper: ArxivId, from_dir: Path | None = None) -> Path:
        """A local PDF of ``paper``: from the cache, from ``from_dir``, or downloaded (unless offline)."""
        if from_dir is not None:
            return self._from_dir(paper, from_dir)
        hit = self.cached(paper)
        if hit is not None:
            return hit
        if self.settings.offline:
            raise MMQAError(f"arXiv {paper}: not in the cache {self.cache_dir} and MMQA_OFFLINE=1 forbids downloading")
        return self._download(paper)

    def latest_versions(self, ids: list[str]) -> dict[str, str]:
        """The newest version ('v3') of each arXiv id, from the arXiv API's Atom feed (``query?id_list=``)."""
        if not ids:
            return {}
        entries = self._entries(ids, f"checking arXiv for new versions ({len(ids)} ids)")
        return {paper.id: paper.version for paper, _ in entries if paper.version}

    def known_titles(self) -> dict[str, str]:
        """The titles the arXiv API gave for papers (id without version -> title), cached in ``titles.json``."""
        try:
            return dict(json.loads((self.cache_dir / TITLES_FILE).read_text()))
        except (OSError, ValueError):
            return {}

    def titles(self, ids: list[str]) -> dict[str, str]:
        """The arXiv API's title of each id (the authority on a paper's title): cached ones, then the rest
        asked in one request unless offline. A failed request leaves them unknown (the PDF's title stands)."""
        known = self.known_titles()
        missing = sorted({i for i in ids if i not in known})
        if missing and not self.settings.offline:
            try:
                for start in range(0, len(missing), _ID_LIST_MAX):
                    part = missing[start : start + _ID_LIST_MAX]
                    self._entries(part, f"arXiv API titles ({len(part)} ids)")
            except MMQAError as exc:
                log.warning("%s; keeping the titles printed in the PDFs", exc)
            known = self.known_titles()
        return {i: known[i] for i in ids if i in known}

    def _entries(self, ids: list[str], what: str) -> list[tuple[ArxivId, str]]:
        """The API's entries for ``ids`` (``query?id_list=``); their titles are remembered."""
        url = f"{self.settings.api_url.rstrip('/')}/api/query?id_list={','.join(ids)}&max_results={len(ids)}"
        asked = set(ids)
        entries = [(paper, title) for paper, title in atom_entries(self.get(url, what)) if paper.id in asked]
        titles = {paper.id: title for paper, title in entries if title}
        if titles:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            target = self.cache_dir / TITLES_FILE
            tmp = target.with_name(f".{TITLES_FILE}.tmp")
            tmp.write_text(json.dumps({**self.known_titles(), **titles}, indent=1, sort_keys=True))
            tmp.replace(target)
        return entries

    def search_title(self, title: str, max_results: int = 5) -> list[tuple[ArxivId, str]]:
        """Papers whose title matches the phrase ``title`` (arXiv API ``search_query=ti:"..."``): (id, title)."""
        from urllib.parse import quote

        phrase = " ".join(re.sub(r"[^\w\s-]", " ", title).split())
        query = quote(f'ti:"{phrase}"')
        url = f"{self.settings.api_url.rstrip('/')}/api/query?search_query={query}&max_results={max_results}"
        return atom_entries(self.get(url, f"arXiv API title search {phrase[:40]!r}"))

    def get(self, url: str, what: str) -> bytes:
        """The body of ``url`` through the same polite request loop (rate limit, retries); NotFoundError on 404."""
        if self.settings.offline:
            raise MMQAError(f"{what}: needs the network, and MMQA_OFFLINE=1 forbids it")
        return self._request(url, what, lambda response: response.read())

    def _request(self, url: str, what: str, handle: Callable[[Any], T]) -> T:
        """GET ``url`` politely: rate limit, timeout, retries with doubling back-off, a 404 is final.

        ``handle(response)`` turns a response into the result, or raises ``_BadBody`` to retry.
        """
        last_error = ""
        for attempt in range(1, self.settings.retries + 1):
            self._wait_turn()
            self.requests += 1
            try:
                request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
                with urllib.request.urlopen(request, timeout=self.settings.timeout) as response:
                    return handle(response)
            except _BadBody as exc:
                last_error = str(exc)
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    raise NotFoundError(f"{what}: not found at {url}") from exc
                last_error = f"HTTP {exc.code}"
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                last_error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            if attempt < self.settings.retries:
                backoff = self.settings.backoff * 2 ** (attempt - 1)
                log.warning("%s: %s; retrying in %.1f s (%d/%d)", what, last_error, backoff, attempt,
                            self.settings.retries)  # fmt: skip
                time.sleep(backoff)
        raise MMQAError(f"{what}: download failed after {self.settings.retries} tries ({last_error})")

    def in_folder(self, source: str, folder: Path) -> bool:
        """Does ``folder`` hold a PDF of 'arxiv:ID' (as ID.pdf or IDvN.pdf)?"""
        try:
            self._from_dir(ArxivId.parse(source), folder)
        except MMQAError:
            return False
        return True

    def _from_dir(self, paper: ArxivId, folder: Path) -> Path:
        candidates = [folder / paper.filename] if paper.version else sorted(folder.glob(f"{paper.id}*.pdf"))
        for path in reversed(candidates):
            if path.exists() and re.fullmatch(rf"{re.escape(paper.id)}(v\d+)?\.pdf", path.name):
                return path
        raise MMQAError(f"arXiv {paper}: no {paper.filename} in {folder}")

    def _wait_turn(self) -> None:
        wait = self._last_request + self.settings.delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_request = time.monotonic()

    def _download(self, paper: ArxivId) -> Path:
        url = f"{self.settings.url.rstrip('/')}/pdf/{paper}"
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.cache_dir / f".{paper.filename}.{os.getpid()}.part"
        target = self.cache_dir / paper.filename

        def save(response) -> Path:
            with tmp.open("wb") as out:
                while block := response.read(1 << 16):
                    out.write(block)
            problem = looks_like_pdf(tmp)
            if problem:
                raise _BadBody(problem)
            os.replace(tmp, target)  # only a complete PDF ever appears under its cache name
            return target

        try:
            return self._request(url, f"arXiv {paper}", save)
        finally:
            tmp.unlink(missing_ok=True)
