"""The controls above a step's numbers: which batch entry and head of a >2-D step are shown,
the caption of that slice, and the table's decimals (remembered: "walkthrough/precision").
"""
from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QWidget

from engine.model.trace import Step
from gui import settings
from gui.panels.walkthrough.labels import slice_index
from gui.panels.walkthrough.table_model import DEFAULT_PRECISION, GREY
from gui.widgets.language import Translated

PRECISION_KEY = "walkthrough/precision"
MAX_PRECISION = 8


def set_shown(widget: QWidget, on: bool) -> None:
    """setVisible only on a change: each call re-lays out the panel even when nothing changes."""
    if widget.isHidden() == on:
        widget.setVisible(on)


class SliceForm(Translated, QWidget):
    """Batch and head selectors (shown only for steps that have those axes) and decimals."""

    slice_changed = Signal()  # another batch entry or head was chosen
    precision_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.batch_label, self.head_label = QLabel(), QLabel()
        self.batch_spin, self.head_spin = QSpinBox(), QSpinBox()
        self.batch_spin.valueChanged.connect(self.slice_changed)
        self.head_spin.valueChanged.connect(self.slice_changed)
        self.caption = QLabel()
        self.caption.setStyleSheet(f"color: {GREY};")
        self.precision_label = QLabel()
        self.precision_spin = QSpinBox()
        self.precision_spin.setRange(0, MAX_PRECISION)
        saved = settings.read(PRECISION_KEY, DEFAULT_PRECISION)
        self.precision_spin.setValue(min(max(saved, 0), MAX_PRECISION))
        self.precision_spin.valueChanged.connect(self._on_precision)

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for w in (self.batch_label, self.batch_spin, self.head_label, self.head_spin,
                  self.caption):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.precision_label)
        row.addWidget(self.precision_spin)
        self._retranslate()

    def _retranslate(self) -> None:
        """The labels in the interface language (the caption is the panel's: it shows data)."""
        self.batch_label.setText(self.tr("batch entry"))
        self.head_label.setText(self.tr("head"))
        self.precision_label.setText(self.tr("decimals"))

    def configure(self, step: Step) -> None:
        """Show the selectors `step` has (a leading batch or heads axis), with their ranges."""
        axes, shape = step.axes, step.shape
        lead = axes[:-2] if len(shape) > 2 else ()
        for axis, label, spin in (("batch", self.batch_label, self.batch_spin),
                                  ("heads", self.head_label, self.head_spin)):
            on = axis in lead
            set_shown(label, on)
            set_shown(spin, on)
            if on:
                spin.blockSignals(True)  # one redraw for the step, not one per selector
                spin.setRange(0, shape[axes.index(axis)] - 1)
                spin.blockSignals(False)

    def index_for(self, step: Step) -> tuple[tuple[int, ...], int]:
        """The chosen slice of `step` and its batch entry (labels.slice_index)."""
        return slice_index(step, self.batch_spin.value(), self.head_spin.value())

    def select(self, batch: int | None = None, head: int | None = None) -> None:
        """Choose a batch entry and/or head (a change emits slice_changed)."""
        if batch is not None:
            self.batch_spin.setValue(batch)
        if head is not None:
            self.head_spin.setValue(head)

    def precision(self) -> int:
        return self.precision_spin.value()

    def set_precision(self, precision: int) -> None:
        """Decimals (clamped to 0-8); a change is remembered and emits precision_changed."""
        self.precision_spin.setValue(min(max(int(precision), 0), MAX_PRECISION))

    @Slot(int)
    def _on_precision(self, precision: int) -> None:
        settings.write(PRECISION_KEY, precision)
        self.precision_changed.emit(precision)
