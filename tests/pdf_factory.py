"""Small PDFs made on the fly for bad-input tests (pypdf only; the standard Helvetica font)."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject


def _escape(line: bytes) -> bytes:
    return line.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def text_pdf(path: Path, pages: list[list[bytes]], font_size: float = 10) -> Path:
    """A PDF whose pages show the given lines (bytes in the font's WinAnsi encoding)."""
    writer = PdfWriter()
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
    )
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        body = b"".join(b"(" + _escape(line) + b") '\n" for line in lines)
        stream = DecodedStreamObject()
        stream.set_data(b"BT /F1 %.1f Tf %.1f TL 40 770 Td\n" % (font_size, font_size * 1.2) + body + b"ET")
        page[NameObject("/Contents")] = writer._add_object(stream)
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def subset_pdf(source: Path, target: Path, pages: int, password: str | None = None) -> Path:
    """The first ``pages`` pages of ``source``, encrypted (RC4-128) when ``password`` is given.

    An empty ``password`` makes a PDF that opens without one (only the owner password is set).
    """
    writer = PdfWriter()
    for page in PdfReader(str(source)).pages[:pages]:
        writer.add_page(page)
    if password is not None:
        writer.encrypt(user_password=password, owner_password="owner-secret", algorithm="RC4-128")
    with target.open("wb") as handle:
        writer.write(handle)
    return target
