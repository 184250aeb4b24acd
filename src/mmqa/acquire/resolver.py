"""Resolving bibliography entries to arXiv ids: the printed id first, then a title lookup.

A title lookup asks the arXiv API (``search_query=ti:"..."``) and then Semantic Scholar's title
match, and accepts an answer only when the normalised titles are near-identical: a wrong id is
worse than none. Every answer, a hit or a definite miss, is cached in ``MMQA_HOME/cache`` so each
title is looked up once; a network failure is not an answer and is not cached. Offline, only
printed ids and cached answers are used.
"""

from __future__ import annotations

import json
import logging
import os
import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from urllib.parse import quote

from mmqa.acquire.arxiv import ArxivClient, NotFoundError, is_arxiv_id
from mmqa.errors import MMQAError
from mmqa.schema import Reference

log = logging.getLogger(__name__)

MIN_TITLE_WORDS = 3
MATCH_RATIO = 0.95


def resolution_cache_path(home: Path) -> Path:
    """Where title -> arXiv id answers are cached (``MMQA_HOME/cache/arxiv_resolution.json``)."""
    return home / "cache" / "arxiv_resolution.json"


def normalize_title(title: str) -> str:
    """Lower case letters and digits, single spaces, accents and punctuation dropped."""
    decomposed = unicodedata.normalize("NFKD", title)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def titles_match(printed: str, found: str) -> bool:
    """True when two titles are the same paper's: identical after normalising, or nearly (a typo, a hyphen)."""
    a, b = normalize_title(printed), normalize_title(found)
    if not a or not b:
        return False
    return a == b or SequenceMatcher(None, a, b).ratio() >= MATCH_RATIO


class ResolutionCache:
    """title -> arXiv id (or None for 'looked up, not on arXiv'), in one JSON file written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, dict[str, str | None]] = {}
        if path.exists():
            try:
                self._data = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                log.warning("%s: unreadable resolution cache (%s); starting afresh", path, exc)
        self._dirty = False

    def get(self, title: str) -> dict[str, str | None] | None:
        """The cached answer for ``title`` ({'arxiv_id', 'source'}), or None if never looked up."""
        return self._data.get(normalize_title(title))

    def put(self, title: str, arxiv_id: str | None, source: str) -> None:
        """Remember an answer (``arxiv_id`` None: a definite miss)."""
        self._data[normalize_title(title)] = {"arxiv_id": arxiv_id, "source": source}
        self._dirty = True

    def save(self) -> None:
        """Write the cache if it changed (temporary file, then rename)."""
        if not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self._data, indent=0, sort_keys=True))
        os.replace(tmp, self.path)
        self._dirty = False


@dataclass
class ResolveSummary:
    """How a bibliography's entries were resolved."""

    printed: int = 0
    cached: int = 0
    looked_up: int = 0
    found: int = 0
    unresolved: int = 0
    failed: int = 0  # lookups that failed (network): retried next time


class ReferenceResolver:
    """Fills ``Reference.arxiv_id`` from the printed id, the cache, or (online) a title lookup."""

    def __init__(self, client: ArxivClient | None, cache: ResolutionCache) -> None:
        self.client = client  # None: printed ids and the cache only
        self.cache = cache

    @classmethod
    def for_home(cls, home: Path, client: ArxivClient | None = None) -> ReferenceResolver:
        """A resolver on the cache under ``home``; with ``client`` None it never goes online."""
        return cls(client, ResolutionCache(resolution_cache_path(home)))

    def resolve(self, refs: list[Reference], online: bool = True) -> ResolveSummary:
        """Resolve ``refs`` in place; with ``online`` False (or offline settings) nothing is looked up."""
        summary = ResolveSummary()
        online = online and self.client is not None and not self.client.settings.offline
        try:
            for ref in refs:
                self._resolve_one(ref, online, summary)
        finally:
            self.cache.save()
        return summary

    def apply_cache(self, refs: list[Reference]) -> None:
        """Fill ids from printed text and the cache only (no network)."""
        self.resolve(refs, online=False)

    def _resolve_one(self, ref: Reference, online: bool, summary: ResolveSummary) -> None:
        if ref.arxiv_id and ref.resolved_by == "printed":
            summary.printed += 1
            return
        if len(normalize_title(ref.title).split()) < MIN_TITLE_WORDS:
            summary.unresolved += 1
            return
        hit = self.cache.get(ref.title)
        if hit is not None:
            ref.arxiv_id, ref.resolved_by = hit["arxiv_id"], "cache" if hit["arxiv_id"] else ""
            summary.cached += 1
            return
        if not online:
            summary.unresolved += 1
            return
        summary.looked_up += 1
        try:
            arxiv_id, source = self._lookup(ref.title)
        except MMQAError as exc:
            log.warning("resolving %s: %s", ref.key, exc)
            summary.failed += 1
            return
        self.cache.put(ref.title, arxiv_id, source)
        ref.arxiv_id, ref.resolved_by = arxiv_id, source if arxiv_id else ""
        summary.found += bool(arxiv_id)
        summary.unresolved += not arxiv_id

    def _lookup(self, title: str) -> tuple[str | None, str]:
        """(arXiv id or None, which service said so). Raises MMQAError only when every service failed."""
        assert self.client is not None
        errors = []
        answered = False
        for name in self.client.settings.resolvers:
            try:
                found = self._by_arxiv(title) if name == "arxiv" else self._by_s2(title)
            except NotFoundError:
                found = None
            except MMQAError as exc:
                errors.append(str(exc))
                continue
            answered = True
            if found:
                return found, name
        if not answered and errors:
            raise MMQAError(errors[-1])
        return None, "none"

    def _by_arxiv(self, title: str) -> str | None:
        assert self.client is not None
        for paper, found_title in self.client.search_title(title):
            if titles_match(title, found_title):
                return paper.id
        return None

    def _by_s2(self, title: str) -> str | None:
        assert self.client is not None
        base = self.client.settings.s2_url.rstrip("/")
        url = f"{base}/graph/v1/paper/search/match?query={quote(title)}&fields=externalIds,title,year"
        try:
            data = json.loads(self.client.get(url, f"Semantic Scholar title match {title[:40]!r}"))
        except json.JSONDecodeError as exc:
            raise MMQAError(f"Semantic Scholar: not JSON ({exc})") from exc
        for paper in data.get("data") or []:
            arxiv_id = str((paper.get("externalIds") or {}).get("ArXiv") or "")
            if arxiv_id and is_arxiv_id(arxiv_id) and titles_match(title, str(paper.get("title") or "")):
                return arxiv_id
        return None
