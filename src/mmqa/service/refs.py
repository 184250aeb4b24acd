"""Bibliographies: a paper's references, their arXiv ids, which of them are indexed, and BibTeX."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mmqa.acquire.links import Link, PaperLinker, cited_doc_ids
from mmqa.errors import MMQAError
from mmqa.index.manifest import Manifest
from mmqa.schema import Answer, Reference
from mmqa.service.base import ServiceBase

if TYPE_CHECKING:
    from mmqa.acquire.resolver import ReferenceResolver, ResolveSummary


@dataclass
class ReferenceList:
    """A paper's bibliography, each entry knowing which indexed paper it names (if any) and how it is known."""

    doc_id: str
    references: list[Reference]
    links: dict[str, Link]  # entry key -> the indexed paper (see ``acquire.links``)

    def is_indexed(self, ref: Reference) -> bool:
        """Is the paper this entry names in the index?"""
        return ref.key in self.links

    def to_dict(self) -> dict[str, Any]:
        """The stable ``refs --json`` contract: ``linked_doc`` is the indexed paper's doc id, ``linked_by``
        what linked it ('printed id', 'title', 'alias', 'resolved online'); ``indexed`` says the same as
        ``linked`` (kept for older readers)."""
        rows = []
        for r in self.references:
            link = self.links.get(r.key)
            rows.append({
                "key": r.key,
                "authors": r.authors,
                "year": r.year,
                "title": r.title,
                "arxiv_id": r.arxiv_id or None,
                "indexed": link is not None,
                "linked": link is not None,
                "linked_doc": link.doc_id if link else None,
                "linked_by": link.linked_by if link else None,
                "cited_in": r.cited_in,
            })  # fmt: skip
        return {"doc_id": self.doc_id, "references": rows}


class RefsMixin(ServiceBase):
    """The bibliography part of ``MMQA``."""

    def _resolver(self, online: bool) -> ReferenceResolver:
        from mmqa.acquire.resolver import ReferenceResolver

        return ReferenceResolver.for_home(self.settings.home, self.arxiv if online else None)

    def resolve_references(self, doc_id: str, online: bool = True) -> tuple[list[Reference], ResolveSummary]:
        """Resolve a paper's bibliography to arXiv ids (printed, cached, or looked up when ``online``)
        and record the ids in the manifest, so filters and ``refs`` need no network afterwards."""
        from mmqa.index.lock import WriterLock

        record = self.manifest().paper(doc_id)
        refs = record.reference_objects()
        summary = self._resolver(online).resolve(refs, online)  # outside the lock: lookups can take minutes
        with WriterLock(self.settings.home):
            manifest = self.manifest()
            current = manifest.papers.get(doc_id)
            if current is not None and current.sha256 == record.sha256:
                current.references = [r.to_dict() for r in refs]
                manifest.save(self.manifest_path)
        return refs, summary

    def default_survey(self, manifest: Manifest | None = None) -> str:
        """The doc id of the survey: one ingested as a survey, else the corpus file's if it is indexed."""
        manifest = manifest or self.manifest()
        surveys = sorted(r.doc_id for r in manifest.surveys())
        if surveys:
            return surveys[0]
        survey_id = self.corpus_spec().survey.id
        if survey_id in manifest.papers:
            return survey_id
        raise MMQAError(
            f"the survey {survey_id} is not indexed: run `mmqa ingest` (the default corpus) or name a paper, "
            "e.g. mmqa refs 2010.11929"
        )

    def references(self, doc_id: str | None = None, missing: bool = False, resolve: bool = False) -> ReferenceList:
        """A paper's bibliography (default: the survey), with arXiv ids from print, the cache, or (``resolve``)
        a title lookup; ``missing`` keeps only entries whose paper is not indexed."""
        manifest = self._ready_manifest()
        doc_id = doc_id or self.default_survey(manifest)
        record = manifest.paper(doc_id)
        if resolve:
            refs = self.resolve_references(doc_id, online=True)[0]
        else:
            refs = record.reference_objects()
            self._resolver(online=False).apply_cache(refs)
        listing = ReferenceList(doc_id, refs, PaperLinker.from_manifest(manifest).links(refs, doc_id))
        if missing:
            listing.references = [r for r in refs if not listing.is_indexed(r)]
        return listing

    def reference_links(self, doc_id: str, manifest: Manifest | None = None) -> dict[str, Link]:
        """Entry key -> indexed paper, for the bibliography of ``doc_id``: computed now from the manifest (and
        the resolution cache), so papers indexed after ``doc_id`` are linked too. Offline; ``{}`` if not indexed."""
        manifest = manifest or self.manifest()
        record = manifest.papers.get(doc_id)
        if record is None or not record.references:
            return {}
        refs = record.reference_objects()
        self._resolver(online=False).apply_cache(refs)
        return PaperLinker.from_manifest(manifest).links(refs, doc_id)

    def cited_papers(self, doc_id: str, cites: str, links: dict[str, Link] | None = None) -> list[str]:
        """Doc ids of the indexed papers a passage of ``doc_id`` cites, given its ``cites`` metadata
        (``Passage.meta['cites']``), in citation order. Pass ``links`` (``reference_links(doc_id)``) when
        asking for many passages of one paper."""
        return cited_doc_ids(cites, self.reference_links(doc_id) if links is None else links)

    def answer_bibtex(self, answer: Answer, with_cited: bool = True) -> str:
        """BibTeX for the papers an answer cites (and, with ``with_cited``, the works its passages cite)."""
        from mmqa.acquire.arxiv import is_arxiv_id
        from mmqa.bibtex import bibtex

        manifest = self.manifest()
        by_arxiv: dict[str, Reference] = {}
        for record in manifest.papers.values():
            for ref in record.reference_objects():
                if ref.arxiv_id and ref.authors:
                    by_arxiv.setdefault(ref.arxiv_id, ref)
        refs: list[Reference] = []
        for citation in answer.citations:
            doc_id = citation.passage.doc_id
            record = manifest.papers.get(doc_id)
            known = by_arxiv.get(doc_id)
            arxiv_id = doc_id if is_arxiv_id(doc_id) else None
            title = record.title if record else str(citation.passage.meta.get("title", ""))
            refs.append(Reference(doc_id, known.authors if known else [], known.year if known else "", title, arxiv_id))
            if with_cited and record is not None:
                keys = [k for k in str(citation.passage.meta.get("cites", "")).split("|") if k]
                own = {r.key: r for r in record.reference_objects()}
                refs.extend(own[k] for k in keys if k in own)
        return bibtex(refs)
