"""PDF -> Paper -> SectionTexts (``parsing.paper``), and the text tools the query path also uses.

The package itself imports nothing: the query path needs only a few of its modules (``text``,
``definitions``, ``names``, ``questions``), and not the PDF reader and chunker behind ``parse_pdf``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PARSER_VERSION", "ParsedPaper", "parse_pdf", "retitled"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from mmqa.parsing import paper

        return getattr(paper, name)
    raise AttributeError(f"module 'mmqa.parsing' has no attribute {name!r}")
