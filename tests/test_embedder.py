"""The ONNX Runtime encoder gives the same vectors as sentence-transformers on torch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from mmqa.index.embedder import Embedder
from mmqa.index.onnx_model import model_fingerprint, onnx_path
from mmqa.settings import EmbeddingSettings

TEXTS = [
    "Masked image modeling predicts the missing patches of an image.",
    "PaLM 540B was trained on 780 billion tokens using 6144 TPU v4 chips. " * 8,  # longer than 256 word pieces
    "ViT",
    "Ligatures: speciﬁc ﬁne-tuning, and a math symbol ∈ R^{N×D}.",
]


def test_onnx_vectors_match_sentence_transformers(tmp_path):
    onnx = Embedder(EmbeddingSettings(backend="onnx"), tmp_path / "models")
    stale = tmp_path / "models" / f"minilm-{model_fingerprint(onnx.model_dir)}.onnx"  # an export version-1 graph
    stale.parent.mkdir()
    stale.write_bytes(b"old")
    torch = Embedder(EmbeddingSettings(backend="torch"))
    a = onnx.embed(TEXTS)
    b = torch.embed(TEXTS)
    assert onnx.backend == "onnx" and torch.backend == "torch"
    assert a.shape == b.shape == (len(TEXTS), 384)
    cosines = np.sum(a * b, axis=1)
    assert np.all(1 - cosines <= 1e-4), cosines
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    exported = list((tmp_path / "models").glob("minilm-*.onnx"))
    assert exported == [onnx_path(tmp_path / "models", onnx.model_dir)]  # cached for the next; the stale one gone
    import onnx

    ops = {node.op_type for node in onnx.load(str(exported[0])).graph.node}
    assert {"Attention", "SkipLayerNormalization"} <= ops  # onnxruntime's fused kernels, not MatMul/Softmax


def test_batches_follow_word_pieces_not_characters():
    embedder = Embedder(EmbeddingSettings(backend="onnx"))
    texts = [
        "Trained on a large collection of English text for a very long time.",  # 67 characters, 14 pieces
        "94.67±0.15 96.62±0.23 99.68±0.02",  # a table row: 32 characters, 21 pieces
        "ViT",
    ]
    assert len(texts[1]) < len(texts[0])
    assert embedder._length_order(texts) == [2, 0, 1]


def test_query_path_does_not_import_torch(tmp_path):
    Embedder(EmbeddingSettings(backend="onnx"), tmp_path / "models").embed(["warm the export"])
    code = (
        "import sys; from pathlib import Path; from mmqa.index.embedder import Embedder;"
        "from mmqa.settings import EmbeddingSettings;"
        f"e = Embedder(EmbeddingSettings(), Path({str(tmp_path / 'models')!r})); v = e.embed_query('hello');"
        "print(e.backend, 'torch' in sys.modules, len(v))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["onnx", "False", "384"]
