"""OpenAI and OpenAI-compatible endpoints through llama-index's ``OpenAI`` / ``OpenAILike`` classes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from mmqa.errors import LLMError
from mmqa.llm import Message
from mmqa.settings import LLMSettings

T = TypeVar("T")
OPENAI_URL = "https://api.openai.com/v1"


class OpenAICompatibleModel:
    """A chat model behind an OpenAI-style HTTP API (OpenAI itself, Ollama, vLLM, llama.cpp, LM Studio)."""

    def __init__(self, backend: str, model: str, settings: LLMSettings) -> None:
        self.name = f"{backend}:{model}"
        self.settings = settings
        self._key = settings.api_key.get_secret_value() if settings.api_key else ""
        if backend == "openai" and not self._key:
            raise LLMError("OPENAI_API_KEY is not set (needed for --llm openai:...)")
        if backend == "openai-compatible" and not settings.base_url:
            raise LLMError(f"{self.name} needs a base URL: --base-url http://localhost:11434/v1 or MMQA_LLM_BASE_URL")
        self.base_url = settings.base_url or OPENAI_URL
        self._llm = self._build(backend, model)

    def _build(self, backend: str, model: str) -> Any:
        common: dict[str, Any] = {
            "model": model,
            "temperature": self.settings.temperature,
            "max_tokens": self.settings.max_tokens,
            "timeout": self.settings.timeout,
            "max_retries": self.settings.max_retries,
            "api_key": self._key or "not-needed",  # local servers often want no key, the client wants one
            "api_base": self.base_url,
        }
        if backend == "openai":
            from llama_index.llms.openai import OpenAI

            return OpenAI(**common)
        from llama_index.llms.openai_like import OpenAILike

        return OpenAILike(**common, is_chat_model=True, context_window=self.settings.context_window)

    @staticmethod
    def _messages(messages: list[Message]) -> list[Any]:
        from llama_index.core.llms import ChatMessage

        return [ChatMessage(role=m["role"], content=m["content"]) for m in messages]

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except LLMError:
            raise
        except Exception as exc:  # the openai SDK and httpx raise many types; all mean "no answer"
            raise self._explain(exc) from None

    def stream(self, messages: list[Message], max_tokens: int | None = None) -> Iterator[str]:
        """Yield reply pieces as the server streams them (server-sent events)."""
        kwargs = {"max_tokens": max_tokens} if max_tokens else {}
        responses = self._call(lambda: self._llm.stream_chat(self._messages(messages), **kwargs))
        iterator = iter(responses)
        while True:
            response = self._call(lambda: next(iterator, None))
            if response is None:
                return
            if response.delta:
                yield response.delta

    def complete(self, messages: list[Message], max_tokens: int | None = None) -> str:
        """The whole reply."""
        kwargs = {"max_tokens": max_tokens} if max_tokens else {}
        response = self._call(lambda: self._llm.chat(self._messages(messages), **kwargs))
        return response.message.content or ""

    def _explain(self, exc: Exception) -> LLMError:
        """One readable line for any failure; the API key never appears in it."""
        import openai

        where = f"{self.name} at {self.base_url}"
        status = getattr(exc, "status_code", None)
        body = str(getattr(exc, "message", "") or exc)
        if isinstance(exc, openai.APITimeoutError):
            reason = f"timed out after {self.settings.timeout:g} s"
        elif isinstance(exc, openai.APIConnectionError):
            reason = "cannot connect (is the server running?)"
        elif isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            reason = f"the server refused the API key (HTTP {status})"
        elif isinstance(exc, openai.RateLimitError):
            reason = "rate limited (HTTP 429); try again later"
        elif isinstance(exc, openai.NotFoundError):
            reason = "model or endpoint not found (HTTP 404)"
        elif isinstance(exc, openai.BadRequestError) and "context" in body.lower():
            reason = "the prompt is longer than the model's context window"
        elif status:
            reason = f"HTTP {status}: {body[:160]}"
        else:
            reason = f"{type(exc).__name__}: {body[:160]}"
        if self._key:
            reason = reason.replace(self._key, "***")
        return LLMError(f"LLM {where}: {reason}")
