"""Reciprocal rank fusion and section diversity, independent of where the rankings come from."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Hashable]], weights: Sequence[float], k: int = 60
) -> list[tuple[Hashable, float]]:
    """Fuse ranked id lists: score(id) = sum_i w_i / (k + rank_i(id)), rank 1-based. Best first."""
    scores: dict[Hashable, float] = defaultdict(float)
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            scores[item] += weight / (k + rank)
    return sorted(scores.items(), key=lambda pair: pair[1], reverse=True)


def convex_fusion(
    dense: dict[Hashable, float],
    lexical: dict[Hashable, float],
    dense_weight: float,
    trusted_similarity: float = 0.0,
) -> list[tuple[Hashable, float]]:
    """Fuse two score maps over the same candidates: w * minmax(dense) + (1 - w) * lexical / max(lexical).

    Unlike rank fusion this keeps how *far* ahead a candidate is, so a passage that one retriever
    puts clearly first is not buried under passages both retrievers find mediocre. When even the best
    dense similarity is below ``trusted_similarity``, w shrinks in proportion: min-max scaling would
    otherwise stretch differences between passages none of which is close to the question.
    """
    items = list(dict.fromkeys([*dense, *lexical]))
    if not items:
        return []
    d_values = [dense.get(i, 0.0) for i in items]
    d_lo, d_hi = min(d_values), max(d_values)
    d_span = (d_hi - d_lo) or 1.0
    if trusted_similarity > 0:
        dense_weight *= min(1.0, max(d_hi, 0.0) / trusted_similarity)
    l_hi = max(lexical.values(), default=0.0) or 1.0
    fused = [
        (i, dense_weight * (dense.get(i, d_lo) - d_lo) / d_span + (1 - dense_weight) * lexical.get(i, 0.0) / l_hi)
        for i in items
    ]
    return sorted(fused, key=lambda pair: pair[1], reverse=True)


def diversify(items: Sequence[Hashable], group_of: Callable[[Hashable], Hashable], per_group: int) -> list[Hashable]:
    """Reorder so that no group has more than ``per_group`` items before every group had its turn.

    Items over the cap keep their relative order and follow the capped list.
    """
    if per_group <= 0:
        return list(items)
    seen: dict[Hashable, int] = defaultdict(int)
    head: list[Hashable] = []
    tail: list[Hashable] = []
    for item in items:
        group = group_of(item)
        if seen[group] < per_group:
            head.append(item)
        else:
            tail.append(item)
        seen[group] += 1
    return head + tail


def each_group_in_top(
    ranked: Sequence[Hashable], groups: Iterable[Hashable], group_of: Callable[[Hashable], Hashable], k: int
) -> list[Hashable]:
    """Reorder so that each of ``groups`` that has an item has its best one among the first ``k``: it takes the
    place of the last of the first ``k`` whose group has another item there. The rest keep their order."""
    head = list(ranked[:k])
    for group in groups:
        best = next((item for item in ranked if group_of(item) == group), None)
        if best is None or best in head:
            continue
        counts = Counter(group_of(item) for item in head)
        spare = next((j for j in range(len(head) - 1, -1, -1) if counts[group_of(head[j])] > 1), None)
        if spare is None and len(head) >= k:
            continue
        if spare is not None:
            head.pop(spare)
        head.append(best)
    return head + [item for item in ranked if item not in head]


def drop_contained(items: Sequence[Hashable], text_of: Callable[[Hashable], str]) -> list[Hashable]:
    """Drop items whose text (whitespace collapsed) is contained in the text of an item ranked above.

    A caption is indexed twice: in the running text of its page and as a caption chunk of its own. When
    the page's chunk is little more than the caption, both rank alike and one result slot is wasted.
    """
    kept: list[Hashable] = []
    texts: list[str] = []
    for item in items:
        text = " ".join(text_of(item).split())
        if text and any(text in other for other in texts):
            continue
        kept.append(item)
        texts.append(text)
    return kept
