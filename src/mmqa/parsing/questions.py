"""What the wording of a question says about how many papers it is about."""

from __future__ import annotations

import re

# 'How does BLIP differ from CoCa?', 'QLoRA versus LoRA', 'Is BLIP better than CoCa?', 'unlike BLIP, ...'
# 'rather than' states a choice ('a constant learning rate rather than a decaying one'), not a comparison.
_COMPARES = re.compile(
    r"\b(?:compar\w*|differ\w*|versus|vs\.?|contrast\w*|both|whereas|unlike|(?<!rather )than)\b", re.IGNORECASE
)


def comparison_sides(question: str) -> tuple[str, str] | None:
    """The question's words before and after the word that makes it a comparison ('differ', 'than', ...);
    None when it does not compare. 'How does BLIP differ from CoCa?' gives ('How does BLIP ', ' from CoCa?')."""
    match = _COMPARES.search(question)
    return (question[: match.start()], question[match.end() :]) if match else None
