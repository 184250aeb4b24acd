"""Errors mmqa reports to people: one line, naming the file or value and the reason."""

from __future__ import annotations


class MMQAError(Exception):
    """Base class of every error mmqa shows as a one-line message instead of a traceback."""


class InputError(MMQAError):
    """A file that cannot be ingested: missing, not a PDF, unreadable, encrypted, no text."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def describe(exc: BaseException, limit: int = 200) -> str:
    """'TypeName: message' on one line and at most ``limit`` characters, for a per-file failure reason."""
    text = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


class IndexLockedError(MMQAError):
    """Another process is writing the local index."""


class EmptyIndexError(MMQAError):
    """A question was asked before anything was ingested."""


class DiskFullError(MMQAError):
    """The disk filled up while the index was being written; what was indexed before is intact."""


def is_disk_full(exc: BaseException) -> bool:
    """True for 'no space left' in any of its guises: OSError ENOSPC/EDQUOT, SQLite's and Chroma's messages."""
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    return "no space left" in text or "database or disk is full" in text or "disk full" in text


class LLMError(MMQAError):
    """The LLM backend failed (unreachable, refused the key, timed out, context too long, rate limited)."""
