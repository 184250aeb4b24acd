"""Sentence embeddings with the bundled all-MiniLM-L6-v2, loaded from disk (never from the hub)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence

import numpy as np

from mmqa.models import resolve_model_dir
from mmqa.settings import EmbeddingSettings

log = logging.getLogger(__name__)


class Embedder:
    """Encodes texts into L2-normalised vectors; the model is loaded on first use."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        self.settings = settings
        self.model_dir = resolve_model_dir(settings.model)
        self._model = None

    @property
    def name(self) -> str:
        """The configured model name, as recorded in the manifest."""
        return self.settings.model

    def _load(self):
        if self._model is None:
            # The model is local; make sure nothing below tries the (unreachable) hub.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(self.model_dir), device="cpu")
            model.max_seq_length = self.settings.max_seq_length
            self._model = model
        return self._model

    @property
    def dimension(self) -> int:
        """Vector size (384 for MiniLM)."""
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter() or 384)

    def embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Vectors for ``texts`` (n x dim, float32, unit length), batched; ``progress(n_done)`` per batch."""
        model = self._load()
        batch = self.settings.batch_size
        # Sorting by length keeps padding inside each batch small.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            vecs = model.encode(
                [texts[i] for i in idx], batch_size=batch, normalize_embeddings=True, convert_to_numpy=True
            )
            out[idx] = vecs
            if progress:
                progress(len(idx))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """One vector for a query."""
        return self.embed([text])[0]
