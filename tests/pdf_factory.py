"""Small PDFs made on the fly for bad-input tests (pypdf only; the standard Helvetica font)."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject, NumberObject, TextStringObject


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


def _to_unicode_cmap(chars: list[str]) -> bytes:
    """A ToUnicode CMap mapping code i+1 to chars[i] (UTF-16BE, so astral symbols work too)."""
    lines = [
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
        b"1 begincodespacerange <0000> <FFFF> endcodespacerange",
    ]
    for start in range(0, len(chars), 100):
        block = chars[start : start + 100]
        lines.append(b"%d beginbfchar" % len(block))
        for i, ch in enumerate(block, start=start + 1):
            lines.append(b"<%04X> <%s>" % (i, ch.encode("utf-16-be").hex().upper().encode()))
        lines.append(b"endbfchar")
    lines.append(b"endcmap CMapName currentdict /CMap defineresource pop end end")
    return b"\n".join(lines)


def unicode_pdf(path: Path, pages: list[list[str]], font_size: float = 10) -> Path:
    """A PDF whose text layer holds any Unicode (Hebrew, Arabic, math symbols, ligatures).

    A Type0 font with Identity-H encoding and a ToUnicode map: text extraction reads the map, so no
    font program is needed (viewers show boxes; pypdf reads the real characters).
    """
    chars = sorted({ch for lines in pages for line in lines for ch in line})
    code = {ch: i for i, ch in enumerate(chars, start=1)}
    writer = PdfWriter()
    cmap = DecodedStreamObject()
    cmap.set_data(_to_unicode_cmap(chars))
    descriptor = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/FontDescriptor"),
                NameObject("/FontName"): NameObject("/MMQATest"),
                NameObject("/Flags"): NumberObject(4),
                NameObject("/FontBBox"): ArrayObject([NumberObject(v) for v in (0, -200, 1000, 800)]),
                NameObject("/ItalicAngle"): NumberObject(0),
                NameObject("/Ascent"): NumberObject(800),
                NameObject("/Descent"): NumberObject(-200),
                NameObject("/CapHeight"): NumberObject(700),
                NameObject("/StemV"): NumberObject(80),
            }
        )
    )
    cid_font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/CIDFontType2"),
                NameObject("/BaseFont"): NameObject("/MMQATest"),
                NameObject("/CIDSystemInfo"): DictionaryObject(
                    {
                        NameObject("/Registry"): TextStringObject("Adobe"),
                        NameObject("/Ordering"): TextStringObject("Identity"),
                        NameObject("/Supplement"): NumberObject(0),
                    }
                ),
                NameObject("/DW"): NumberObject(500),
                NameObject("/FontDescriptor"): descriptor,
            }
        )
    )
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type0"),
                NameObject("/BaseFont"): NameObject("/MMQATest"),
                NameObject("/Encoding"): NameObject("/Identity-H"),
                NameObject("/DescendantFonts"): ArrayObject([cid_font]),
                NameObject("/ToUnicode"): writer._add_object(cmap),
            }
        )
    )
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        body = b"".join(b"<" + "".join(f"{code[ch]:04X}" for ch in line).encode() + b"> '\n" for line in lines)
        stream = DecodedStreamObject()
        stream.set_data(b"BT /F1 %.1f Tf %.1f TL 40 770 Td\n" % (font_size, font_size * 1.2) + body + b"ET")
        page[NameObject("/Contents")] = writer._add_object(stream)
    with path.open("wb") as handle:
        writer.write(handle)
    return path
