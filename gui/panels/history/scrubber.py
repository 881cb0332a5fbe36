"""The history's slider over the snapshot steps, with the title saying which model every
panel shows, a note below, and Live.

A click asks for its step at once; a drag asks at most every THROTTLE_MS, and once more where
it stops (leading and trailing edge), so a drag never queues a load per pixel.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget
from gui.widgets.language import Translated

THROTTLE_MS = 60  # while dragging, at most one request per this many ms


class Scrubber(Translated, QWidget):
    """Title, slider row (first step, slider, last step, current step, Live) and a note."""

    scrubbed = Signal()  # the slider asks for its current step

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._steps: list[int] = []
        self.title = QLabel()
        title_font = QFont()
        title_font.setPointSizeF(12.0)
        title_font.setBold(True)
        self.title.setFont(title_font)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setPageStep(1)
        self.slider.valueChanged.connect(self._on_slider)
        self.first_label = QLabel()
        self.last_label = QLabel()
        self.step_label = QLabel()
        self.step_label.setMinimumWidth(90)
        self.live_button = QPushButton()
        self.snapshot_label = QLabel()
        row = QHBoxLayout()
        row.addWidget(self.snapshot_label)
        row.addWidget(self.first_label)
        row.addWidget(self.slider, 1)
        row.addWidget(self.last_label)
        row.addWidget(self.step_label)
        row.addWidget(self.live_button)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #444;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(row)
        layout.addWidget(self.note)

        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.setInterval(THROTTLE_MS)
        self._throttle.timeout.connect(self._on_throttle)
        self._moved = False  # the slider moved while the throttle was closed
        self._retranslate()

    def _retranslate(self) -> None:
        """The texts of the row (the title and note are the panel's)."""
        self.live_button.setText(self.tr("Live"))
        self.live_button.setToolTip(self.tr("Back to the current model"))
        self.snapshot_label.setText(self.tr("Snapshot:"))
        if self._steps:
            self.step_label.setText(self.tr("step {0}").format(self.step()))

    def steps(self) -> list[int]:
        """The snapshot steps the slider runs over, oldest first."""
        return list(self._steps)

    def step(self) -> int | None:
        """The step under the slider."""
        return self._steps[self.slider.value()] if self._steps else None

    def set_step(self, step: int) -> None:
        """Move the slider to `step` (a snapshot step); asks for it as a click would."""
        self.slider.setValue(self._steps.index(step))

    def set_steps(self, steps: list[int]) -> None:
        """Run over `steps`, staying on the current step if it is still there, else on the
        newest; [] only forgets them (the slider is hidden behind the empty state then)."""
        if not steps:
            self._steps = []
            return
        keep = self.step()
        self._steps = list(steps)
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(steps) - 1)
        self.slider.setValue(steps.index(keep) if keep in steps else len(steps) - 1)
        self.slider.blockSignals(False)
        self.first_label.setText(str(steps[0]))
        self.last_label.setText(str(steps[-1]))
        self.step_label.setText(self.tr("step {0}").format(self.step()))

    def moving(self) -> bool:
        """A drag moved the slider and its request is still to come."""
        return self._moved

    def stop(self) -> None:
        """Forget a request still to come."""
        self._throttle.stop()
        self._moved = False

    def show_state(self, title: str, note: str, snapshot: bool) -> None:
        """Which model every panel shows: a snapshot (highlighted, Live enabled) or live."""
        self.title.setText(title)
        self.title.setStyleSheet("color: #a04000;" if snapshot else "")
        self.set_note(note)
        self.live_button.setEnabled(snapshot)

    def set_note(self, text: str, error: bool = False) -> None:
        self.note.setText(text)
        self.note.setStyleSheet("color: #b00020;" if error else "color: #444;")

    def _on_slider(self, index: int) -> None:
        if not self._steps:
            return
        self.step_label.setText(self.tr("step {0}").format(self._steps[index]))
        if self._throttle.isActive():
            self._moved = True
            return
        self.scrubbed.emit()
        self._throttle.start()

    def _on_throttle(self) -> None:
        if self._moved:
            self._moved = False
            self.scrubbed.emit()
            self._throttle.start()
