"""Writing to the index: ingest, update, ingest a survey with the papers it cites, remove, rebuild."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmqa.acquire.links import folder_title_matches
from mmqa.errors import MMQAError
from mmqa.service.base import MAX_UPLOAD_BYTES, safe_upload_name
from mmqa.service.refs import RefsMixin

if TYPE_CHECKING:  # the query path never imports the ingestion stack (pypdf, llama-index)
    from mmqa.acquire.resolver import ResolveSummary
    from mmqa.ingest_report import IngestObserver, IngestReport


@dataclass
class SurveyIngest:
    """The outcome of ingesting a survey with the papers it cites."""

    report: IngestReport
    survey: str = ""  # doc id ('' if the survey itself failed)
    references: int = 0
    resolved: int = 0
    cited_sources: list[str] | None = None
    not_in_folder: int = 0  # resolved cited papers absent from --from DIR
    summary: ResolveSummary | None = None

    def to_dict(self) -> dict[str, Any]:
        """What ``ingest --json`` adds about the bibliography."""
        return {
            "survey": self.survey,
            "references": self.references,
            "resolved": self.resolved,
            "cited_fetched": len(self.cited_sources or []),
            "not_in_folder": self.not_in_folder,
        }


def _version_number(version: str) -> int:
    return int(version[1:]) if version[1:].isdigit() else 0


class CorpusMixin(RefsMixin):
    """The writing half of ``MMQA``: everything that changes what is indexed."""

    def _ingestor(self):
        from mmqa.ingestion import Ingestor

        return Ingestor(self.settings, self.embedder, self.store, self.bm25, self.exact, self.manifest_path)

    def ingest(
        self, sources: list[Path | str], observer: IngestObserver | None = None, from_dir: Path | None = None,
        password: str | None = None,
    ) -> IngestReport:
        """Add or update papers: PDF files, folders of PDFs, or 'arxiv:ID[vN]' (downloaded, or taken
        from ``from_dir``). Unchanged files are skipped by content hash; bad ones are reported.
        ``password`` opens encrypted PDFs; it is used while reading them and stored nowhere."""
        from mmqa.acquire.arxiv import ArxivId
        from mmqa.index.lock import WriterLock
        from mmqa.ingest_report import FileResult

        paths: list[Path] = []
        failed: list[FileResult] = []
        fetched: list[str] = []
        for source in sources:
            text = str(source)
            if text.lower().startswith("arxiv:"):
                try:
                    paths.append(self.fetch_arxiv(text, from_dir))
                    fetched.append(ArxivId.parse(text).id)
                except MMQAError as exc:
                    failed.append(FileResult(text, "failed", reason=str(exc)))
            else:
                paths.append(Path(source))
        if fetched and from_dir is None:  # a paper fetched by its id: the arXiv API's title is the authority
            self.arxiv.titles(fetched)
        with WriterLock(self.settings.home), self._chroma_errors():
            ingestor = self._ingestor()
            ingestor.titles = self.arxiv.known_titles()
            report = ingestor.ingest(paths, observer, password)
        report.files[:0] = failed
        if observer is not None:
            for result in failed:
                observer.file_done(result)
        return report

    def update(self, check_only: bool = False, observer: IngestObserver | None = None) -> list[dict[str, str]]:
        """Ask arXiv for newer versions of every indexed arXiv paper; fetch and swap them in unless ``check_only``.

        Returns one row per indexed arXiv paper: doc_id, indexed version, latest version, action.
        """
        from mmqa.acquire.arxiv import is_arxiv_id

        manifest = self.manifest()
        arxiv_papers = {d: r for d, r in manifest.papers.items() if is_arxiv_id(d)}
        latest = self.arxiv.latest_versions(sorted(arxiv_papers))
        rows, to_fetch = [], []
        for doc_id, record in sorted(arxiv_papers.items()):
            newest = latest.get(doc_id, "")
            newer = bool(newest) and _version_number(newest) > _version_number(record.version)
            action = "up to date" if not newer else ("newer version available" if check_only else "updated")
            rows.append({"doc_id": doc_id, "version": record.version, "latest": newest or "?", "action": action})
            if newer and not check_only:
                to_fetch.append(f"arxiv:{doc_id}{newest}")
        if to_fetch:
            report = self.ingest(to_fetch, observer)
            failed = {f.path: f.reason for f in report.failed}
            for row in rows:
                key = f"arxiv:{row['doc_id']}{row['latest']}"
                if key in failed:
                    row["action"] = f"failed: {failed[key]}"
        return rows

    def default_sources(self, survey_only: bool = False) -> list[str]:
        """The papers of the default corpus (``ingest/corpus.toml``) as 'arxiv:ID' sources."""
        return self.corpus_spec().sources(survey_only)

    def ingest_survey(
        self,
        survey: str | None = None,
        observer: IngestObserver | None = None,
        from_dir: Path | None = None,
        survey_only: bool = False,
    ) -> SurveyIngest:
        """Ingest a survey ('arxiv:ID'; default: the corpus file's, plus its extra papers), parse its
        bibliography, resolve the entries to arXiv ids and ingest the cited papers (capped and
        filtered by the corpus file). With ``from_dir``, cited papers not in that folder are skipped,
        and a folder paper whose page 1 prints the title of an entry without an id counts as cited."""
        spec = self.corpus_spec()
        default = survey is None
        source = f"arxiv:{spec.survey}" if default else survey
        report = self.ingest([source], observer, from_dir)
        outcome = SurveyIngest(report)
        done = next((f for f in report.files if f.status != "failed"), None)
        cited: list[str] = []
        if done is not None:
            outcome.survey = done.doc_id
            self._mark_survey(done.doc_id)
            if not survey_only:
                refs, outcome.summary = self.resolve_references(done.doc_id, online=True)
                outcome.references = len(refs)
                ids = {r.key: r.arxiv_id for r in refs if r.arxiv_id}
                if from_dir is not None:  # entries printing no id, found by the title on a folder paper's page 1
                    ids.update(folder_title_matches(refs, from_dir, {done.doc_id, *ids.values()}))
                ranked = [ids[r.key] for r in sorted((r for r in refs if r.key in ids), key=lambda r: -len(r.cited_in))]
                outcome.resolved = len(ranked)
                if from_dir is not None:  # the folder first, then the cap: every cited paper the folder holds
                    present = [i for i in dict.fromkeys(ranked) if self.arxiv.in_folder(f"arxiv:{i}", from_dir)]
                    outcome.not_in_folder = len(spec.cited_sources(ranked, {done.doc_id, *present}))
                    ranked = present
                cited = spec.cited_sources(ranked, {done.doc_id})
        extra = spec.sources()[1:] if default and not survey_only else []
        outcome.cited_sources = cited
        more = list(dict.fromkeys(s for s in cited + extra if s.split(":", 1)[1] != outcome.survey))
        if more:
            report.files.extend(self.ingest(more, observer, from_dir).files)
        return outcome

    def _mark_survey(self, doc_id: str) -> None:
        from mmqa.index.lock import WriterLock

        with WriterLock(self.settings.home):
            manifest = self.manifest()
            if doc_id in manifest.papers and not manifest.papers[doc_id].survey:
                manifest.papers[doc_id].survey = True
                manifest.save(self.manifest_path)

    def fetch_arxiv(self, arxiv_id: str, from_dir: Path | None = None) -> Path:
        """A local PDF for an arXiv id: cached, from ``from_dir``, or downloaded (unless offline)."""
        from mmqa.acquire.arxiv import ArxivId

        return self.arxiv.fetch(ArxivId.parse(arxiv_id), from_dir)

    def save_upload(self, name: str, data: bytes) -> Path:
        """Store an uploaded PDF under ``HOME/uploads`` (sanitized name, size-limited); ingest it with ``ingest``."""
        if len(data) > MAX_UPLOAD_BYTES:
            raise MMQAError(f"{safe_upload_name(name)} is too large ({len(data) // 2**20} MB; the limit is 50 MB)")
        if not data.startswith(b"%PDF-"):
            raise MMQAError(f"{safe_upload_name(name)} is not a PDF (starts with {data[:12]!r})")
        folder = self.settings.home / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / safe_upload_name(name)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
        return target

    def remove(self, doc_id: str) -> int:
        """Drop one paper and its chunks; returns the number of chunks removed."""
        from mmqa.index.lock import WriterLock

        with WriterLock(self.settings.home), self._chroma_errors():
            removed = self._ingestor().remove(doc_id)
        return removed

    def rebuild(self, observer: IngestObserver | None = None) -> IngestReport:
        """Index again, under the current settings, the papers of the newest index built under other settings.

        Each paper is read from the PDF it was ingested from (arXiv papers whose file is gone are fetched
        again); surveys stay surveys. The earlier index is left as it was. With no earlier index but a
        keyword index or vector matrices not matching the current papers, the papers are ingested again: they
        come back unchanged and only those are rebuilt.
        """
        from mmqa.acquire.arxiv import is_arxiv_id

        origin = self.earlier_index()
        if origin is None:
            current = self.manifest()
            live = current.live_chunk_ids()
            if not current.papers or (self.bm25.matches(live) and self.exact.matches(live)):
                raise MMQAError(f"nothing to rebuild in {self.settings.home}: no index built under other settings")
            origin = current  # its papers come back unchanged; only the keyword index and matrices are written again
        records = sorted(origin.papers.values(), key=lambda r: (not r.survey, r.doc_id))
        sources: list[Path | str] = [
            f"arxiv:{r.doc_id}{r.version}"
            if not Path(r.source_path).exists() and is_arxiv_id(r.doc_id)
            else Path(r.source_path)
            for r in records
        ]
        report = self.ingest(sources, observer)
        for record in records:
            if record.survey:
                self._mark_survey(record.doc_id)
        return report
