"""A writer lock on the local index: Chroma's embedded PersistentClient is for one process at a time."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from mmqa.errors import IndexLockedError


class WriterLock:
    """Exclusive, non-blocking lock on ``HOME/.lock``; released on exit (and by the OS if killed)."""

    def __init__(self, home: Path) -> None:
        self.path = home / ".lock"
        self._handle = None

    def __enter__(self) -> WriterLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise IndexLockedError(
                f"the index at {self.path.parent} is being written by {holder}; wait for it to finish "
                "(or use a Chroma server for several processes)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"mmqa pid {os.getpid()}")
        handle.flush()
        self._handle = handle
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
