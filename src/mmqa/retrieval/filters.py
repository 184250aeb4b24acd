"""Search filters (one paper, a section prefix) resolved against the manifest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mmqa.errors import MMQAError
from mmqa.index.manifest import Manifest


@dataclass
class SearchFilter:
    """Restrict retrieval to some papers and/or to a section and its subsections."""

    docs: list[str] | None = None
    section: str | None = None

    def is_empty(self) -> bool:
        """True when nothing is filtered."""
        return not self.docs and not self.section

    def resolve(self, manifest: Manifest) -> tuple[set[str] | None, set[str] | None]:
        """(doc ids, section numbers) allowed, or None for 'any'. Unknown papers are an error."""
        docs: set[str] | None = None
        if self.docs:
            unknown = [d for d in self.docs if d not in manifest.papers]
            if unknown:
                raise MMQAError(f"not indexed: {', '.join(unknown)} (see `mmqa status`)")
            docs = set(self.docs)
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
