"""The time a run has left, from its recent pace (no widgets)."""
from __future__ import annotations

import math

WINDOW_S = 10.0  # the pace is measured over the last 10 s of records


def format_duration(seconds: float) -> str:
    """"1:02:03", "4:05", or "–" when unknown."""
    if not math.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Eta:
    """Seconds left until `total` steps, from the steps seen in the last WINDOW_S."""

    def __init__(self) -> None:
        self._seen: list[tuple[float, int]] = []  # (time, step)

    def reset(self) -> None:
        """Forget the pace (a run starts or resumes)."""
        self._seen = []

    def note(self, now: float, step: int, total: int) -> float:
        """Record `step` reached at `now` (monotonic seconds); inf while the pace is unknown."""
        self._seen.append((now, step))
        self._seen = [r for r in self._seen if now - r[0] <= WINDOW_S]
        (t0, s0), (t1, s1) = self._seen[0], self._seen[-1]
        if s1 <= s0:  # one record, or no step since the oldest
            return math.inf
        return (total - step) / ((s1 - s0) / (t1 - t0))
