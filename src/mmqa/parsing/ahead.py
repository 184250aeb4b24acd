"""Parsing the next PDF in a worker process while the current one is being embedded.

pypdf is pure Python and uses one core; embedding uses both. Parsing file n+1 in a second process
while file n is embedded hides most of the parse time of a multi-file ingest. A process (not a
thread) because pypdf holds the GIL, which the embedder's Python steps between batches also need.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from mmqa.errors import InputError
from mmqa.parsing import ParsedPaper, parse_pdf
from mmqa.settings import ParsingSettings

log = logging.getLogger("mmqa.parsing")


class _Collect(logging.Handler):
    """Keeps the worker's log records so the parent can log them through its own handlers."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelno, record.getMessage()))


def _parse_in_worker(
    path: Path, settings: ParsingSettings
) -> tuple[ParsedPaper | None, tuple[str, str], float, list[tuple[int, str]]]:
    """(parsed paper or None, the InputError's path and reason, seconds, log records) for one PDF."""
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    collect = _Collect()
    logger = logging.getLogger("mmqa")
    logger.addHandler(collect)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    started = time.perf_counter()
    try:
        return parse_pdf(path, settings), ("", ""), time.perf_counter() - started, collect.records
    except InputError as exc:  # its constructor takes two arguments, so it does not pickle as it is
        return None, (exc.path, exc.reason), time.perf_counter() - started, collect.records
    finally:
        logger.removeHandler(collect)


class ParseAhead:
    """Parses PDFs one step ahead in a single worker process; ``take`` parses in-process if not asked ahead.

    Use as a context manager so the worker is always shut down.
    """

    def __init__(self, settings: ParsingSettings) -> None:
        self.settings = settings
        self._pool: ProcessPoolExecutor | None = None
        self._pending: dict[Path, Future] = {}

    def submit(self, path: Path) -> None:
        """Start parsing ``path`` in the worker (started on first use)."""
        if path in self._pending:
            return
        if self._pool is None:
            # spawn, not fork: the parent has ONNX Runtime and Chroma threads that must not be forked.
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        self._pending[path] = self._pool.submit(_parse_in_worker, path, self.settings)

    def take(self, path: Path) -> tuple[ParsedPaper, float, float]:
        """The parsed ``path``, the seconds this call waited for it and the seconds pypdf took.

        Raises InputError like ``parse_pdf``.
        """
        started = time.perf_counter()
        future = self._pending.pop(path, None)
        if future is None:
            parsed = parse_pdf(path, self.settings)
            return parsed, time.perf_counter() - started, time.perf_counter() - started
        parsed, error, worked, records = future.result()
        for level, message in records:
            log.log(level, message)
        if parsed is None:
            raise InputError(*error)
        return parsed, time.perf_counter() - started, worked

    def close(self) -> None:
        """Stop the worker; parses asked for but not taken are dropped."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._pending.clear()

    def __enter__(self) -> ParseAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
