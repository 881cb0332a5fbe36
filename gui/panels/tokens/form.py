"""The Tokens panel's one setting: which tokenizer splits the text (the model's own, or any
other available one to compare with), beside the legend of the visible whitespace."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget
from gui.widgets.language import Translated


class TokenizerForm(Translated, QWidget):
    """A tokenizer choice; `changed` fires when the user picks another one."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._own: str | None = None  # the model's tokenizer, marked in the list
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.legend = QLabel()
        self.legend.setStyleSheet("color: #666;")
        self.label = QLabel()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.combo)
        layout.addStretch(1)
        layout.addWidget(self.legend)
        self._retranslate()

    def _retranslate(self) -> None:
        self.legend.setText(self.tr("· space   ↵ newline   <e6 8e> bytes of a partial character"))
        self.label.setText(self.tr("Tokenizer:"))
        for i in range(self.combo.count()):
            self.combo.setItemText(i, self._label(self.combo.itemData(i)))

    def _label(self, name: str) -> str:
        return self.tr("{0} (the model's)").format(name) if name == self._own else name

    def offer(self, names: list[str], own: str | None) -> None:
        """Offer `names`, the model's own (`own`) marked and chosen; no `changed`."""
        self.combo.blockSignals(True)
        self.combo.clear()
        self._own = own
        for name in names:
            self.combo.addItem(self._label(name), name)
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
