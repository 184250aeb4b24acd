"""Small PDFs made on the fly for bad-input tests (pypdf only; the standard Helvetica font)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    bodies = [b"".join(b"(" + _escape(line) + b") '\n" for line in lines) for lines in pages]
    return _write_pages(writer, font, bodies, font_size, path)


def _write_pages(writer: PdfWriter, font: Any, bodies: list[bytes], font_size: float, path: Path) -> Path:
    """One page per body of text-showing operators, in font /F1, one line each; then write the file."""
    for body in bodies:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
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
    bodies = [
        b"".join(b"<" + "".join(f"{code[ch]:04X}" for ch in line).encode() + b"> '\n" for line in lines)
        for lines in pages
    ]
    return _write_pages(writer, font, bodies, font_size, path)


SURVEY_PAGES: list[list[str]] = [
    [
        "A Survey of Vision Foundation Models for Testing",
        "Test Author and Other Author",
        "Abstract",
        "We review how transformers, residual networks and language supervision shaped vision models.",
        "The survey is short and made for tests; it cites papers in author-year style.",
        "1 Introduction",
        "Transformers (Vaswani et al., 2017) replaced recurrence with attention in sequence models.",
        "Convolutional networks (LeCun et al., 1998) came first and still matter for images.",
        "This survey follows both lines of work and asks which ideas carried over to vision.",
        "2 Visual Understanding",
        "Visual understanding models learn representations from images at scale.",
        "2.1 Image Classification",
        "Dosovitskiy et al. (2021) applied transformers to sequences of image patches, building on",
        "residual networks (He et al., 2016a;b) that made very deep models trainable.",
        "Image classification remains the standard benchmark for such backbones.",
        "2.2 Language Supervision",
        "Contrastive pre-training (Radford et al., 2021; Kim and Lee, 2021) links images and text,",
        "again with the attention layers of Vaswani et al. (2017) as the building block.",
        "3 Conclusion",
        "Attention, residual connections and language supervision are the shared ingredients.",
    ],
    [
        "References",
        "Dosovitskiy, A., Beyer, L., Kolesnikov, A., Weissenborn, D., Zhai, X., and Houlsby, N. An image",
        "is worth 16x16 words: Transformers for image recognition at scale. In ICLR, 2021. arXiv:2010.11929.",
        "He, K., Zhang, X., Ren, S., and Sun, J. Deep residual learning for image recognition. In CVPR, 2016a.",
        "He, K., Zhang, X., Ren, S., and Sun, J. Identity mappings in deep residual networks. In ECCV,",
        "2016b.",
        "Kim, W. and Lee, J. Two-author citations in vision-language pretraining. arXiv preprint",
        "arXiv:2102.03334, 2021.",
        "LeCun, Y., Bottou, L., Bengio, Y., and Haffner, P. Gradient-based learning applied to document",
        "recognition. Proceedings of the IEEE, 1998.",
        "Radford, A., Kim, J. W., Hallacy, C., and Sutskever, I. Learning transferable visual models from",
        "natural language supervision. In ICML, 2021. URL https://arxiv.org/abs/2103.00020v1.",
        "Vaswani, A., Shazeer, N., Parmar, N., Uszkoreit, J., Jones, L., Gomez, A. N., Kaiser, L., and",
        "Polosukhin, I. Attention is all you need. In NeurIPS, 2017.",
    ],
]


def survey_pdf(path: Path) -> Path:
    """A survey-shaped paper: numbered sections citing in author-year style, then a bibliography whose
    entries have a printed arXiv id (ViT, CLIP, Kim and Lee) or only a title (Transformer, ResNet,
    LeCun, He 2016b)."""
    return text_pdf(path, [[line.encode("cp1252") for line in page] for page in SURVEY_PAGES])
