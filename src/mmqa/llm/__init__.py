"""LLM clients behind one small protocol: stream or complete a list of chat messages.

Specs name a backend and a model: ``openai:gpt-4o-mini``, ``openai-compatible:qwen2.5:7b`` (with a
base URL: Ollama, vLLM, llama.cpp's server, LM Studio) and ``gguf:/path/model.gguf`` (in-process on
the CPU through xllamacpp). Every failure surfaces as one ``LLMError`` with a readable reason, so the
answerer can fall back to the extractive answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from mmqa.errors import LLMError
from mmqa.settings import LLMSettings

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": ...}
BACKENDS = ("openai", "openai-compatible", "gguf")

__all__ = ["BACKENDS", "LLMClient", "LLMError", "Message", "make_llm", "parse_spec"]


class LLMClient(Protocol):
    """What the answerer and the chat need from a model."""

    name: str

    def stream(self, messages: list[Message], max_tokens: int | None = None) -> Iterator[str]:
        """Yield the reply in pieces as the model produces them; raises LLMError."""
        ...

    def complete(self, messages: list[Message], max_tokens: int | None = None) -> str:
        """The whole reply at once; raises LLMError."""
        ...


def parse_spec(spec: str) -> tuple[str, str]:
    """'openai-compatible:qwen2.5:7b' -> ('openai-compatible', 'qwen2.5:7b'); unknown backends are an error."""
    backend, sep, model = spec.partition(":")
    if not sep or backend not in BACKENDS or not model:
        raise LLMError(f"unknown LLM {spec!r}: use openai:MODEL, openai-compatible:MODEL or gguf:/path/model.gguf")
    return backend, model


def make_llm(spec: str, settings: LLMSettings) -> LLMClient:
    """The client for ``spec``; heavy libraries are imported only here, when an LLM is actually used."""
    backend, model = parse_spec(spec)
    if backend == "gguf":
        from mmqa.llm.gguf import GGUFModel

        return GGUFModel(model, settings)
    from mmqa.llm.openai_compatible import OpenAICompatibleModel

    return OpenAICompatibleModel(backend, model, settings)
