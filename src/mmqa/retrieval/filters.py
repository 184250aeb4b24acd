"""Search filters (papers, a section prefix, what a survey cites) resolved against the manifest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mmqa.acquire.links import PaperLinker
from mmqa.errors import MMQAError
from mmqa.index.manifest import Manifest


@dataclass
class SearchFilter:
    """Restrict retrieval to some papers and/or to a section and its subsections.

    ``scope`` 'survey' keeps the indexed survey(s), 'cited' the indexed papers they cite; ``cited_by``
    keeps the papers cited in that survey section (and its subsections). Cited papers are those the
    survey's entries link to (``acquire.links``: printed id, title, alias or an id resolved online).
    ``cites`` (a doc id or arXiv id) keeps the passages, of any paper, that cite that paper;
    ``prefer_cites`` keeps everything but ranks those passages up (by the named-paper bonus).
    """

    docs: list[str] | None = None
    section: str | None = None
    cited_by: str | None = None
    scope: str | None = None  # survey | cited
    cites: str | None = None
    prefer_cites: str | None = None

    def is_empty(self) -> bool:
        """True when nothing is filtered."""
        return not self.docs and not self.section and not self.cited_by and not self.scope and not self.cites

    def resolve(self, manifest: Manifest) -> tuple[set[str] | None, set[str] | None]:
        """(doc ids, section numbers) allowed, or None for 'any'. Unknown papers are an error."""
        docs: set[str] | None = None
        if self.docs:
            unknown = [d for d in self.docs if d not in manifest.papers]
            if unknown:
                raise MMQAError(f"not indexed: {', '.join(unknown)} (see `mmqa status`)")
            docs = set(self.docs)
        if self.scope or self.cited_by:
            chosen = self._survey_docs(manifest)
            docs = chosen if docs is None else docs & chosen
            if not docs:
                raise MMQAError("no indexed paper matches --doc, --scope and --cited-by together")
        if self.cites:
            citing = set(self.cite_markers(manifest))
            docs = citing if docs is None else docs & citing
            if not docs:
                raise MMQAError(f"no selected paper cites {self.cites} (see `mmqa refs`)")
        sections: set[str] | None = None
        if self.section:
            prefix = self.section.strip().removeprefix("§").rstrip(".")
            sections = set()
            for doc_id, record in manifest.papers.items():
                if docs is not None and doc_id not in docs:
                    continue
                for sec in record.sections:
                    number = sec["number"]
                    if number == prefix or number.startswith(prefix + "."):
                        sections.add(number)
            if not sections:
                raise MMQAError(f"no section {prefix!r} in the selected papers (see `mmqa sections`)")
        return docs, sections

    def _survey_docs(self, manifest: Manifest) -> set[str]:
        """The papers ``scope`` / ``cited_by`` select, from the surveys' references in the manifest."""
        surveys = manifest.surveys()
        if not surveys:
            raise MMQAError("no survey is indexed: run `mmqa ingest` (the default corpus) or `mmqa ingest --survey ID`")
        if self.scope not in {None, "survey", "cited"}:
            raise MMQAError(f"unknown scope {self.scope!r}: use survey or cited")
        if self.scope == "survey" and not self.cited_by:
            return {s.doc_id for s in surveys}
        prefix = (self.cited_by or "").strip().removeprefix("§").rstrip(".")
        cited: set[str] = set()
        linker = PaperLinker.from_manifest(manifest)
        for survey in surveys:
            for ref in survey.reference_objects():
                if prefix and not any(p == prefix or p.startswith(prefix + ".") for p in ref.cited_in):
                    continue
                link = linker.link(ref, survey.doc_id)
                if link is not None:
                    cited.add(link.doc_id)
        if not cited:
            where = f"section {prefix!r} of the survey" if prefix else "the survey"
            raise MMQAError(f"no indexed paper is cited by {where} (see `mmqa refs`)")
        return cited

    def cite_markers(self, manifest: Manifest) -> dict[str, set[str]]:
        """Citing doc id -> the ``cites`` entries of its passages ('key' or 'arxiv:ID') that name the paper
        ``cites``: entries linked to it (``acquire.links``) or printing its arXiv id. Empty without ``cites``."""
        from mmqa.acquire.arxiv import ArxivId, is_arxiv_id

        paper = self.cites or self.prefer_cites
        if not paper:
            return {}
        target = ArxivId.parse(paper).id if is_arxiv_id(paper) else paper.strip()
        linker = PaperLinker.from_manifest(manifest)
        markers: dict[str, set[str]] = {}
        for record in manifest.papers.values():
            for ref in record.reference_objects():
                link = linker.link(ref, record.doc_id)
                if ref.arxiv_id == target or (link is not None and link.doc_id == target):
                    markers.setdefault(record.doc_id, set()).update({ref.key, f"arxiv:{target}"})
        if not markers:
            raise MMQAError(f"no indexed paper cites {paper} (see `mmqa refs`)")
        return markers

    @staticmethod
    def chroma_where(docs: set[str] | None, sections: set[str] | None) -> dict[str, Any] | None:
        """The Chroma ``where`` clause for these constraints."""
        clauses: list[dict[str, Any]] = []
        if docs is not None:
            clauses.append({"doc_id": {"$in": sorted(docs)}})
        if sections is not None:
            clauses.append({"section": {"$in": sorted(sections)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}
