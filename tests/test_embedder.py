"""The ONNX Runtime encoder gives the same vectors as sentence-transformers on torch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from mmqa.errors import MMQAError
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
    onnx = Embedder(EmbeddingSettings(backend="onnx", quantize="none"), tmp_path / "models")
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
    exported = list((tmp_path / "models").glob("minilm-*.onnx"))  # fp32 asked for: no int8 graph made
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


def _real_texts(name: str) -> list[str]:
    """Everything an ingest of ``name`` embeds: its chunk texts and the sentences of each chunk."""
    from mmqa.ingestion import _in_references
    from mmqa.parsing import parse_pdf
    from mmqa.parsing.chunker import Chunker
    from mmqa.parsing.text import split_sentences
    from mmqa.parsing.tokens import token_counter
    from mmqa.settings import Settings
    from tests.conftest import pdf

    settings = Settings()
    embedder = Embedder(settings.embedding)
    parsed = parse_pdf(pdf(name), settings.parsing)
    chunks = Chunker(settings.chunking, token_counter(str(embedder.model_dir))).chunk(parsed.paper, parsed.texts)
    chunks = [c for c in chunks if not _in_references(c.section_title, c.section)]
    units = [u.text for c in chunks for u in c.sentence_units(split_sentences(c.text))]
    return [c.embedding_text() for c in chunks] + units


def test_int8_vectors_stay_within_tolerance_of_fp32_on_a_real_paper(shared_models):
    texts = _real_texts("1706.03762")
    fp32 = Embedder(EmbeddingSettings(quantize="none"), shared_models)
    int8 = Embedder(EmbeddingSettings(quantize="int8"), shared_models)
    cosines = np.sum(fp32.embed(texts) * int8.embed(texts), axis=1)
    assert len(texts) > 200  # 58 chunks and their sentences
    assert cosines.min() >= 0.99, (cosines.min(), texts[int(np.argmin(cosines))][:80])
    assert cosines.max() < 1 - 1e-6  # really another model, not the fp32 graph under a new name
    assert int8.model_key != fp32.model_key and int8.model_key.startswith(fp32.model_key)
    graphs = sorted(p.name for p in shared_models.glob("minilm-*.onnx"))
    assert len(graphs) == 2 and graphs[0].endswith("-int8q1.onnx")  # made once beside the fp32 export


def test_int8_without_onnx_is_a_clear_error():
    with pytest.raises(MMQAError, match="QUANTIZE=none"):
        Embedder(EmbeddingSettings(quantize="int8")).embed(["no models folder, so no ONNX graph"])
    assert EmbeddingSettings(backend="torch").precision == "fp32"  # torch never claims int8 vectors
