"""What is indexed and how it looks: status, section trees, page images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmqa.errors import MMQAError
from mmqa.schema import Section
from mmqa.service.base import ServiceBase


class AdminMixin(ServiceBase):
    """The inspection part of ``MMQA``."""

    def page_image(self, doc_id: str, page: int) -> Path:
        """A PNG of 1-based ``page`` of an indexed paper, rendered once into ``HOME/pages/<doc>/<sha12>-p<N>.png``."""
        from mmqa.render import page_image_path, render_page

        record = self.manifest().paper(doc_id)
        if not 1 <= page <= record.pages:
            raise MMQAError(f"{doc_id} has no page {page} (it has {record.pages})")
        target = page_image_path(self.settings.home / "pages", doc_id, record.sha256, page)
        return render_page(Path(record.source_path), page, target)

    def sections(self, doc_id: str | None = None) -> dict[str, list[Section]]:
        """The section tree of one paper (or all), as recorded at ingest."""
        manifest = self._ready_manifest()
        records = [manifest.paper(doc_id)] if doc_id else list(manifest.papers.values())
        return {r.doc_id: r.section_objects() for r in records}

    def status(self) -> dict[str, Any]:
        """What is indexed and where: papers, versions, chunk counts, models, location, and papers of an
        index built under other settings that ``rebuild`` would bring over."""
        manifest = self.manifest()
        earlier = self.earlier_index()
        papers = [
            {
                "doc_id": r.doc_id,
                "title": r.title,
                "short_name": r.short_name,
                "aliases": r.names(),
                "version": r.version,
                "sha256": r.sha256,
                "pages": r.pages,
                "chunks": len(r.chunk_ids),
                "sections": len(r.sections),
                "has_outline": r.has_outline,
                "ingested_at": r.ingested_at,
                "source_path": r.source_path,
            }
            for r in sorted(manifest.papers.values(), key=lambda r: r.doc_id)
        ]
        return {
            "home": str(self.settings.home),
            "index_key": self.index_key,
            "collection": f"chunks_{self.index_key}",
            "chroma": self.settings.chroma_url or str(self.settings.home / "chroma"),
            "embedding_model": self.settings.embedding.model,
            "answer_backend": self.settings.llm_settings.model or "extractive",
            "papers": papers,
            "total_chunks": sum(p["chunks"] for p in papers),
            "earlier_index": None if earlier is None else {
                "index_key": earlier.index_key,
                "papers_not_in_current": sorted(set(earlier.papers) - {p["doc_id"] for p in papers}),
            },
        }  # fmt: skip
