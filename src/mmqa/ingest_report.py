"""What an ingest reports: one ``FileResult`` per file, the ``IngestReport`` of a batch, the ``IngestObserver``
that progress bars implement, and the expansion of folders into the PDFs they hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass
class FileResult:
    """What happened to one input file."""

    path: str
    status: str  # added | updated | unchanged | failed
    doc_id: str = ""
    title: str = ""
    pages: int = 0
    chunks: int = 0
    reason: str = ""
    seconds: float = 0.0
    sentences: int = 0
    reused: int = 0  # vectors taken from the embedding cache instead of being computed
    renamed: bool = False  # an unchanged paper whose title and names were read again (nothing re-embedded)
    timings: dict[str, float] = field(default_factory=dict)  # parse, parse_work, chunk, embed, store (seconds)


@dataclass
class IngestReport:
    """The outcome of one ``ingest`` call."""

    files: list[FileResult] = field(default_factory=list)

    @property
    def failed(self) -> list[FileResult]:
        """Files that could not be ingested."""
        return [f for f in self.files if f.status == "failed"]

    @property
    def ok(self) -> bool:
        """True unless every file failed (or there was nothing to ingest)."""
        return any(f.status != "failed" for f in self.files)

    def summary(self) -> str:
        """'2 added, 1 unchanged; 40 vectors reused from the embedding cache' (or 'nothing to ingest')."""
        counts: dict[str, int] = {}
        for f in self.files:
            counts[f.status] = counts.get(f.status, 0) + 1
        text = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing to ingest"
        reused = sum(f.reused for f in self.files)
        return f"{text}; {reused} vectors reused from the embedding cache" if reused else text


class IngestObserver(Protocol):
    """Progress callbacks (the CLI draws a progress bar with them)."""

    def file_started(self, path: Path, index: int, total: int) -> None:
        """A file is about to be processed."""

    def embedding(self, done: int, total: int) -> None:
        """``done`` of ``total`` texts (chunks, then their sentences) of the current file are embedded."""

    def file_done(self, result: FileResult) -> None:
        """A file finished (in any status)."""


class Silent:
    """An observer that shows nothing."""

    def file_started(self, path: Path, index: int, total: int) -> None:
        pass

    def embedding(self, done: int, total: int) -> None:
        pass

    def file_done(self, result: FileResult) -> None:
        pass


def expand_paths(paths: list[Path]) -> tuple[list[Path], list[FileResult]]:
    """PDF files named directly or found under folders (sorted); missing paths and empty folders fail."""
    files: list[Path] = []
    problems: list[FileResult] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".pdf")
            if not found:
                problems.append(FileResult(str(path), "failed", reason="folder holds no PDF files"))
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            problems.append(FileResult(str(path), "failed", reason="no such file or folder"))
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return unique, problems
