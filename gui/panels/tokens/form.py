"""The Tokens panel's one setting: which tokenizer splits the text (the model's own, or any
other available one to compare with), beside the legend of the visible whitespace."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget


class TokenizerForm(QWidget):
    """A tokenizer choice; `changed` fires when the user picks another one."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        legend = QLabel(self.tr("· space   ↵ newline   <e6 8e> bytes of a partial character"))
        legend.setStyleSheet("color: #666;")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(self.tr("Tokenizer:")))
        layout.addWidget(self.combo)
        layout.addStretch(1)
        layout.addWidget(legend)

    def offer(self, names: list[str], own: str | None) -> None:
        """Offer `names`, the model's own (`own`) marked and chosen; no `changed`."""
        self.combo.blockSignals(True)
        self.combo.clear()
        for name in names:
            label = self.tr("{0} (the model's)").format(name) if name == own else name
            self.combo.addItem(label, name)
        default = own if own is not None else names[0]
        self.combo.setCurrentIndex(max(self.combo.findData(default), 0))
        self.combo.blockSignals(False)

    def name(self) -> str:
        """The chosen tokenizer's name."""
        return self.combo.currentData() or ""

    def choose(self, name: str) -> None:
        """Choose `name` (one of the offered names), as the user would."""
        i = self.combo.findData(name)
        if i < 0:
            raise ValueError(f"tokenizer {name!r} is not offered here")
        self.combo.setCurrentIndex(i)
