"""Parsing PDFs in a worker process, the next one while the current one is being embedded.

pypdf is pure Python and uses one core; embedding uses both. Parsing file n+1 in a second process
while file n is embedded hides most of the parse time of a multi-file ingest. A process (not a
thread) because pypdf holds the GIL, which the embedder's Python steps between batches also need.
The process is also the per-file boundary: a parse that runs past ``parse_timeout`` or a worker that
dies (killed, out of memory) becomes that file's one-line failure, and a fresh worker takes the rest.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from mmqa.errors import InputError, describe
from mmqa.parsing import ParsedPaper, parse_pdf
from mmqa.settings import ParsingSettings

log = logging.getLogger("mmqa.parsing")

_PARENT_CHECK = 1.0  # seconds between a worker's checks that its parent is alive
_Outcome = tuple[ParsedPaper | None, tuple[str, str], float, list[tuple[int, str]]]


class _Collect(logging.Handler):
    """Keeps the worker's log records so the parent can log them through its own handlers."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.records: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelno, self.format(record)))  # with the traceback of a debug record


def _parse_in_worker(path: Path, settings: ParsingSettings, password: str | None, level: int) -> _Outcome:
    """(parsed paper or None, the InputError's path and reason, seconds, log records) for one PDF.

    ``level`` is the parent's log level for mmqa, so its debug records (tracebacks) come back when wanted.
    """
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    collect = _Collect(min(level, logging.INFO))
    logger = logging.getLogger("mmqa")
    logger.addHandler(collect)
    logger.setLevel(collect.level)
    logger.propagate = False
    started = time.perf_counter()
    try:
        return parse_pdf(path, settings, password), ("", ""), time.perf_counter() - started, collect.records
    except InputError as exc:  # its constructor takes two arguments, so it does not pickle as it is
        return None, (exc.path, exc.reason), time.perf_counter() - started, collect.records
    except Exception as exc:  # parse_pdf turns everything into InputError; nothing else may cross the pipe
        reason = f"could not be parsed ({describe(exc)})"
        return None, (str(path), reason), time.perf_counter() - started, collect.records
    finally:
        logger.removeHandler(collect)


def _warm_up() -> None:
    """Import pypdf in a new worker, so a parse's time limit does not count the process start."""
    import pypdf  # noqa: F401


def _exit_with(parent: int) -> None:
    """Worker start-up: end this process when ``parent`` does. A parent killed outright (SIGKILL, the out-of-memory
    killer) cannot stop its worker, which then blocked forever writing its parsed paper into a pipe whose reading
    end it holds itself; a thread checking who its parent is ends it instead."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_CHECK)
        os._exit(0)

    threading.Thread(target=watch, name="mmqa-parent-watch", daemon=True).start()


class ParseAhead:
    """Parses PDFs in a single worker process; ``take`` parses in-process a file not submitted first.

    ``password`` opens encrypted PDFs (held in memory for this object's life only). Use as a context
    manager so the worker is always shut down.
    """

    def __init__(self, settings: ParsingSettings, password: str | None = None) -> None:
        self.settings = settings
        self._password = password
        self._pool: ProcessPoolExecutor | None = None
        self._pending: dict[Path, Future] = {}
        self._in_process_only = False

    def submit(self, path: Path) -> None:
        """Start parsing ``path`` in the worker (started on first use).

        If no worker can be started, files are parsed in-process when taken: slower, never fatal.
        """
        if path in self._pending or self._in_process_only:
            return
        level = logging.getLogger("mmqa").getEffectiveLevel()
        for _ in range(2):  # a worker that died while idle is replaced once
            try:
                if self._pool is None:
                    # spawn, not fork: the parent has ONNX Runtime and Chroma threads that must not be forked.
                    self._pool = ProcessPoolExecutor(
                        max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                        initializer=_exit_with, initargs=(os.getpid(),),
                    )  # fmt: skip
                    self._pool.submit(_warm_up).result()
                self._pending[path] = self._pool.submit(_parse_in_worker, path, self.settings, self._password, level)
                return
            except Exception:
                log.debug("the parse worker is not available", exc_info=True)
                self._kill()
        self._in_process_only = True

    def take(self, path: Path) -> tuple[ParsedPaper, float, float]:
        """The parsed ``path``, the seconds this call waited for it and the seconds pypdf took.

        Raises InputError like ``parse_pdf``, also when the worker gives no answer within
        ``parse_timeout`` seconds or dies; the files submitted after it are then parsed by a new worker.
        """
        started = time.perf_counter()
        future = self._pending.pop(path, None)
        if future is None:
            parsed = parse_pdf(path, self.settings, self._password)
            return parsed, time.perf_counter() - started, time.perf_counter() - started
        try:
            parsed, error, worked, records = future.result(timeout=self.settings.parse_timeout)
        except FutureTimeout:
            self._restart()
            raise InputError(
                str(path), f"parsing took longer than {self.settings.parse_timeout:g} s and was stopped"
            ) from None
        except Exception as exc:  # BrokenProcessPool: the worker was killed or ran out of memory
            log.debug("%s: the parser process failed", path, exc_info=True)
            self._restart()
            raise InputError(str(path), f"the parser process stopped while reading it ({describe(exc)})") from None
        for level, message in records:
            log.log(level, message)
        if parsed is None:
            raise InputError(*error)
        return parsed, time.perf_counter() - started, worked

    def _kill(self) -> None:
        """Stop the worker now, even in the middle of a parse (it writes nothing, so nothing is lost)."""
        if self._pool is None:
            return
        # The executor has no public way to stop a running task; its processes are killed directly.
        for process in list((getattr(self._pool, "_processes", None) or {}).values()):
            process.kill()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = None

    def _restart(self) -> None:
        """Replace a stuck or dead worker; the files still pending are submitted again to the new one."""
        waiting = list(self._pending)
        self._kill()
        self._pending.clear()
        for path in waiting:
            self.submit(path)

    def close(self) -> None:
        """Stop the worker; parses asked for but not taken are dropped."""
        if any(not future.done() for future in self._pending.values()):
            self._kill()  # a parse nobody will take might never end
        elif self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._pending.clear()

    def __enter__(self) -> ParseAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
