"""Where a run's seconds went: start-up, tokenizing, training, evaluation, snapshots, saves.

A reported throughput hid time: 1,000 steps at the reported tokens/s took 39 s, the process
45 s. So the clock is always in exactly one part, and switching parts is the only way to move
it: the parts cover every second from the clock's start (the process's own start, for the
CLI) to now, with nothing outside every figure. `other` holds what belongs to none of the
named parts (writing records, printing progress, a viewer's pauses).
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

PARTS = ("startup", "tokenizing", "training", "evaluation", "snapshots", "saves", "other")


def process_start_time() -> float | None:
    """When this process started (time.time() scale), from /proc on Linux; None elsewhere."""
    try:
        stat = Path("/proc/self/stat").read_text()
        ticks = int(stat[stat.rfind(")") + 2:].split()[19])  # starttime: ticks since boot
        # The process's age from the uptime (10 ms steps), not from btime (whole seconds).
        up = float(Path("/proc/uptime").read_text().split()[0])
        return time.time() - max(0.0, up - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class RunSeconds:
    """Seconds of each part of a run; `total` is their sum, the run's whole wall time."""

    startup: float
    tokenizing: float
    training: float
    evaluation: float
    snapshots: float
    saves: float
    other: float

    @property
    def total(self) -> float:
        return sum(asdict(self).values())

    def to_dict(self) -> dict[str, float]:
        """Rounded to ms, with the total: what end.json and records.jsonl hold."""
        out = {k: round(v, 3) for k, v in asdict(self).items()}
        out["total"] = round(self.total, 3)
        return out

    def describe(self) -> str:
        """One line: 'start-up 2.1 s, tokenizing 0.3 s, training 40.2 s, ...'."""
        words = {"startup": "start-up"}
        return ", ".join(f"{words.get(k, k)} {v:.1f} s" for k, v in asdict(self).items())


class RunClock:
    """Accumulates wall time into the part it is in; `switch` moves it to another part.

    `start`: a time.time() to count from (e.g. the process's start); None counts from now.
    The time before the first switch belongs to "startup".
    """

    def __init__(self, start: float | None = None):
        now_wall, self._last = time.time(), time.perf_counter()
        before = max(0.0, now_wall - start) if start is not None else 0.0
        self._seconds = dict.fromkeys(PARTS, 0.0)
        self._seconds["startup"] = before
        self.part = "startup"

    @classmethod
    def of_process(cls) -> "RunClock":
        """A clock that counts from this process's start (the interpreter and imports too)."""
        return cls(process_start_time())

    def switch(self, part: str) -> str:
        """Count from now on in `part`; returns the part it was in."""
        if part not in self._seconds:
            raise ValueError(f"not a part of a run: {part!r}")
        now = time.perf_counter()
        self._seconds[self.part] += now - self._last
        self._last, previous, self.part = now, self.part, part
        return previous

    def move(self, seconds: float, source: str, target: str) -> None:
        """Re-attribute `seconds` already counted in `source` to `target` (at most all of it)."""
        seconds = min(max(0.0, seconds), self._seconds[source])
        self._seconds[source] -= seconds
        self._seconds[target] += seconds

    @contextmanager
    def part_of(self, part: str) -> Iterator[None]:
        """Count the block in `part`, then go back to the part it was in."""
        previous = self.switch(part)
        try:
            yield
        finally:
            self.switch(previous)

    def seconds(self) -> RunSeconds:
        """The parts so far (the current one up to now)."""
        self.switch(self.part)
        return RunSeconds(**self._seconds)
