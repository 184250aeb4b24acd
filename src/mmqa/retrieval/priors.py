"""What the wording of a question says about where its answer is, beyond word and vector similarity.

- A question that names a paper ("Why did the Transformer authors ...") is about that paper: its
  passages get a bonus. Papers are named by the aliases read from their front matter at ingest
  (``parsing.names``), so "the Transformer" finds "Attention Is All You Need".
- A question that asks what an acronym stands for is answered where the acronym is spelled out:
  those passages come first, and of a paper's, the earliest (the definition, not a later reminder).
- Abstract, introduction and conclusion restate the body's claims in brief; when a body passage scores
  within a few per cent of such a restatement, the body passage is the better citation and ranks first.
- A passage is read in its context: where a paper discusses what is asked, the passages around the
  answer are on topic too, while a passage that merely mentions it sits among unrelated ones. Part of
  the score of the passages just before and after it in its section is added to a passage's own.
- A question about a table ("In ViT's table of model variants, ...") is answered by the table: passages
  holding a table's caption (a table's rows come under it) get a small bonus.
- A question that names a paper as where to look ("the efficient-Transformers survey's table ...
  Perceiver") is answered there: only that paper's passages get the named-paper bonus.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TypeVar

Item = TypeVar("Item", bound=Hashable)

_SUMMARY_TITLE = re.compile(r"abstract|introduction|conclusions?( and future work)?|summary|concluding remarks")
# A name counts when it stands as a word: "ViT-B/16" names ViT, "Transformer-based" names no paper.
_NAME_END = r"(?![\w]|-(?:based|like|style|type)\b)"
_SPACE_OR_HYPHEN = r"[\s-]+"
_TABLE_WORD = re.compile(r"\btables?\b", re.IGNORECASE)
# In running text a caption shows as 'Table 1: Summary of ...'; 'in Table 1.' ends a sentence that cites it.
_TABLE_CAPTION_IN_TEXT = re.compile(r"\bTable\s*[A-Z]?\d+\s*:")


# A name that this many papers define in their front matter is a word of the field ('ViT' once papers build
# on ViT), not the name of one of them.
FIELD_TERM_PAPERS = 3
_STOP = {"with", "from", "that", "this", "what", "which", "does", "paper", "their", "they", "when", "into", "about",
         "using", "over", "than", "them", "have", "between", "model", "method", "approach"}  # fmt: skip


class PaperNames:
    """What each name points to across the whole index, and which names are ambiguous.

    A name is ambiguous when two papers claim it as their own (two DINOs), or when ``FIELD_TERM_PAPERS``
    papers define it in their front matter (it has become a word of the field). An ambiguous name
    names a paper only where the question also has a word of that paper's title that the other
    papers using the name lack ('self-supervised DINO').
    """

    def __init__(self, names: Mapping[str, Sequence[str]], titles: Mapping[str, str] | None = None,
                 terms: Mapping[str, Sequence[str]] | None = None) -> None:  # fmt: skip
        self.claims: dict[str, set[str]] = {}
        for doc, aliases in names.items():
            for name in aliases:
                if name:
                    self.claims.setdefault(name, set()).add(doc)
        users = {name: set(docs) for name, docs in self.claims.items()}
        for doc, defined in (terms or {}).items():
            for name in defined:
                users.setdefault(name, set()).add(doc)
        self.users = users
        self.ambiguous = {
            name for name, docs in self.claims.items() if len(docs) > 1 or len(users[name]) >= FIELD_TERM_PAPERS
        }
        self.title_words = {doc: _content_words(title) for doc, title in (titles or {}).items()}

    @classmethod
    def from_manifest(cls, manifest) -> PaperNames:
        """The names of every paper in ``manifest`` (an ``index.manifest.Manifest``)."""
        papers = manifest.papers
        return cls({d: r.names() for d, r in papers.items()}, {d: r.title for d, r in papers.items()},
                   {d: r.terms for d, r in papers.items()})  # fmt: skip

    def named(self, question: str) -> set[str]:
        """The papers (doc ids) that ``question`` names; longer names win, so "Vision Transformer" names ViT
        and not the Transformer. Matching is case-sensitive."""
        taken: list[tuple[int, int]] = []
        found: set[str] = set()
        for name in sorted(self.claims, key=lambda n: (-len(n), n)):
            if name not in question:  # cheap, and spares compiling a pattern per name in a new process
                continue
            for match in re.finditer(rf"(?<![\w-]){re.escape(name)}{_NAME_END}", question):
                if any(start <= match.start() < end or start < match.end() <= end for start, end in taken):
                    continue
                taken.append(match.span())
                found |= self._resolve(name, question)
        return found

    def where_to_look(self, question: str) -> set[str]:
        """The papers ``question`` names as where to look: a name (in any case, a hyphen for a space) right
        before 'survey', 'paper' or 'authors' ('the efficient-Transformers survey's summary table'). The other
        papers it names are then what it asks about ('... characterize Perceiver'), not where the answer is."""
        lowered = question.lower()
        found: set[str] = set()
        for name, docs in self.claims.items():
            words = [w for w in re.split(_SPACE_OR_HYPHEN, name.lower()) if w]
            if name in self.ambiguous or not words or words[0] not in lowered:
                continue
            spelled = _SPACE_OR_HYPHEN.join(re.escape(w) for w in words)
            if re.search(rf"(?<![\w-]){spelled}\s+(?:survey|paper|authors)\b", lowered):
                found |= docs
        return found

    def _resolve(self, name: str, question: str) -> set[str]:
        """The papers ``name`` stands for in ``question``."""
        docs = self.claims[name]
        if name not in self.ambiguous:
            return set(docs)
        asked = _content_words(question) - _content_words(name)
        chosen = set()
        for doc in docs:
            others = set().union(*(self.title_words.get(o, set()) for o in self.users[name] if o != doc))
            if asked & (self.title_words.get(doc, set()) - others):
                chosen.add(doc)
        return chosen


def named_papers(question: str, names: Mapping[str, Sequence[str]]) -> set[str]:
    """The papers (doc ids) that ``question`` names by one of their ``names`` (see ``PaperNames.named``)."""
    return PaperNames(names).named(question)


def _content_words(text: str) -> set[str]:
    """Lower-case words of four letters or more, a plural 's' dropped: 'Self-Supervised' -> {'self', 'supervised'}."""
    words = {w.lower() for w in re.findall(r"[A-Za-z0-9]+", text)}
    return {w[:-1] if w.endswith("s") and len(w) > 4 else w for w in words if len(w) >= 4 and w not in _STOP}


def asks_about_table(question: str) -> bool:
    """Does ``question`` ask about a table ('In ViT's table of model variants', 'the summary table')?"""
    return _TABLE_WORD.search(question) is not None


def holds_table_caption(text: str, meta: Mapping[str, object]) -> bool:
    """Is this passage a table's caption (the chunker labelled it 'Table N'), or running text (a table's rows)
    with the caption in it?"""
    if meta.get("kind") == "caption":
        return str(meta.get("figure", "")).startswith("Table")
    return _TABLE_CAPTION_IN_TEXT.search(text) is not None


def is_summary_section(title: str) -> bool:
    """Abstract, introduction and conclusion restate what the body says in full."""
    return _SUMMARY_TITLE.fullmatch(title.strip(" .:").lower()) is not None


def boost(fused: Sequence[tuple[Hashable, float]], chosen: Callable[[Hashable], bool], bonus: float):
    """Add ``bonus`` (a share of the best fused score, so it means the same under any fusion; negative
    to demote) to the scores of the ``chosen`` items, and re-sort. Best first."""
    if not fused or bonus == 0:
        return list(fused)
    step = bonus * max(score for _, score in fused)
    return _added(fused, lambda item: step if chosen(item) else 0.0)


def _definers(
    ranked: Sequence[Hashable],
    defining: Callable[[Hashable], bool],
    paper_of: Callable[[Hashable], Hashable],
    position_of: Callable[[Hashable], tuple[int, int]],
) -> list[Hashable]:
    """The ``defining`` items: papers in the order their best definition ranks, within a paper in reading order."""
    definers = [item for item in ranked if defining(item)]
    paper_rank: dict[Hashable, int] = {}
    for item in definers:
        paper_rank.setdefault(paper_of(item), len(paper_rank))
    return sorted(definers, key=lambda item: (paper_rank[paper_of(item)], position_of(item)))


def definitions_first(
    ranked: Sequence[Hashable],
    defining: Callable[[Hashable], bool],
    paper_of: Callable[[Hashable], Hashable],
    position_of: Callable[[Hashable], tuple[int, int]],
) -> list[Hashable]:
    """Move the ``defining`` items to the front: papers in the order their best definition ranks,
    and within a paper in reading order (``position_of``: page, chunk index). The rest keep their order."""
    definers = _definers(ranked, defining, paper_of, position_of)
    chosen = set(definers)
    return definers + [item for item in ranked if item not in chosen]


def first_definition_first(
    ranked: Sequence[Hashable],
    defining: Callable[[Hashable], bool],
    paper_of: Callable[[Hashable], Hashable],
    position_of: Callable[[Hashable], tuple[int, int]],
) -> list[Hashable]:
    """Move one ``defining`` item to the front: of the paper whose definition ranks best, the first in
    reading order (the introduction of a term, not a later use). The rest keep their order."""
    first = _definers(ranked, defining, paper_of, position_of)[:1]
    return first + [item for item in ranked if item not in first]


def in_context(
    fused: Sequence[tuple[Item, float]], neighbours: Mapping[Item, Sequence[Item]], weight: float
) -> list[tuple[Item, float]]:
    """Add ``weight`` × the mean score of each item's two ``neighbours`` (the passages before and after it;
    one that is missing, or not among the scored items, counts as 0) to its score, and re-sort. Best first.

    The scores are those after the other priors, and ``weight`` was chosen for convex fusion: under
    rank fusion the scores are compressed, and the same weight acts with another strength."""
    if weight == 0:
        return list(fused)
    scores = dict(fused)
    return _added(fused, lambda item: weight * sum(scores.get(n, 0.0) for n in neighbours.get(item, ())) / 2)


def _added(fused: Sequence[tuple[Item, float]], extra: Callable[[Item], float]) -> list[tuple[Item, float]]:
    """Each item's score plus ``extra(item)``, best first."""
    return sorted(((item, score + extra(item)) for item, score in fused), key=lambda pair: pair[1], reverse=True)
