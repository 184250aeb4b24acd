"""Local GGUF models on the CPU through xllamacpp (llama.cpp's server, embedded in-process).

xllamacpp's ``Server`` answers OpenAI-style chat requests from Python and, at the same time, serves
them over HTTP on 127.0.0.1; ``serve_gguf`` keeps one running for other processes.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mmqa.errors import LLMError
from mmqa.llm import Message
from mmqa.settings import LLMSettings

_DONE = object()
_LOCK = threading.Lock()
_SERVERS: dict[tuple[str, int, int], Any] = {}  # a model is loaded once per process


def _load(path: Path, settings: LLMSettings, port: int = 0, api_key: str = "") -> Any:
    """Start llama.cpp on ``path``: in-process requests, and HTTP on 127.0.0.1:``port`` (0 = any free port)."""
    if not path.is_file():
        raise LLMError(f"{path}: no such GGUF model file")
    try:
        import xllamacpp
    except ImportError:
        raise LLMError("local GGUF models need the 'local' extra: pip install 'mmqa[local]'") from None
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_ctx = settings.context_window
    params.n_parallel = 1
    params.cpuparams.n_threads = settings.threads
    params.cpuparams_batch.n_threads = settings.threads
    params.verbosity = -1  # llama.cpp logs every request to stderr otherwise
    params.port = port
    params.hostnames = ["127.0.0.1"]
    if api_key:
        params.api_keys = [api_key]
    try:
        return xllamacpp.Server(params)
    except Exception as exc:  # llama.cpp reports a bad file as a generic runtime error
        raise LLMError(f"{path}: cannot load the GGUF model ({exc})") from None


class GGUFModel:
    """A GGUF chat model run in this process on the CPU."""

    def __init__(self, model_path: str, settings: LLMSettings) -> None:
        self.path = Path(model_path).expanduser()
        self.name = f"gguf:{self.path.name}"
        self.settings = settings
        key = (str(self.path.resolve()), settings.context_window, settings.threads)
        with _LOCK:
            if key not in _SERVERS:
                _SERVERS[key] = _load(self.path, settings)
            self._server = _SERVERS[key]

    def _request(self, messages: list[Message], max_tokens: int | None, stream: bool) -> dict[str, Any]:
        return {
            "messages": messages,
            "max_tokens": max_tokens or self.settings.max_tokens,
            "temperature": self.settings.temperature,
            "repeat_penalty": 1.15,  # small models loop on one sentence without it
            "stream": stream,
        }

    @staticmethod
    def _check(result: Any) -> None:
        if isinstance(result, dict) and "error" in result:
            error = result["error"]
            message = error.get("message", "") if isinstance(error, dict) else str(error)
            if isinstance(error, dict) and error.get("type") == "exceed_context_size_error":
                message = f"the prompt is longer than the model's context window ({message})"
            raise LLMError(f"LLM gguf model: {message}")

    def complete(self, messages: list[Message], max_tokens: int | None = None) -> str:
        """The whole reply."""
        result = self._server.handle_chat_completions(self._request(messages, max_tokens, stream=False))
        self._check(result)
        return result["choices"][0]["message"].get("content") or ""

    def stream(self, messages: list[Message], max_tokens: int | None = None) -> Iterator[str]:
        """Yield reply pieces as llama.cpp produces them (its callback runs on a worker thread).

        Closing the generator early (the caller stopped reading, or timed out) stops the generation:
        xllamacpp ends a stream when its callback returns True.
        """
        pieces: queue.Queue[Any] = queue.Queue()
        abandoned = threading.Event()

        def on_piece(chunk: Any) -> bool:
            pieces.put(chunk)
            return abandoned.is_set()

        def run() -> None:
            try:
                result = self._server.handle_chat_completions(
                    self._request(messages, max_tokens, stream=True), on_piece
                )
                if result is not None:
                    pieces.put(result)
            except Exception as exc:  # surfaced on the caller's thread below
                pieces.put(exc)
            finally:
                pieces.put(_DONE)

        threading.Thread(target=run, name="gguf-stream", daemon=True).start()
        deadline = time.monotonic() + self.settings.timeout
        try:
            while True:
                try:
                    item = pieces.get(timeout=max(0.01, deadline - time.monotonic()))
                except queue.Empty:
                    raise LLMError(f"LLM {self.name}: timed out after {self.settings.timeout:g} s") from None
                if item is _DONE:
                    return
                if isinstance(item, Exception):
                    raise LLMError(f"LLM {self.name}: {item}")
                self._check(item)
                for choice in item.get("choices", []):
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        yield text
        finally:
            abandoned.set()


def serve_gguf(model_path: Path, settings: LLMSettings, port: int, api_key: str = "") -> Any:
    """Start an OpenAI-compatible server for a GGUF file on 127.0.0.1:``port``.

    It serves as long as the returned object is referenced; ``.listening_address`` is its URL.
    """
    return _load(model_path.expanduser(), settings, port=port, api_key=api_key)
