"""The manifest: which papers are indexed, in which version, with which chunks. Written atomically."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mmqa.errors import MMQAError
from mmqa.schema import Reference, Section

MANIFEST_VERSION = 1


@dataclass
class PaperRecord:
    """One indexed paper as the manifest remembers it."""

    doc_id: str
    title: str
    short_name: str
    version: str
    sha256: str
    source_path: str
    pages: int
    chunk_ids: list[str]
    sections: list[dict[str, Any]]
    has_outline: bool
    ingested_at: str
    index_key: str
    lost_pages: list[int] = field(default_factory=list)
    references: list[dict[str, Any]] = field(default_factory=list)  # the bibliography (Reference.to_dict())
    survey: bool = False  # ingested as a survey (`mmqa ingest --survey`): its references are the cited set
    aliases: list[str] = field(default_factory=list)  # names the paper gives itself (parsing.names)
    title_lines: list[str] = field(default_factory=list)  # top of page 1 (parsing.text.title_block)
    terms: list[str] = field(default_factory=list)  # acronyms and long forms its front matter defines
    names_version: int = 0  # parsing.names.NAMES_VERSION when title, names and terms were read

    def names(self) -> list[str]:
        """What a question may call this paper; records written before aliases existed have only the short name."""
        return self.aliases or [self.short_name]

    def section_objects(self) -> list[Section]:
        """The section tree as Section objects."""
        return [Section(**s) for s in self.sections]

    def reference_objects(self) -> list[Reference]:
        """The bibliography as Reference objects."""
        return [Reference.from_dict(r) for r in self.references]


@dataclass
class Manifest:
    """All papers in the index, keyed by doc_id."""

    index_key: str = ""
    embedder: str = ""
    papers: dict[str, PaperRecord] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """Read the manifest, or an empty one if there is none yet."""
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text())
            fields = PaperRecord.__dataclass_fields__
            papers = {
                doc_id: PaperRecord(**{k: v for k, v in rec.items() if k in fields})
                for doc_id, rec in data.get("papers", {}).items()
            }
        except (ValueError, TypeError, AttributeError) as exc:  # hand-edited or damaged outside mmqa
            raise MMQAError(
                f"{path}: unreadable manifest ({type(exc).__name__}: {exc}); move it aside and run `mmqa ingest` "
                "again to rebuild the index"
            ) from None
        return cls(index_key=data.get("index_key", ""), embedder=data.get("embedder", ""), papers=papers)

    def save(self, path: Path) -> None:
        """Write to a temporary file, fsync, then rename over the old manifest (atomic on POSIX)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "manifest_version": MANIFEST_VERSION,
            "index_key": self.index_key,
            "embedder": self.embedder,
            "papers": {doc_id: asdict(rec) for doc_id, rec in sorted(self.papers.items())},
        }
        tmp = path.with_name(path.name + ".tmp")
        try:
            with tmp.open("w") as handle:
                json.dump(payload, handle, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)  # the old manifest is untouched; do not leave a half-written copy
            raise

    def paper(self, doc_id: str) -> PaperRecord:
        """The record of ``doc_id``; a one-line MMQAError when it is not indexed."""
        record = self.papers.get(doc_id)
        if record is None:
            raise MMQAError(f"not indexed: {doc_id} (see `mmqa status`)")
        return record

    def surveys(self) -> list[PaperRecord]:
        """Papers ingested as surveys."""
        return [r for r in self.papers.values() if r.survey]

    def live_chunk_ids(self) -> set[str]:
        """Ids of the chunks of every paper's current version (the only ones readers may return)."""
        return {cid for rec in self.papers.values() for cid in rec.chunk_ids}
