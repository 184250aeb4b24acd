"""BibTeX from what was parsed or looked up, never more: a field that is not known is left out."""

from __future__ import annotations

import re
import unicodedata

from mmqa.parsing.references import surname
from mmqa.schema import Reference

_SPECIAL = re.compile(r"([&%$#_])")


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isascii() and (ch.isalnum()))


def _escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text.replace("{", "").replace("}", ""))


def citation_key(ref: Reference) -> str:
    """'he2016deep': first author's family name, year, first word of the title (ASCII letters and digits)."""
    people = [a for a in ref.authors if a != "others"]
    name = _ascii(surname(people[0])).lower() if people else ""
    word = next((_ascii(w).lower() for w in ref.title.split() if len(_ascii(w)) > 3), "")
    key = f"{name}{ref.year}{word}" or (f"arxiv{ref.arxiv_id}" if ref.arxiv_id else "ref")
    return key


def bibtex_entry(ref: Reference) -> str:
    """One ``@misc`` entry with the fields that are known (title, author, year, eprint)."""
    fields: list[tuple[str, str]] = []
    if ref.title:
        fields.append(("title", "{" + _escape(ref.title) + "}"))
    if ref.authors:
        fields.append(("author", "{" + _escape(" and ".join(ref.authors)) + "}"))
    year = re.match(r"\d{4}", ref.year or "")
    if year:
        fields.append(("year", "{" + year.group() + "}"))
    if ref.arxiv_id:
        fields.extend([("eprint", "{" + ref.arxiv_id + "}"), ("archivePrefix", "{arXiv}")])
    body = ",\n".join(f"  {name} = {value}" for name, value in fields)
    return f"@misc{{{citation_key(ref)},\n{body}\n}}"


def bibtex(refs: list[Reference]) -> str:
    """Entries for ``refs``, one per citation key (later duplicates dropped), blank-line separated."""
    seen: set[str] = set()
    out = []
    for ref in refs:
        key = citation_key(ref)
        if key in seen:
            continue
        seen.add(key)
        out.append(bibtex_entry(ref))
    return "\n\n".join(out)
