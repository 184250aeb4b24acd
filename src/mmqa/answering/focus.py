"""Which of the scored sentences an extractive answer quotes.

A question about one thing is answered from the passage that answers it: the first-ranked passage
holding a sentence that scores close to the best. The answer stays on that passage's pages of that
paper, so every citation points where the answer is: it quotes the close-scoring sentences there,
and the sentence right after the best of them, which often finishes its thought ('... we shuffle the
sample order ...' followed by 'This ensures the batch statistics ...'). A question that compares two or
more papers it names ('How does BLIP differ from CoCa?') quotes the best sentence of each.
"""

from __future__ import annotations

from mmqa.answering.quotes import opens_list_item
from mmqa.schema import Passage

Scored = tuple[float, int, int, str]  # (score, passage rank, sentence position, sentence)
# The passage that answers holds a sentence this close to the best score. Fixed, so that a longer answer
# (a wider quoting window, ``ask --long``) stays on the same passage and only adds to the short one.
FOCUS_WINDOW = 0.15


def select(
    scored: list[Scored], passages: list[Passage], compared: frozenset[str], most: int, window: float
) -> list[Scored]:
    """Up to ``most`` sentences of ``scored`` (best first) to quote, in reading order. ``compared``: the papers
    (doc ids) a question compares, when it compares two or more."""
    firsts = [next((s for s in scored if passages[s[1]].doc_id == doc), None) for doc in sorted(compared)]
    firsts = sorted((s for s in firsts if s is not None), key=lambda s: (-s[0], s[1], s[2]))
    if len(firsts) >= 2:
        rest = [s for s in scored if passages[s[1]].doc_id in compared]
        return sorted(_distinct(firsts[:most], rest, most, scored[0][0] - window), key=_reading_order)
    focus = passages[min(item[1] for item in scored if item[0] >= scored[0][0] - FOCUS_WINDOW)]
    on_focus = [item for item in scored if _on_pages_of(passages[item[1]], focus)]
    best = on_focus[0]
    chosen = _distinct([best], on_focus, most, scored[0][0] - window)
    # The sentence after the best comes on top of ``most``, so a longer answer only ever adds to a shorter one.
    # Not after a table's row, nor a new list item: the next row or item is another entry, not the rest of a thought.
    after_best = passages[best[1]].meta.get("kind") != "table"
    following = [
        item for item in on_focus
        if after_best and item[1] == best[1] and item[2] == best[2] + 1 and not opens_list_item(item[3])
    ]  # fmt: skip
    return sorted(_distinct(chosen, following, most + 1, float("-inf")), key=_reading_order)


def _distinct(chosen: list[Scored], candidates: list[Scored], most: int, floor: float) -> list[Scored]:
    """``chosen`` extended by the ``candidates`` scoring at least ``floor`` that repeat none of it, up to ``most``."""
    chosen = list(chosen)
    for item in candidates:
        if len(chosen) >= most or item[0] < floor:
            break
        if not any(item[3] in c[3] or c[3] in item[3] for c in chosen):
            chosen.append(item)
    return chosen


def _on_pages_of(passage: Passage, focus: Passage) -> bool:
    """Same paper, and the page ranges overlap."""
    overlap = passage.page_start <= focus.page_end and focus.page_start <= passage.page_end
    return passage.doc_id == focus.doc_id and overlap


def _reading_order(item: Scored) -> tuple[int, int]:
    return item[1], item[2]
