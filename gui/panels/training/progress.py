"""The run's progress: a bar (tokenizing, then steps) and one line of text (step, loss, pace,
ETA, or what the run is doing)."""
from __future__ import annotations

import time

from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from gui.panels.training.eta import Eta, format_duration
from gui.strings import translate

IDLE_TEXT = "Not training."
LABEL_S = 0.5  # progress text and ETA change at most twice a second


class RunProgress(QWidget):
    """Progress bar and line of one run."""

    def __init__(self, lang: str = "en", parent: QWidget | None = None):
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setTextVisible(False)  # no "0 / 1 steps" before the first run
        self.label = QLabel(translate(IDLE_TEXT, lang))
        self.label.setWordWrap(True)
        self._idle = True  # the line shows IDLE_TEXT (re-translated on a language switch)
        self._eta = Eta()
        self._label_time = 0.0
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(4)
        v.addWidget(self.bar)
        v.addWidget(self.label)

    def set_language(self, lang: str) -> None:
        if self._idle:
            self.label.setText(translate(IDLE_TEXT, lang))

    def say(self, text: str) -> None:
        """Show `text` as the progress line."""
        self._idle = False
        self.label.setText(text)

    def busy(self, text: str) -> None:
        """A run is starting: a busy bar until the process reports."""
        self._eta.reset()
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        self.say(text)

    def tokenizing(self, done: int, total: int) -> None:
        if total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * done / total))
            self.bar.setFormat(f"tokenizing {100 * done / total:.0f}%")
            self.bar.setTextVisible(True)

    def steps(self, step: int, total: int) -> None:
        """The run trains from `step` to `total`."""
        self.bar.setRange(0, total)
        self.bar.setFormat("%v / %m steps")
        self.bar.setValue(step)
        self.bar.setTextVisible(True)

    def resumed(self) -> None:
        self._eta.reset()

    def record(self, row: dict, total: int, running: bool) -> None:
        """The newest record; the line (with the ETA) changes at most every LABEL_S."""
        step = int(row["step"])
        self.bar.setValue(min(step, self.bar.maximum()))
        now = time.monotonic()
        if now - self._label_time < LABEL_S and row.get("event") == "step":
            return
        self._label_time = now
        eta = self._eta.note(now, step, total)
        if running:
            self.say(f"step {step:,} / {total:,} · loss {row.get('train_loss'):.3f} · "
                     f"{row.get('tokens_per_s', 0):,.0f} tokens/s · ETA {format_duration(eta)}")

    def clear(self, text: str) -> None:
        """No run: an empty bar and `text`."""
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setTextVisible(False)
        self.say(text)
