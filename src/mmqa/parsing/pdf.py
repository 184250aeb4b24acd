"""Reading a PDF with pypdf: page texts, outline, page labels, the title, with clear errors."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from mmqa.errors import InputError, describe
from mmqa.parsing.text import normalize
from mmqa.parsing.title import mended, sound_metadata_title, title_block

log = logging.getLogger(__name__)


@dataclass
class OutlineEntry:
    """One bookmark: its title, depth and 1-based target page."""

    title: str
    depth: int
    page: int


@dataclass
class RawPdf:
    """What pypdf gives us, before any structure is inferred."""

    path: Path
    sha256: str
    page_lines: list[list[str]]
    page_labels: list[str]
    has_page_labels: bool
    outline: list[OutlineEntry]
    title_guess: str
    lost_pages: list[int] = field(default_factory=list)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_pdf_file(path: Path) -> None:
    """Raise InputError unless ``path`` is a readable, non-empty file that starts like a PDF."""
    if not path.exists():
        raise InputError(str(path), "no such file")
    if not path.is_file():
        raise InputError(str(path), "not a file")
    try:
        with path.open("rb") as handle:
            head = handle.read(1024)
    except OSError as exc:
        raise InputError(str(path), f"cannot read the file ({describe(exc)})") from exc
    if not head:
        raise InputError(str(path), "empty file (0 bytes)")
    if b"%PDF-" not in head:
        preview = head[:12].decode("latin-1").strip()
        preview = "".join(ch if ch.isprintable() else "?" for ch in preview)
        raise InputError(str(path), f"not a PDF (starts with {preview!r})")


class _PypdfToDebug(logging.Handler):
    """Passes pypdf's records on at debug level: its warnings (1,414 'fontTools is required' on one real
    117-page file) and errors about damaged objects it works around mean nothing to a user."""

    def emit(self, record: logging.LogRecord) -> None:
        log.debug("pypdf: %s", record.getMessage())


def _quiet_pypdf() -> None:
    pypdf_log = logging.getLogger("pypdf")
    if not any(isinstance(h, _PypdfToDebug) for h in pypdf_log.handlers):
        pypdf_log.addHandler(_PypdfToDebug())
        pypdf_log.propagate = False


def _unreadable(path: Path, exc: BaseException) -> str:
    """The reason for a file pypdf gave up on, saying so when the file is cut short (an interrupted download)."""
    log.debug("%s: pypdf could not read it", path, exc_info=exc)
    reason = describe(exc)
    try:
        with path.open("rb") as handle:
            junk_first = not handle.read(5).startswith(b"%PDF-")
            handle.seek(max(0, path.stat().st_size - 2048))
            cut_short = b"%%EOF" not in handle.read()
    except OSError:
        junk_first = cut_short = False
    if junk_first:
        reason += "; other bytes come before its %PDF- header"
    if cut_short:
        reason += "; the file looks cut short: no %%EOF at its end"
    return f"unreadable PDF ({reason})"


def _decrypt(reader, path: Path, password: str | None) -> None:
    # Many publishers' PDFs are encrypted with an empty user password: they open without asking.
    if reader.decrypt(""):
        return
    if password is None:
        raise InputError(str(path), "encrypted PDF (a password is needed)")
    if not reader.decrypt(password):
        raise InputError(str(path), "encrypted PDF (the password given does not open it)")


def _open_reader(path: Path, password: str | None):  # -> pypdf.PdfReader (import kept lazy)
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            _decrypt(reader, path, password)
        _ = len(reader.pages)
    except InputError:
        raise
    except DependencyError as exc:  # AES needs `cryptography`, a dependency: only a broken install gets here
        raise InputError(str(path), f"encrypted PDF that pypdf cannot decrypt here ({describe(exc)})") from exc
    except Exception as exc:  # pypdf raises many types on damaged files; all mean the same here
        raise InputError(str(path), _unreadable(path, exc)) from exc
    return reader


def _outline(reader) -> list[OutlineEntry]:
    entries: list[OutlineEntry] = []

    def walk(items, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            try:
                page = reader.get_destination_page_number(item) + 1
            except Exception:  # a bookmark to a missing page is skipped, not fatal
                continue
            if 1 <= page <= len(reader.pages):
                entries.append(OutlineEntry(normalize(str(item.title)).strip(), depth, page))

    try:
        walk(reader.outline, 0)
    except Exception as exc:
        log.warning("ignoring unreadable outline: %s", exc)
        return []
    return entries


def _page_labels(reader) -> tuple[list[str], bool]:
    try:
        has_labels = "/PageLabels" in reader.trailer["/Root"]
        labels = list(reader.page_labels)
    except Exception:
        has_labels, labels = False, []
    if len(labels) != len(reader.pages):
        labels = [str(i + 1) for i in range(len(reader.pages))]
    return labels, has_labels


def paper_title(reader, first_page_text: str) -> str:
    """The metadata title when it is sound, else the title block atop page 1 (see ``parsing.title``)."""
    try:
        meta_title = (reader.metadata or {}).get("/Title")
    except Exception:  # damaged info dictionary: fall back on the page
        meta_title = None
    title = sound_metadata_title(str(meta_title) if meta_title else "", first_page_text)
    return title or mended(title_block(reader.pages[0]), first_page_text)


def read_pdf(path: Path, password: str | None = None) -> RawPdf:
    """Read ``path`` into a RawPdf. Pages whose text cannot be extracted are recorded in ``lost_pages``.

    ``password`` opens an encrypted PDF whose empty password does not; it is used here and kept nowhere.
    Raises InputError, and nothing else, for any file that cannot be read.
    """
    check_pdf_file(path)
    _quiet_pypdf()
    reader = _open_reader(path, password)
    try:
        return _read(path, reader)
    except InputError:
        raise
    except RecursionError as exc:
        raise InputError(str(path), "unreadable PDF (nested too deeply)") from exc
    except Exception as exc:
        raise InputError(str(path), _unreadable(path, exc)) from exc


def _has_annotation_text(reader) -> bool:
    """True when some page carries text in its annotations (comments, FreeText boxes) rather than its content."""
    try:
        return any(
            str(annot.get_object().get("/Contents", "")).strip()
            for page in reader.pages
            for annot in (page.get("/Annots") or [])
        )
    except Exception:
        return False


def _read(path: Path, reader) -> RawPdf:
    page_lines: list[list[str]] = []
    lost: list[int] = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            text = page.extract_text() or ""
        except Exception as exc:
            log.warning("%s: page %d: text lost (%s)", path.name, number, exc)
            text = ""
            lost.append(number)
        page_lines.append([normalize(line) for line in text.split("\n")])
    if not any(line.strip() for lines in page_lines for line in lines):
        if lost:
            raise InputError(str(path), f"no page could be read ({len(lost)} pages damaged)")
        if _has_annotation_text(reader):
            raise InputError(str(path), "no text layer (its only text is in annotations, which are not indexed)")
        raise InputError(str(path), "no text layer (scanned or image-only PDF; OCR it first)")
    labels, has_labels = _page_labels(reader)
    title = paper_title(reader, "\n".join(page_lines[0])) if reader.pages else ""
    return RawPdf(
        path=path,
        sha256=sha256_file(path),
        page_lines=page_lines,
        page_labels=labels,
        has_page_labels=has_labels,
        outline=_outline(reader),
        title_guess=title,
        lost_pages=lost,
    )
