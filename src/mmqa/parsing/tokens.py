"""Counting word pieces exactly as the embedder will, without importing transformers or torch."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


class TokenCounter:
    """Counts the embedder's word pieces (special tokens excluded) with the fast ``tokenizers`` library."""

    def __init__(self, model_dir: Path) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()

    def count(self, text: str) -> int:
        """Word pieces in ``text``."""
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def count_many(self, texts: list[str]) -> list[int]:
        """Word pieces in each of ``texts`` (batched)."""
        if not texts:
            return []
        return [len(e.ids) for e in self._tokenizer.encode_batch(texts, add_special_tokens=False)]


@lru_cache(maxsize=4)
def token_counter(model_dir: str) -> TokenCounter:
    """A shared TokenCounter per model directory."""
    return TokenCounter(Path(model_dir))
