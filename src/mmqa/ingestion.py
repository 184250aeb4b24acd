"""Ingestion: files -> parsed papers -> chunks -> vectors -> store, manifest and BM25 kept in step.

Order of writes per paper (so a crash never leaves a half paper visible): add the new chunks
(ids carry the PDF hash), switch the manifest atomically to the new version, then delete the old
chunks. Readers only trust chunk ids the manifest lists; ``recover`` deletes the rest and re-indexes
a paper whose vectors Chroma had not persisted when the writer was killed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from mmqa.errors import DiskFullError, InputError, MMQAError, describe, is_disk_full
from mmqa.index.bm25 import BM25Entry, BM25Index
from mmqa.index.embedder import Embedder
from mmqa.index.embedding_cache import EmbeddingCache
from mmqa.index.exact import ExactVectors
from mmqa.index.manifest import Manifest, PaperRecord
from mmqa.index.store import ChunkStore
from mmqa.ingest_report import FileResult, IngestObserver, IngestReport, Silent, expand_paths
from mmqa.parsing import ParsedPaper, retitled
from mmqa.parsing.ahead import ParseAhead
from mmqa.parsing.chunker import Chunker
from mmqa.parsing.names import NAMES_VERSION
from mmqa.parsing.pdf import check_pdf_file, sha256_file
from mmqa.parsing.references import Bibliography, parse_references
from mmqa.parsing.text import split_sentences
from mmqa.parsing.tokens import token_counter
from mmqa.schema import Chunk, Paper, Reference, SentenceUnit, indexed_text
from mmqa.settings import Settings

log = logging.getLogger(__name__)


class Ingestor:
    """Adds, replaces and recovers papers in the index. Callers hold the writer lock."""

    def __init__(self, settings: Settings, embedder: Embedder, store: ChunkStore, bm25: BM25Index,
                 exact: ExactVectors, manifest_path: Path) -> None:  # fmt: skip
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.bm25 = bm25
        self.exact = exact
        self.manifest_path = manifest_path
        self.index_key = settings.index_key()
        self.chunker = Chunker(settings.chunking, token_counter(str(embedder.model_dir)))
        self.cache = EmbeddingCache(settings.home / "cache" / "embeddings.sqlite", embedder.model_key)
        self.titles: Mapping[str, str] = {}  # doc id -> the arXiv API's title, which wins over the PDF's

    def ingest(
        self, paths: list[Path], observer: IngestObserver | None = None, password: str | None = None
    ) -> IngestReport:
        """Ingest PDFs and folders of PDFs; bad files are reported and skipped, never fatal.

        ``password`` opens encrypted PDFs among them; it is passed to the parser and kept nowhere.
        """
        observer = observer or Silent()
        files, problems = expand_paths(paths)
        report = IngestReport(files=list(problems))
        for result in problems:
            observer.file_done(result)
        manifest = Manifest.load(self.manifest_path)
        for path in self.recover(manifest):
            if path.exists() and path.resolve() not in files:
                files.append(path.resolve())
        changed = False
        hashes: dict[Path, str] = {}  # of files the look-ahead already read, so none is hashed twice
        with ParseAhead(self.settings.parsing, password) as ahead:
            for index, path in enumerate(files):
                observer.file_started(path, index, len(files))
                if self.settings.parsing.parse_ahead:
                    # The file itself too: in the worker its parse has a time limit and cannot take mmqa down.
                    for upcoming in files[index : index + 2]:
                        self._parse_ahead(upcoming, manifest, ahead, hashes)
                result = self._ingest_guarded(path, manifest, observer, ahead, hashes.pop(path, None))
                changed = changed or result.status in {"added", "updated"} or result.renamed
                report.files.append(result)
                observer.file_done(result)
        live = manifest.live_chunk_ids()
        if changed or not self.bm25.matches(live) or not self.exact.matches(live):
            try:
                self.rebuild_side_indexes(manifest)
            except Exception as exc:
                if not is_disk_full(exc):
                    raise
                raise DiskFullError(
                    f"disk full while rebuilding the keyword index and vector matrices in {self.settings.home} "
                    f"({exc}); the papers are indexed, and search catches up on the next ingest once space is freed"
                ) from None
        return report

    def _ingest_guarded(
        self, path: Path, manifest: Manifest, observer: IngestObserver, ahead: ParseAhead, sha: str | None
    ) -> FileResult:
        """``_ingest_one`` with bad input turned into a failed result; a full disk stops the whole ingest."""
        started = datetime.now(UTC)
        try:
            result = self._ingest_one(path, manifest, observer, ahead, sha)
        except InputError as exc:
            result = FileResult(str(path), "failed", reason=exc.reason)
        except MMQAError as exc:
            result = FileResult(str(path), "failed", reason=str(exc))
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            # Stop here: every later write would fail too. The manifest on disk still names the old,
            # complete versions; chunks written before the failure are orphans the next ingest removes.
            raise DiskFullError(
                f"disk full while indexing {path.name} into {self.settings.home} ({exc}); nothing indexed "
                "before was changed: free some space and run the ingest again"
            ) from None
        result.seconds = (datetime.now(UTC) - started).total_seconds()
        return result

    def _unchanged(self, sha: str, manifest: Manifest) -> PaperRecord | None:
        """The indexed paper with this PDF hash under the current index key, if any."""
        return next((r for r in manifest.papers.values() if r.sha256 == sha and r.index_key == self.index_key), None)

    def _parse_ahead(self, path: Path, manifest: Manifest, ahead: ParseAhead, hashes: dict[Path, str]) -> None:
        """Start parsing ``path`` in the background unless it is unchanged or unreadable (then nothing to parse).

        Its hash goes into ``hashes`` for the file's own turn.
        """
        if path in hashes:
            return  # already submitted (or found unchanged) on the previous file's turn
        try:
            check_pdf_file(path)
            hashes[path] = sha256_file(path)
            record = self._unchanged(hashes[path], manifest)
            if record is None or self._stale_names(record):
                ahead.submit(path)
        except (InputError, OSError):
            pass  # reported when the file's turn comes

    def _ingest_one(
        self, path: Path, manifest: Manifest, observer: IngestObserver, ahead: ParseAhead, sha: str | None
    ) -> FileResult:
        check_pdf_file(path)
        try:
            sha = sha or sha256_file(path)
        except OSError as exc:
            raise InputError(str(path), f"cannot read the file ({describe(exc)})") from exc
        record = self._unchanged(sha, manifest)
        if record is not None:
            renamed = self._stale_names(record)
            if renamed:  # names read by an older mmqa, or a title the arXiv API corrects: read them again
                try:
                    self._rename(record, self._titled(ahead.take(path)[0]).paper, manifest)
                except InputError as exc:  # e.g. an encrypted paper re-ingested without its password
                    renamed = False
                    log.debug("%s: names not read (%s)", path.name, exc.reason)
            return FileResult(str(path), "unchanged", record.doc_id, record.title, record.pages,
                              len(record.chunk_ids), renamed=renamed)  # fmt: skip
        timings: dict[str, float] = {}
        paper, chunks, references, units = self._read(path, ahead, timings)
        clock = time.perf_counter()
        vectors, unit_vectors, reused = self._embed(chunks, units, observer)
        timings["embed"], clock = time.perf_counter() - clock, time.perf_counter()
        previous = manifest.papers.get(paper.doc_id)
        self.store.add(chunks, vectors)
        self.store.add_sentences(units, unit_vectors)
        manifest.index_key = self.index_key
        manifest.embedder = self.embedder.name
        manifest.papers[paper.doc_id] = PaperRecord(
            doc_id=paper.doc_id,
            title=paper.title,
            short_name=paper.short_name,
            aliases=paper.aliases,
            title_lines=paper.title_lines,
            terms=paper.terms,
            names_version=NAMES_VERSION,
            version=paper.version,
            sha256=paper.sha256,
            source_path=paper.source_path,
            pages=len(paper.pages),
            chunk_ids=[c.chunk_id for c in chunks],
            sections=[s.to_dict() for s in paper.sections],
            has_outline=paper.has_outline,
            ingested_at=datetime.now(UTC).isoformat(timespec="seconds"),
            index_key=self.index_key,
            lost_pages=paper.lost_pages,
            references=[r.to_dict() for r in references],
            survey=previous.survey if previous else False,
        )
        manifest.save(self.manifest_path)
        stale = set(self.store.ids_of(paper.doc_id)) - {c.chunk_id for c in chunks}
        self.store.delete(stale)
        timings["store"] = time.perf_counter() - clock
        status = "updated" if previous else "added"
        if paper.lost_pages:
            log.warning("%s: text of pages %s could not be extracted", path.name, paper.lost_pages)
        return FileResult(str(path), status, paper.doc_id, paper.title, len(paper.pages), len(chunks),
                          sentences=len(units), reused=reused, timings=timings)  # fmt: skip

    def _read(
        self, path: Path, ahead: ParseAhead, timings: dict[str, float]
    ) -> tuple[Paper, list[Chunk], list[Reference], list[SentenceUnit]]:
        """Parse and chunk one file, link its citations and split its sentences: everything computed from
        the file alone, so any exception here is this file's one-line failure, never the batch's."""
        try:
            # "parse": the time this file's parse held up the ingest; "parse_work": pypdf's own time (the
            # same unless the file was parsed ahead, in a worker process, while the previous one was embedded).
            parsed, timings["parse"], timings["parse_work"] = ahead.take(path)
            parsed = self._titled(parsed)
            clock = time.perf_counter()
            chunks = self.chunker.chunk(parsed.paper, parsed.texts)
            if not self.settings.parsing.index_references:
                chunks = [c for c in chunks if not _in_references(c.section_title, c.section)]
            if not chunks:
                raise InputError(str(path), "no indexable text found")
            references = self._link_citations(parse_references(parsed.texts), chunks)
            units = [u for c in chunks for u in c.sentence_units(split_sentences(c.text))]
        except InputError:
            raise
        except Exception as exc:
            if is_disk_full(exc):
                raise
            log.debug("%s: could not be indexed", path, exc_info=True)
            raise InputError(str(path), f"could not be indexed ({describe(exc)})") from exc
        timings["chunk"] = time.perf_counter() - clock
        return parsed.paper, chunks, references, units

    def _stale_names(self, record: PaperRecord) -> bool:
        return record.names_version < NAMES_VERSION or self.titles.get(record.doc_id, record.title) != record.title

    def _titled(self, parsed: ParsedPaper) -> ParsedPaper:
        return retitled(parsed, self.titles.get(parsed.paper.doc_id, ""))

    def _rename(self, record: PaperRecord, paper: Paper, manifest: Manifest) -> None:
        """Give an indexed paper the title and names read now. Its chunks keep their vectors (the short name
        in their embedded header stays the old one until the paper is re-indexed); their stored title and
        short name change, and so does the keyword index, rebuilt at the end of the ingest."""
        if (record.title, record.short_name) != (paper.title, paper.short_name):
            self.store.rename(record.chunk_ids, paper.title, paper.short_name)
        record.title, record.short_name = paper.title, paper.short_name
        record.aliases, record.terms, record.names_version = paper.aliases, paper.terms, NAMES_VERSION
        record.title_lines = paper.title_lines
        manifest.save(self.manifest_path)

    def _link_citations(self, references: list[Reference], chunks: list[Chunk]) -> list[Reference]:
        """Fill each chunk's ``cites`` and each reference's ``cited_in`` (arXiv ids from print or the cache).

        The embedded text is untouched: ``cites`` is metadata only.
        """
        from mmqa.acquire.resolver import ReferenceResolver

        if not references:
            return references
        ReferenceResolver.for_home(self.settings.home).apply_cache(references)
        bibliography = Bibliography(references)
        for chunk in chunks:
            if _in_references(chunk.section_title, chunk.section):
                continue
            cited = bibliography.cited(chunk.text)
            where = chunk.section or chunk.section_title
            for ref in cited:
                if where not in ref.cited_in:
                    ref.cited_in.append(where)
            ids = [f"arxiv:{r.arxiv_id}" for r in cited if r.arxiv_id]
            chunk.cites = "|".join(dict.fromkeys([r.key for r in cited] + ids))
        return references

    def _embed(
        self, chunks: list[Chunk], units: list[SentenceUnit], observer: IngestObserver
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """Vectors for the chunks and their sentences (cached ones reused), reporting progress over both.

        Returns (chunk vectors, sentence vectors, number of vectors reused from the cache).
        """
        texts = [c.embedding_text() for c in chunks] + [u.text for u in units]
        done = 0

        def compute(missing: list[str]) -> np.ndarray:
            def tick(n: int) -> None:
                nonlocal done
                done += n
                observer.embedding(done, len(missing))

            return self.embedder.embed(missing, progress=tick)

        vectors, reused = self.cache.embed(texts, compute)
        return vectors[: len(chunks)], vectors[len(chunks) :], reused

    def remove(self, doc_id: str) -> int:
        """Drop a paper and all its chunks; returns how many chunks were deleted."""
        manifest = Manifest.load(self.manifest_path)
        manifest.paper(doc_id)  # a one-line error when it is not indexed
        del manifest.papers[doc_id]
        manifest.save(self.manifest_path)
        ids = self.store.ids_of(doc_id)
        self.store.delete(ids)
        self.rebuild_side_indexes(manifest)
        return len(ids)

    def recover(self, manifest: Manifest) -> list[Path]:
        """Repair what an interrupted ingest left behind; returns the PDFs that must be ingested again.

        Chunks and sentences the manifest does not vouch for are deleted. A paper whose current
        vectors cannot be read back (Chroma had not persisted them when the writer was killed) is
        dropped from the manifest and its PDF returned, so the ingest that follows re-adds it, with
        its vectors from the embedding cache.
        """
        orphans = self.store.all_chunk_ids() - manifest.live_chunk_ids()
        if orphans:
            log.info("recovering: removing %d chunks of an interrupted ingest", len(orphans))
            self.store.delete(orphans)
        broken = self.store.unreadable(sorted(manifest.live_chunk_ids()))
        again: list[Path] = []
        for doc_id, record in list(manifest.papers.items()):
            if broken & set(record.chunk_ids):
                log.warning("recovering: %s lost vectors in an interrupted ingest; re-indexing it", doc_id)
                self.store.delete(record.chunk_ids)
                del manifest.papers[doc_id]
                manifest.save(self.manifest_path)
                again.append(Path(record.source_path))
        if orphans or broken:
            self.rebuild_side_indexes(manifest)
        return again

    def rebuild_side_indexes(self, manifest: Manifest) -> None:
        """Rebuild the BM25 index, then the exact-search matrices (``index.exact``), from the store's current
        chunks. In that order: matrices that hold the current chunks vouch for a current BM25 index too, which
        the search filters read."""
        live = manifest.live_chunk_ids()
        entries: list[BM25Entry] = []
        texts: list[str] = []
        for chunk in self.store.all():
            if chunk.chunk_id not in live:
                continue
            meta = chunk.meta
            entries.append(BM25Entry(
                chunk.chunk_id, str(meta["doc_id"]), str(meta.get("section", "")),
                index=int(meta.get("chunk_index", -1)), kind=str(meta.get("kind", "text")),
            ))  # fmt: skip
            texts.append(indexed_text(meta, chunk.text))
        self.bm25.build(entries, texts)
        chunk_vectors = [(cid, v) for cid, v in self.store.all_vectors() if cid in live]
        self.exact.build(chunk_vectors, self.store.all_vectors(sentences=True))


def _in_references(section_title: str, section: str) -> bool:
    return not section and section_title.lower() in {"references", "bibliography"}
