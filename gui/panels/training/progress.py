"""The run's progress: a bar (tokenizing, then steps) and one line of text (step, loss, pace,
ETA, or what the run is doing)."""
from __future__ import annotations

import time
from typing import Callable

from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from gui.panels.training.eta import Eta, format_duration
from gui.widgets.language import Translated

LABEL_S = 0.5  # progress text and ETA change at most twice a second

Line = Callable[[], str]  # words the line in the installed language, when called


class RunProgress(Translated, QWidget):
    """Progress bar and line of one run. The line is kept as a function that words it, so a
    language switch words it again (a plain string stays as it is)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setTextVisible(False)  # no "0 / 1 steps" before the first run
        self.label = QLabel()
        self.label.setWordWrap(True)
        self._line: Line | str = lambda: self.tr("Not training.")
        self._bar_text: Line | None = None  # the bar's format, when it shows one
        self._eta = Eta()
        self._label_time = 0.0
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(4)
        v.addWidget(self.bar)
        v.addWidget(self.label)
        self._retranslate()

    def _retranslate(self) -> None:
        self.label.setText(self._line() if callable(self._line) else self._line)
        if self._bar_text is not None:
            self.bar.setFormat(self._bar_text())

    def say(self, line: Line | str) -> None:
        """Show `line` (a function that words it, or a string) as the progress line."""
        self._line = line
        self.label.setText(line() if callable(line) else line)

    def busy(self, line: Line | str) -> None:
        """A run is starting: a busy bar until the process reports."""
        self._eta.reset()
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        self._bar_text = None
        self.say(line)

    def tokenizing(self, done: int, total: int) -> None:
        if total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * done / total))
            self._set_bar_text(lambda: self.tr("tokenizing {percent}%").format(
                percent=f"{100 * done / total:.0f}"))

    def steps(self, step: int, total: int) -> None:
        """The run trains from `step` to `total`."""
        self.bar.setRange(0, total)
        self.bar.setValue(step)
        # %v and %m are QProgressBar's: the value and the maximum.
        self._set_bar_text(lambda: self.tr("%v / %m steps"))

    def _set_bar_text(self, text: Line) -> None:
        self._bar_text = text
        self.bar.setFormat(text())
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
            loss, speed = row.get("train_loss"), row.get("tokens_per_s", 0)
            self.say(lambda: self.tr(
                "step {step} / {total} · loss {loss} · {speed} tokens/s · ETA {eta}").format(
                    step=f"{step:,}", total=f"{total:,}", loss=f"{loss:.3f}",
                    speed=f"{speed:,.0f}", eta=format_duration(eta)))

    def clear(self, line: Line | str) -> None:
        """No run: an empty bar and `line`."""
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setTextVisible(False)
        self._bar_text = None
        self.say(line)
