"""The series the training plots draw, fed from the session's history rows (no widgets)."""
from __future__ import annotations

import math

import numpy as np

EMA_ALPHA = 0.05  # smoothing of the per-step loss curve (about the last 20 records)
NAMES = ("raw", "ema", "val", "lr", "speed")


class Series:
    """A growing float array (amortised O(1) append), handed to setData without copies."""

    def __init__(self) -> None:
        self.x = np.empty(1024)
        self.y = np.empty(1024)
        self.n = 0

    def append(self, x: float, y: float) -> None:
        if self.n == len(self.x):
            self.x = np.resize(self.x, 2 * self.n)
            self.y = np.resize(self.y, 2 * self.n)
        self.x[self.n], self.y[self.n] = x, y
        self.n += 1

    def clear(self) -> None:
        self.n = 0

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x[: self.n], self.y[: self.n]


class TrainingCurves:
    """Per-step loss, its moving average, validation loss, learning rate and tokens/s by step,
    following one history list as it grows (a new list, or a shorter one, starts over)."""

    def __init__(self) -> None:
        self.series = {name: Series() for name in NAMES}
        self._history_id = 0
        self._consumed = 0  # rows of the history already in the series
        self._ema: float | None = None

    def follow(self, history: list[dict]) -> None:
        """Take in the rows of `history` not seen yet."""
        if id(history) != self._history_id or len(history) < self._consumed:
            self._history_id = id(history)
            self._consumed = 0
            self._ema = None
            for s in self.series.values():
                s.clear()
        for row in history[self._consumed:]:
            self._add(row)
        self._consumed = len(history)

    def _add(self, row: dict) -> None:
        step = float(row.get("step", 0))
        if row.get("event", "step") in ("done", "stopped"):
            return  # run summaries repeat the last step's numbers
        loss = row.get("train_loss")
        if loss is not None and math.isfinite(loss):
            self.series["raw"].append(step, loss)
            # Starts at the first loss rather than 0, so the curve has no ramp-up artefact.
            self._ema = loss if self._ema is None else self._ema + EMA_ALPHA * (loss - self._ema)
            self.series["ema"].append(step, self._ema)
        if row.get("val_loss") is not None:
            self.series["val"].append(step, row["val_loss"])
        if row.get("lr") is not None:
            self.series["lr"].append(step, row["lr"])
        if row.get("tokens_per_s"):
            self.series["speed"].append(step, row["tokens_per_s"])
