"""Sentence embeddings with the bundled all-MiniLM-L6-v2, loaded from disk (never from the hub).

Two interchangeable fp32 encoders give the same vectors (within 1e-4 cosine): ONNX Runtime (no torch
import, faster on CPU) and sentence-transformers on torch (reference, and the fallback). The default
is an int8 quantisation of the ONNX graph (within 0.99 cosine of fp32); its vectors are never mixed
with fp32 ones, because the precision is part of the index key and of the embedding cache's key.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from mmqa.errors import MMQAError
from mmqa.models import resolve_model_dir
from mmqa.settings import EmbeddingSettings

log = logging.getLogger(__name__)


class TorchEncoder:
    """sentence-transformers on torch."""

    def __init__(self, model_dir: Path, max_seq_length: int) -> None:
        # The model is local; make sure nothing below tries the (unreachable) hub.
        for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_PROGRESS_BARS"):
            os.environ.setdefault(key, "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(model_dir), device="cpu")
        self._model.max_seq_length = max_seq_length
        getter = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimension = int(getter() or 384)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Vectors for one batch."""
        return self._model.encode(
            texts, batch_size=len(texts), normalize_embeddings=True, convert_to_numpy=True
        ).astype(np.float32)


class Embedder:
    """Encodes texts into unit-length float32 vectors; the encoder is loaded on first use."""

    def __init__(self, settings: EmbeddingSettings, cache_dir: Path | None = None) -> None:
        self.settings = settings
        self.model_dir = resolve_model_dir(settings.model)
        self.cache_dir = cache_dir
        self._encoder = None
        self.backend = ""

    @property
    def name(self) -> str:
        """The configured model name, as recorded in the manifest."""
        return self.settings.model

    @property
    def model_key(self) -> str:
        """Names the vectors this embedder makes: model, its weights, input length and precision.

        The embedding cache is keyed by it; fp32 keeps the key it had before int8 existed.
        """
        from mmqa.index.onnx_model import model_fingerprint

        key = f"{self.settings.model}:{model_fingerprint(self.model_dir)}:{self.settings.max_seq_length}"
        return key if self.settings.precision == "fp32" else f"{key}:{self.settings.precision}"

    def _load(self):
        if self._encoder is not None:
            return self._encoder
        int8 = self.settings.precision == "int8"
        if self.settings.backend in {"auto", "onnx"} and self.cache_dir is not None:
            from mmqa.index.onnx_model import OnnxEncoder, export_onnx, int8_model, onnx_path

            path = onnx_path(self.cache_dir, self.model_dir)
            if not path.exists():
                log.info("exporting %s to ONNX (once) at %s", self.settings.model, path)
                reference = TorchEncoder(self.model_dir, self.settings.max_seq_length)
                if not export_onnx(self.model_dir, path, reference.encode):
                    if int8:  # torch gives fp32 vectors, which must not enter an int8 index
                        raise MMQAError("the ONNX export failed, so no int8 model: set MMQA_EMBEDDING__QUANTIZE=none")
                    self._encoder, self.backend = reference, "torch"
                    return self._encoder
            if int8:
                path = int8_model(path, self.model_dir)
            self._encoder = OnnxEncoder(path, self.model_dir, self.settings.max_seq_length, self.settings.device)
            self.backend = "onnx"
            return self._encoder
        if int8:
            raise MMQAError(
                "an int8 model needs the ONNX backend and a models folder: set MMQA_EMBEDDING__QUANTIZE=none"
            )
        self._encoder = TorchEncoder(self.model_dir, self.settings.max_seq_length)
        self.backend = "torch"
        return self._encoder

    @property
    def dimension(self) -> int:
        """Vector size (384 for MiniLM)."""
        return int(self._load().dimension)

    def embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Vectors for ``texts`` (n x dim), batched; ``progress(n_done)`` after each batch."""
        encoder = self._load()
        if not texts:
            return np.zeros((0, encoder.dimension), dtype=np.float32)
        batch = self.settings.batch_size
        order = self._length_order(texts)
        out: np.ndarray | None = None
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            vectors = encoder.encode([texts[i] for i in idx])
            if out is None:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[idx] = vectors
            if progress:
                progress(len(idx))
        assert out is not None
        return out

    def _length_order(self, texts: Sequence[str]) -> list[int]:
        """Indices of ``texts`` by word-piece count (capped at the model's limit), so a batch is barely padded.

        Sorting by characters instead left 8.6 % of each batch as padding on the shared corpus (word
        pieces per character vary with numbers, symbols and names) and cost a third of the throughput.
        """
        if len(texts) <= 1:
            return list(range(len(texts)))
        from mmqa.parsing.tokens import token_counter

        cap = self.settings.max_seq_length
        pieces = [min(n, cap) for n in token_counter(str(self.model_dir)).count_many(list(texts))]
        return sorted(range(len(texts)), key=pieces.__getitem__)

    def embed_query(self, text: str) -> np.ndarray:
        """One vector for a query."""
        return self.embed([text])[0]
