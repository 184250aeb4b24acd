"""MiniLM through ONNX Runtime: the same weights and the same vectors as sentence-transformers, without torch.

The ONNX graph is exported once from the bundled model (this needs torch, which ingest has anyway),
checked against sentence-transformers, and cached in ``MMQA_HOME/models``. Query-time processes then
only import onnxruntime and tokenizers, which keeps ``mmqa ask`` start-up short.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

EXPORT_VERSION = "2"  # 2: eager attention, then onnxruntime's BERT fusion
QUANT_VERSION = "1"  # 1: int8 per-channel weights of the MatMuls, feed-forward output layers kept fp32
MAX_COSINE_GAP = 1e-4
MAX_INT8_COSINE_GAP = 0.01
_CHECK_TEXTS = [
    "Masked image modeling reconstructs missing patches.",
    "PaLM was trained on 780 billion tokens " * 12,
    "ViT",
]


def model_fingerprint(model_dir: Path) -> str:
    """A short hash of the model's config and the head of its weights.

    It names the model, not the export: the embedding cache is keyed by it, and every export (like
    torch) gives the same vectors. The "1" salt is the first export version's, kept so that caches
    written since then stay valid.
    """
    digest = hashlib.sha256(b"1")
    digest.update((model_dir / "config.json").read_bytes())
    weights = model_dir / "model.safetensors"
    if weights.exists():
        with weights.open("rb") as handle:
            digest.update(handle.read(1 << 20))
        digest.update(str(weights.stat().st_size).encode())
    return digest.hexdigest()[:12]


def onnx_path(cache_dir: Path, model_dir: Path) -> Path:
    """Where the exported graph of ``model_dir`` lives (a new export version gets a new file)."""
    return cache_dir / f"minilm-{model_fingerprint(model_dir)}-e{EXPORT_VERSION}.onnx"


def int8_model(fp32: Path, model_dir: Path) -> Path:
    """The int8 version of the exported graph ``fp32``, quantised and checked once beside it."""
    path = fp32.with_name(f"{fp32.stem}-int8q{QUANT_VERSION}.onnx")
    if not path.exists():
        log.info("quantising %s to int8 (once) at %s", fp32.name, path)
        quantize_int8(fp32, path, model_dir, _CHECK_TEXTS)
    return path


def providers(device: str = "auto") -> list[str]:
    """ONNX Runtime execution providers: CUDA first when ``device`` allows it and onnxruntime-gpu offers it."""
    import onnxruntime as ort

    if device in {"auto", "cuda"} and "CUDAExecutionProvider" in ort.get_available_providers():
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


class OnnxEncoder:
    """Mean-pooled, L2-normalised sentence vectors from an exported BERT-style encoder."""

    def __init__(self, path: Path, model_dir: Path, max_seq_length: int, device: str = "cpu") -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        options.log_severity_level = 3
        # The arena keeps the largest batch's activations for the life of the process; without it each
        # batch frees its own (peak RSS of a 54-paper ingest, see docs/ARCHITECTURE.md).
        options.enable_cpu_mem_arena = False
        # Idle pool threads sleep instead of spinning, leaving the core to the parse-ahead worker (and to
        # Chroma): 7-16 % less CPU for the same batches, measured on 2 busy cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(path), options, providers=providers(device))
        self.provider = self._session.get_providers()[0]
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=max_seq_length)
        self._tokenizer.no_padding()
        self.dimension = 384

    def encode(self, texts: list[str]) -> np.ndarray:
        """Vectors for one batch of texts (padded to the longest in the batch)."""
        encodings = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        hidden = self._session.run(
            ["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        vectors = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        self.dimension = vectors.shape[1]
        return vectors


def export_onnx(model_dir: Path, target: Path, reference) -> bool:
    """Export ``model_dir`` to ``target`` and keep it only if it matches ``reference`` (a torch encoder).

    ``reference(texts) -> np.ndarray`` gives sentence-transformers vectors. Returns True when the
    export was written and verified.
    """
    import torch
    from transformers import AutoModel

    class _Hidden(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    # Eager attention exports as plain MatMul/Softmax, which onnxruntime's optimizer fuses into one
    # Attention op per layer; the default (SDPA) exports a masking pattern it cannot fuse.
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    sample = torch.ones((2, 8), dtype=torch.long)
    axes = {0: "batch", 1: "sequence"}
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter is deprecated but exact for BERT
            torch.onnx.export(
                _Hidden(model),
                (sample, sample, torch.zeros_like(sample)),
                str(tmp),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                              "last_hidden_state": axes},
                opset_version=17,
                dynamo=False,
            )  # fmt: skip
        _fuse(tmp, model.config)
        encoder = OnnxEncoder(tmp, model_dir, 256)
        gap = 1 - float(np.min(np.sum(encoder.encode(_CHECK_TEXTS) * reference(_CHECK_TEXTS), axis=1)))
        if gap > MAX_COSINE_GAP:
            log.warning("ONNX export differs from sentence-transformers (cosine gap %.2e); using torch", gap)
            tmp.unlink(missing_ok=True)
            return False
        os.replace(tmp, target)
        for stale in target.parent.glob(f"minilm-{model_fingerprint(model_dir)}*.onnx"):
            if stale != target:
                stale.unlink(missing_ok=True)  # an earlier export version's graph
        return True
    except Exception as exc:  # any exporter failure just means we keep using torch
        log.warning("ONNX export failed (%s); using sentence-transformers on torch", exc)
        tmp.unlink(missing_ok=True)
        return False


def quantize_int8(fp32: Path, target: Path, model_dir: Path, check_texts: list[str]) -> None:
    """Write an int8 version of the fused graph ``fp32`` to ``target``, checked against it on ``check_texts``.

    Dynamic quantisation: int8 weights, one scale per output channel, activations quantised per batch
    (VNNI/AVX-512 or AVX2 int8 dot products). The attention output projection and the first
    feed-forward layer are quantised; the second feed-forward layer (whose input, after GELU, has the
    widest range), the fused attention and the embeddings stay fp32. Quantising all of them cost up
    to 0.05 cosine on real passages; this mix keeps every vector of four real papers within 0.993.
    Raises MMQAError when a vector of ``check_texts`` drifts more than ``MAX_INT8_COSINE_GAP``.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from mmqa.errors import MMQAError

    graph = onnx.load(str(fp32), load_external_data=False)
    keep_fp32 = [n.name for n in graph.graph.node
                 if n.op_type == "MatMul" and "/output/dense/" in n.name and "/attention/" not in n.name]  # fmt: skip
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantizer warns (on the root logger) of a pre-processing BERT needs not
    try:
        quantize_dynamic(
            str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"],
            nodes_to_exclude=keep_fp32, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )  # fmt: skip
        root.setLevel(level)
        reference = OnnxEncoder(fp32, model_dir, 256).encode(check_texts)
        gap = 1 - float(np.min(np.sum(OnnxEncoder(tmp, model_dir, 256).encode(check_texts) * reference, axis=1)))
        if gap > MAX_INT8_COSINE_GAP:
            raise MMQAError(
                f"the int8 model drifts {gap:.3f} cosine from fp32 on its check texts: set "
                "MMQA_EMBEDDING__QUANTIZE=none to embed in fp32"
            )
        os.replace(tmp, target)
    finally:
        root.setLevel(level)
        tmp.unlink(missing_ok=True)


def _fuse(path: Path, config) -> None:
    """Rewrite the graph at ``path`` with onnxruntime's BERT fusions (attention, layer norm, GELU), in place.

    The same arithmetic in fewer, larger kernels: 1.5-1.7x the throughput of the unfused graph on a
    2-core AVX2 CPU, vectors within 2e-7 cosine. If the optimizer fails the unfused graph is kept.
    """
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        fused = optimize_model(
            str(path),
            model_type="bert",
            num_heads=config.num_attention_heads,
            hidden_size=config.hidden_size,
            opt_level=1,
            use_gpu=False,
        )
        fused.save_model_to_file(str(path))
    except Exception as exc:  # an optimizer/exporter mismatch only costs speed
        log.warning("ONNX graph fusion skipped (%s); the unfused graph is used", exc)
