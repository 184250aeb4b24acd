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


class IndexLockedError(MMQAError):
    """Another process is writing the local index."""


class EmptyIndexError(MMQAError):
    """A question was asked before anything was ingested."""
