"""Bibliographies: splitting a references section into entries, and finding in-text citations.

Two families of styles are recognised, whatever the page layout (pypdf gives the entries as lines
of running text, one or two columns alike):

- numbered: '[12] A. Author, ...' or '12. A. Author, ...'; the text cites '[12]', '[3, 5]', '[3–5]';
- author–year: 'Author, A., and Other, B. Title. Venue, 2021a.' (year last) or
  'First Last and Other Name. 2021. Title. Venue.' (year after the authors); the text cites
  '(He et al., 2022a)', 'He et al. (2022a)', '(Kim and Lee, 2021; Radford et al., 2021)'.

Entries are found from numbers that follow each other (numbered) or from lines that open with an
author list after a line that closed an entry (author–year). Year suffixes (2023a, 2023b) are taken
as printed; entries whose citation key would collide without one get letters in bibliography order,
which is how natbib assigns them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from itertools import pairwise

from mmqa.parsing.chunker import SectionText
from mmqa.parsing.text import squash
from mmqa.schema import Reference

_YEAR = re.compile(r"(?<![\d/.:-])((?:19|20)\d\d)([a-z]?)(?![\d]|\.\d)")
_ARXIV = re.compile(
    r"(?:arxiv[:\s]\s*|arxiv\.org/(?:abs|pdf)/\s*|abs/)(\d{4}\.\d{4,5})(v\d+)?"  # printed: arXiv:ID, URL, abs/ID
    r"|(?<![\w/.])((?:0[7-9]|[12]\d)(?:0[1-9]|1[0-2])\.\d{4,5})(v\d+)?(?=[,.;\s]|$)",  # a bare new-style id
    re.IGNORECASE,
)
_URL = re.compile(r"(?:URL\s+)?https?:\s?//\S+|doi:\s*\S+", re.IGNORECASE)
_CAPTION = re.compile(r"\s(?:Figure|Table|Fig\.)\s+[A-Z]?\d{1,2}\s*[:.]\s")
_PARTICLES = {"van", "von", "der", "den", "de", "la", "le", "du", "dos", "da", "di", "del", "ter", "ten", "y", "bin"}
_NOT_AUTHORS = {
    "in", "url", "arxiv", "corr", "proceedings", "advances", "journal", "transactions", "association", "ieee",
    "acm", "springer", "pmlr", "technical", "conference", "international", "openreview", "available", "doi",
    "isbn", "online", "curran", "the", "a", "an", "on", "accessed", "retrieved", "preprint", "blog", "tech",
}  # fmt: skip
_NAME_WORD = re.compile(
    r"^(?:[A-Z][A-Za-z]?\.(?:-[A-Z]\.)?"  # an initial: 'J.', 'Th.', 'M.-T.'
    r"|[A-Z\u00c0-\u024f\u0141][\w'’-]*\.?"  # a capitalised name
    r"|[a-z]+|[a-z][’'][A-Z][\w’'-]*)$"  # a particle, or "d’Autume"
)
_INITIAL_END = re.compile(r"(?:^|[\s.-])[A-Z]$")


_LOOSE_ACCENT = re.compile(r"\s?[`\u00b4\u00a8\u02c6\u02dc\u02c7\u00b8\u02d8\u02da\u0300-\u036f]")


def _mend(text: str) -> str:
    """Drop accents pypdf printed as separate marks ('Doll ́ar' -> 'Dollar')."""
    return _LOOSE_ACCENT.sub("", text)


def _name_ok(name: str) -> bool:
    """A plausible printed person name: 1-6 words, capitalised (particles aside), no digits."""
    words = _mend(name).split()
    if not 1 <= len(words) <= 6 or any(ch.isdigit() for ch in name):
        return False
    if words[0].lower().rstrip(":,") in _NOT_AUTHORS:  # 'A.' is an initial, 'A' or 'In' open a title
        return False
    capitals = lowercase = 0
    for word in words:
        if not _NAME_WORD.match(word):
            return False
        if word in _PARTICLES:
            continue
        if word[0].islower():  # 'Ronan Le bras': one lower-case word among capitalised ones
            lowercase += 1
        else:
            capitals += 1
    return capitals >= 1 and (lowercase == 0 or (lowercase == 1 and capitals >= 2 and words[0][0].isupper()))


def split_author_list(text: str) -> tuple[list[str], int] | None:
    """If ``text`` opens with an author list, (authors, offset just after its closing period).

    Handles 'First Last, First Last, and First Last.', 'Last, F., Last, F. M., and Last, F.' and
    'F. Last, F. Last et al.'. Returns None when the opening is not a list of names.
    """
    inverted = re.match(r"^[A-Z][\w'’-]+(?: [\w'’-]+)?, (?:[A-Z]\.|[A-Z]\.-[A-Z]\.)", text) is not None
    if inverted:  # 'Last, F.' style: the list ends at an initial followed by neither ',' nor another initial
        end_match = re.search(r"(?:\bet al\.|[A-Z]\.)(?!\s*[A-Z]\.|,|-|\s+and\s)(?=\s|$)", text[:4000])
    else:  # 'First Last' style: the first period that does not close an initial
        end_match = None
        for m in re.finditer(r"\.(?=\s|$)", text[:4000]):
            if not _INITIAL_END.search(text[max(0, m.start() - 3) : m.start()]):
                end_match = m
                break
    if not end_match:
        return None
    head = text[: end_match.end()].strip().rstrip(".")
    etal = bool(re.search(r",?\s*et al$", head))
    head = re.sub(r",?\s*et al$", "", head)
    parts = [p.strip() for p in re.split(r",\s*and\s+|\s+and\s+|,\s*&\s*|\s+&\s+|,\s+", head) if p.strip()]
    if inverted:
        merged: list[str] = []
        for part in parts:
            if merged and re.fullmatch(r"[A-Z]\.?(?:[-\s]*[A-Z]\.?)*", part) and "," not in merged[-1]:
                merged[-1] = f"{merged[-1]}, {part}"
            else:
                merged.append(part)
        parts = merged
        names = [p.split(",")[0] for p in parts]
    else:
        names = parts
    if not parts or not all(_name_ok(n) for n in names):
        return None
    parts = [re.sub(r"(\b[A-Z])$", r"\1.", _mend(p)) for p in parts]  # 'Houlsby, N' -> 'Houlsby, N.'

    if etal:
        parts.append("others")
    return parts, end_match.end()


def surname(author: str) -> str:
    """The family name of a printed author ('Lastname, F.' or 'First Middle Last')."""
    if "," in author:
        return author.split(",")[0].strip()
    words = [w for w in author.split() if not re.fullmatch(r"[A-Z]\.?|Jr\.?", w)]
    return words[-1] if words else author


def _fold(name: str) -> str:
    """A name for matching: letters only, lower case, diacritics and broken accents dropped."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", name)
    return re.sub(r"[^a-z]", "", "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower())


def _numbered_starts(text: str, line_starts: set[int]) -> tuple[list[tuple[int, int]], str] | None:
    """Offsets (start of marker, start of entry) of '[1]', '[2]', ... or '1.', '2.', ... in order."""
    for style in ("bracket", "dot"):
        found: list[tuple[int, int]] = []
        pos = 0
        n = 1
        while True:
            if style == "bracket":
                pattern = re.compile(rf"\[{n}\]\s*")
            else:
                pattern = re.compile(rf"(?<![\w.,:/–-]){n}\.\s+(?=\S)")
            window = text[pos : pos + 4000]
            matches = [m for m in pattern.finditer(window)]
            if style == "dot":
                at_line = [m for m in matches if pos + m.start() in line_starts]
                matches = at_line or [m for m in matches if n == 1 or m.start() > 0][:1]
            if not matches:
                break
            match = matches[0]
            found.append((pos + match.start(), pos + match.end()))
            pos = pos + match.end()
            n += 1
        if len(found) >= 3 and found[0][0] < 200:
            return found, style
    return None


def _author_year_starts(st: SectionText) -> tuple[list[int], bool]:
    """Offsets where an author–year entry begins (a line opening with an author list, after a line
    that closed an entry when the entry so far has a year), and whether the year follows the authors."""
    text = st.text
    starts = [s for s in st.starts if s < len(text)]
    if not starts:
        return [], False
    lists = {s: split_author_list(text[s : s + 4000]) for s in starts}
    year_first = sum(1 for s, v in lists.items() if v and _YEAR.match(text[s + v[1] :].lstrip()))
    year_first_style = year_first >= 0.3 * max(1, sum(1 for v in lists.values() if v))
    entries = [starts[0]]
    for prev, here in pairwise(starts):
        found = lists[here]
        if not found or not text[prev:here].rstrip().endswith("."):
            continue
        after = text[here + found[1] :].lstrip()
        if year_first_style and not _YEAR.match(after):
            continue
        if not after or after[0] in ",;:)" or (after[0].islower() and len(found[0]) < 2):
            continue
        if _YEAR.search(_URL.sub(" ", text[entries[-1] : here])):
            entries.append(here)
    return entries, year_first_style


def _trim_last(entry: str, year_first: bool) -> str:
    """The last entry of a section runs into whatever follows (figures, tables): cut it back."""
    caption = _CAPTION.search(entry)
    if caption:
        entry = entry[: caption.start()]
    limit = 700
    if len(entry) <= limit:
        return entry
    years = list(_YEAR.finditer(_URL.sub(lambda m: " " * len(m.group()), entry)))
    if not years:
        return entry[:limit]
    year = years[0]
    if year_first:
        end = entry.find(". ", year.end() + 1)
        end = entry.find(". ", end + 2) if end >= 0 else -1
        return entry[: end + 1] if end >= 0 else entry[:limit]
    end = entry.find(". ", year.end())
    return entry[: end + 1] if end >= 0 else entry[:limit]


def _fields(entry: str, key: str) -> Reference:
    """Authors, year, title and printed arXiv id of one entry's text."""
    text = squash(entry)
    arxiv = _ARXIV.search(text.replace("arXiv: ", "arXiv:"))
    arxiv_id = (arxiv.group(1) or arxiv.group(3)) if arxiv else None
    found = split_author_list(text)
    authors, rest = (found[0], text[found[1] :].strip()) if found else ([], text)
    year = ""
    lead = _YEAR.match(rest)
    if lead and rest[lead.end() : lead.end() + 1] in {".", ""}:
        year = lead.group(1) + lead.group(2)
        rest = rest[lead.end() + 1 :].strip()
    else:
        candidates = list(_YEAR.finditer(_URL.sub(lambda m: " " * len(m.group()), text)))
        if candidates:
            year = candidates[-1].group(1) + candidates[-1].group(2)
    title_match = re.match(r"(.+?[.?!])(?=\s+(?:[A-Z(\[]|arXiv|https?:)|\s*$)", rest)
    title = (title_match.group(1) if title_match else rest[:200]).strip().rstrip(".").strip('“”"')
    if not found:  # no author list: an institutional or web entry; its first sentence names it
        title = title if len(title) < 200 else ""
    return Reference(key=key, authors=authors, year=year, title=title, arxiv_id=arxiv_id, text=text[:600],
                     resolved_by="printed" if arxiv_id else "")  # fmt: skip


def _author_year_key(ref: Reference) -> str:
    people = [a for a in ref.authors if a != "others"]
    if not people:
        name = re.split(r"[,.:]", ref.title)[0][:40] or "Anonymous"
    elif len(people) == 1 and "others" not in ref.authors:
        name = surname(people[0])
    elif len(people) == 2 and "others" not in ref.authors:
        name = f"{surname(people[0])} and {surname(people[1])}"
    else:
        name = f"{surname(people[0])} et al."
    return f"{name}, {ref.year or 'n.d.'}"


def _assign_suffixes(refs: list[Reference]) -> None:
    """Give colliding author–year keys the letters a, b, ... (in bibliography order) when not printed."""
    groups: dict[str, list[Reference]] = defaultdict(list)
    for ref in refs:
        groups[ref.key].append(ref)
    for key, same in groups.items():
        if len(same) > 1 and not re.search(r"\d[a-z]$", key):
            for i, ref in enumerate(same):
                ref.key = f"{key}{chr(ord('a') + i)}"
                ref.year = f"{ref.year}{chr(ord('a') + i)}" if ref.year else ref.year


def parse_references(texts: Iterable[SectionText]) -> list[Reference]:
    """The bibliography entries of the sections whose kind is 'references' (empty when there are none)."""
    refs: list[Reference] = []
    for st in texts:
        if st.section.kind != "references" or not st.text.strip():
            continue
        refs.extend(_parse_section(st))
    return refs


def _parse_section(st: SectionText) -> list[Reference]:
    text = st.text
    numbered = _numbered_starts(text, set(st.starts))
    if numbered:
        spans, _ = numbered
        refs = []
        for i, (_, begin) in enumerate(spans):
            end = spans[i + 1][0] if i + 1 < len(spans) else len(text)
            entry = text[begin:end] if i + 1 < len(spans) else _trim_last(text[begin:end], False)
            refs.append(_fields(entry, f"[{i + 1}]"))
        return refs
    starts, year_first = _author_year_starts(st)
    refs = []
    for i, begin in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        entry = text[begin:end] if i + 1 < len(starts) else _trim_last(text[begin:end], year_first)
        ref = _fields(entry, "")
        if not ref.year and not ref.authors:
            continue
        ref.key = _author_year_key(ref)
        refs.append(ref)
    _assign_suffixes(refs)
    return refs


# -- in-text citations ---------------------------------------------------------------------------

_NUMBERED_CITE = re.compile(r"\[(\d{1,3}(?:\s*[,–-]\s*\d{1,3})*)\]")
_NAME = r"[A-Z\u00c0-\u024f][\w'’\u0300-\u036f-]+"
_AUTHOR_YEAR_CITE = re.compile(
    rf"(?P<first>{_NAME})(?:\s+(?:and|&)\s+(?P<second>{_NAME})|\s+(?P<etal>et\s+al\.?))?"
    rf",?\s*\(?\s*(?P<years>(?:19|20)\d\d[a-z]?(?:\s*[,;]\s*(?:(?:19|20)\d\d[a-z]?|[a-z])(?![\w]))*)"
)


class Bibliography:
    """A paper's references with lookups for the citations in its text."""

    def __init__(self, references: list[Reference]) -> None:
        self.references = references
        self.numbered = bool(references) and all(r.key.startswith("[") for r in references)
        self._by_number = {r.key: r for r in references}
        self._by_name_year: dict[tuple[str, str], list[Reference]] = defaultdict(list)
        for ref in references:
            people = [a for a in ref.authors if a != "others"]
            if people and ref.year:
                self._by_name_year[(_fold(surname(people[0])), ref.year)].append(ref)

    def cited(self, text: str) -> list[Reference]:
        """The entries ``text`` cites, in order of first citation, each once."""
        found: dict[str, Reference] = {}
        if self.numbered:
            for match in _NUMBERED_CITE.finditer(text):
                for number in _expand_numbers(match.group(1)):
                    ref = self._by_number.get(f"[{number}]")
                    if ref is not None:
                        found.setdefault(ref.key, ref)
            return list(found.values())
        for match in _AUTHOR_YEAR_CITE.finditer(text):
            for ref in self._match_author_year(match):
                found.setdefault(ref.key, ref)
        return list(found.values())

    def _match_author_year(self, match: re.Match[str]) -> list[Reference]:
        first = _fold(match.group("first"))
        years: list[str] = []
        for token in re.split(r"\s*[,;]\s*", match.group("years")):
            if re.fullmatch(r"[a-z]", token) and years:  # '2021a,b'
                years.append(years[-1][:4] + token)
            elif token:
                years.append(token)
        out = []
        for year in years:
            candidates = self._by_name_year.get((first, year), [])
            if match.group("second"):
                second = _fold(match.group("second"))
                candidates = [r for r in candidates if len(r.authors) > 1 and _fold(surname(r.authors[1])) == second]
            elif match.group("etal"):
                candidates = [r for r in candidates if len(r.authors) > 2] or candidates
            else:
                candidates = [r for r in candidates if len(r.authors) == 1] or candidates
            out.extend(candidates[:1])
        return out


def _expand_numbers(spec: str) -> list[int]:
    """'3, 5–7' -> [3, 5, 6, 7] (ranges capped so a stray '[1-999]' cannot explode)."""
    numbers: list[int] = []
    for part in re.split(r"\s*,\s*", spec):
        bounds = re.split(r"\s*[–-]\s*", part)
        if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
            lo, hi = int(bounds[0]), int(bounds[1])
            if lo <= hi <= lo + 50:
                numbers.extend(range(lo, hi + 1))
        elif part.isdigit():
            numbers.append(int(part))
    return numbers
