"""PDF pages as PNG images (pypdfium2), cached on disk so a page is rendered once per paper version."""

from __future__ import annotations

import os
from pathlib import Path

from mmqa.errors import MMQAError

DEFAULT_SCALE = 1.5  # 108 dpi: readable in a source card, ~150 KB a page


def page_image_path(cache_dir: Path, doc_id: str, sha256: str, page: int) -> Path:
    """Where the image of ``page`` of one paper version is cached: ``cache_dir/<doc>/<sha12>-p<N>.png``."""
    safe_doc = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in doc_id).lstrip(".") or "doc"
    return cache_dir / safe_doc / f"{sha256[:12]}-p{page}.png"


def render_page(pdf_path: Path, page: int, target: Path, scale: float = DEFAULT_SCALE) -> Path:
    """Render 1-based ``page`` of ``pdf_path`` to the PNG ``target`` (kept if it exists; written atomically)."""
    if target.exists():
        return target
    import pypdfium2 as pdfium

    if not pdf_path.is_file():
        raise MMQAError(f"cannot show page {page}: the PDF is no longer at {pdf_path}")
    try:
        document = pdfium.PdfDocument(str(pdf_path))
    except pdfium.PdfiumError as exc:
        raise MMQAError(f"cannot show page {page} of {pdf_path.name}: {exc}") from None
    try:
        if not 1 <= page <= len(document):
            raise MMQAError(f"{pdf_path.name} has no page {page} (it has {len(document)})")
        image = document[page - 1].render(scale=scale).to_pil()
    finally:
        document.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    image.save(tmp, format="PNG")
    os.replace(tmp, target)
    return target
