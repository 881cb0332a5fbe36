"""How `train` shows a run as it goes: a tqdm bar on a terminal, plain lines otherwise.

A 600-step run piped to a log printed nothing for 73 s. Where stderr is not a terminal (a
log file, a CI job, a notebook's pipe) a bar's carriage returns are noise, so a plain line
says where the run is at every evaluation and at least every `interval_s` seconds.
"""
from __future__ import annotations

import sys
import time
from typing import TextIO

from engine.training.records import StepRecord


def step_line(rec: StepRecord, total: int) -> str:
    """'step 120/600: loss 2.3456, val 2.5012, 19,636 tokens/s'."""
    val = "" if rec.val_loss is None else f", val {rec.val_loss:.4f}"
    return (f"step {rec.step:,}/{total:,}: loss {rec.train_loss:.4f}{val}, "
            f"{rec.tokens_per_s:,.0f} tokens/s")


class TrainProgress:
    """The progress of one run on `stream`: `update` with each record, `close` at the end.
    `enabled` False (--json, a rank > 0) shows nothing."""

    def __init__(self, total: int, initial: int, *, enabled: bool, interval_s: float = 10.0,
                 stream: TextIO | None = None):
        self.total, self.interval_s = total, interval_s
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self._bar = None
        self._last = time.monotonic()
        terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        if enabled and terminal:
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=initial, desc="training", unit="step",
                             file=self.stream)

    def update(self, rec: StepRecord) -> None:
        """Show a record (a logged step or an evaluation)."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(rec.step - self._bar.n)
            post = {"loss": f"{rec.train_loss:.4f}", "tok/s": f"{rec.tokens_per_s:,.0f}"}
            if rec.val_loss is not None:
                post["val"] = f"{rec.val_loss:.4f}"
            self._bar.set_postfix(post, refresh=False)
            return
        now = time.monotonic()
        if rec.val_loss is not None or now - self._last >= self.interval_s:
            print(step_line(rec, self.total), file=self.stream, flush=True)
            self._last = now

    def close(self) -> None:
        """End the bar (its line stays); nothing for plain lines."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
