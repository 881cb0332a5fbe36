"""The Attention panel's settings: every block at once or one block (layer), and which stage
to show."""
from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.panels.attention.stages import CONTEXT, STAGE_NAMES, STAGES
from gui.widgets.language import Translated


class AttentionForm(Translated, QWidget):
    """Layer combo and stage buttons; `layer_chosen` / `stage_chosen` fire for the user's
    choices only (the `show_*` methods change them silently)."""

    layer_chosen = Signal(int)
    stage_chosen = Signal(str)
    overview_chosen = Signal(bool)  # True: every block at once; False: the chosen block

    def __init__(self, stage: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.layer_combo = QComboBox()
        self.layer_combo.currentIndexChanged.connect(self._on_layer_combo)
        self.stage_buttons: dict[str, QToolButton] = {}
        self.stage_group = QButtonGroup(self)
        self.stage_group.setExclusive(True)
        # Two rows, the block and the stage: on one, the stage buttons ran out of a 350 px
        # dock (the default layout's middle column at 1366 x 768).
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(2)
        layout = QHBoxLayout()
        rows.addLayout(layout)
        self.overview_button = QToolButton()
        self.overview_button.setCheckable(True)
        self.overview_button.clicked.connect(self.overview_chosen)
        layout.addWidget(self.overview_button)
        self.layer_label = QLabel()
        layout.addWidget(self.layer_label)
        layout.addWidget(self.layer_combo)
        layout.addStretch(1)
        layout = QHBoxLayout()
        rows.addLayout(layout)
        self.stage_label = QLabel()
        layout.addWidget(self.stage_label)
        for i, name in enumerate(STAGES):
            if name == "mask":
                layout.addSpacing(6)
            elif i:
                layout.addWidget(QLabel("→"))
            b = QToolButton()
            b.setCheckable(True)
            b.clicked.connect(lambda _=False, s=name: self.stage_chosen.emit(s))
            self.stage_group.addButton(b)
            self.stage_buttons[name] = b
            layout.addWidget(b)
        layout.addStretch(1)
        self.stage_buttons[stage].setChecked(True)
        self._retranslate()

    def _retranslate(self) -> None:
        self.overview_button.setText(self.tr("All blocks"))
        self.overview_button.setToolTip(self.tr("Every head of every block at once; click a "
                                                "head to enlarge it"))
        self.layer_label.setText(self.tr("Layer:"))
        self.stage_label.setText(self.tr("Stage:"))
        for name, b in self.stage_buttons.items():
            b.setText(QCoreApplication.translate(CONTEXT, STAGE_NAMES[name]))
        for i in range(self.layer_combo.count()):
            self.layer_combo.setItemText(i, self.tr("Block {0}").format(i))

    def set_layers(self, n_layer: int, current: int) -> None:
        """Offer blocks 0 … n_layer-1 with `current` chosen."""
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for i in range(n_layer):
            self.layer_combo.addItem(self.tr("Block {0}").format(i), i)
        self.layer_combo.setCurrentIndex(current if n_layer else -1)
        self.layer_combo.blockSignals(False)

    def n_layers(self) -> int:
        """How many blocks are offered."""
        return self.layer_combo.count()

    def show_layer(self, layer: int) -> None:
        """Choose block `layer` without `layer_chosen`."""
        if self.layer_combo.count() and self.layer_combo.currentIndex() != layer:
            self.layer_combo.blockSignals(True)
            self.layer_combo.setCurrentIndex(layer)
            self.layer_combo.blockSignals(False)

    def show_stage(self, stage: str) -> None:
        """Check the button of `stage`."""
        self.stage_buttons[stage].setChecked(True)

    def show_overview(self, on: bool) -> None:
        """Check (or uncheck) "All blocks" without `overview_chosen`."""
        self.overview_button.setChecked(on)

    def _on_layer_combo(self, index: int) -> None:
        if index >= 0:
            self.layer_chosen.emit(index)
