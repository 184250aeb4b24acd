"""The arithmetic of the ingest progress bar: papers done of total, pages per second and time left."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class IngestRate:
    """Running figures of one ingest, fed with the outcome of each file and the time it finished.

    Time is passed in (seconds on any monotonic clock), so the figures are a pure function of the
    calls. The ETA spreads the wall time so far over the papers that took work (added or updated,
    not unchanged or failed ones, which take next to none) and multiplies by the papers left: pages
    are not known before a paper is parsed, and the time per paper is what a user waits.
    """

    total: int
    started: float
    done: int = 0
    worked: int = 0
    pages: int = 0
    last: float = 0.0

    def __post_init__(self) -> None:
        self.last = self.started

    def file_done(self, pages: int, now: float, worked: bool = True) -> None:
        """One more file finished at ``now``: ``pages`` pages indexed, ``worked`` unless unchanged or failed."""
        self.done += 1
        self.worked += int(worked)
        self.pages += pages if worked else 0
        self.last = now

    @property
    def elapsed(self) -> float:
        """Seconds from the start to the last finished file."""
        return max(self.last - self.started, 0.0)

    @property
    def pages_per_second(self) -> float:
        """Pages of the finished papers per second of wall time (0 before the first)."""
        return self.pages / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the pace so far; None until a paper has been indexed."""
        if self.worked == 0:
            return None
        return self.elapsed / self.worked * max(self.total - self.done, 0)

    def describe(self) -> str:
        """'12/54 papers · 3.1 pages/s · ETA 4:05' (ETA '?' until a paper is done)."""
        eta = self.eta
        left = "?" if eta is None else _clock(eta)
        return f"{self.done}/{self.total} papers · {self.pages_per_second:.1f} pages/s · ETA {left}"


def _clock(seconds: float) -> str:
    """'1:02:03' or '4:05'."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
