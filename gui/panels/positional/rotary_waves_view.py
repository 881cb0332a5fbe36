"""The rotary Frequencies tab: for each chosen pair i, cos(m·θᵢ) (solid) and sin(m·θᵢ)
(dashed) over the positions m, from the model's own angle table and scaling."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QSpinBox, \
    QVBoxLayout, QWidget

from engine.config import MAX_CONTEXT
from engine.model.decoder import GPT
from engine.model.rotary_readings import angle_waves
from gui.panels.positional.rotary import default_pairs, wavelength
from gui.panels.positional.waves_view import PALETTE
from gui.widgets import NoteLabel, format_value
from gui.widgets.language import Translated


class RotaryWavesView(Translated, QWidget):
    """A pair list and a positions box beside the cos and sin waves of the ticked pairs."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._model: GPT | None = None
        self.pair_list = QListWidget()
        self.pair_list.setMaximumWidth(170)
        self.pair_list.itemChanged.connect(lambda _item: self.draw())
        self.positions = QSpinBox()
        self.positions.setRange(2, MAX_CONTEXT)
        self.positions.setValue(64)
        self.positions.setKeyboardTracking(False)
        self.positions.valueChanged.connect(self.draw)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.note = NoteLabel(lines=3)
        self.pairs_title, self.positions_title = QLabel(), QLabel()
        side = QVBoxLayout()
        side.addWidget(self.pairs_title)
        side.addWidget(self.pair_list, 1)
        row = QHBoxLayout()
        row.addWidget(self.positions_title)
        row.addWidget(self.positions)
        side.addLayout(row)
        right = QVBoxLayout()
        right.addWidget(self.plot, 1)
        right.addWidget(self.note)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(side)
        layout.addLayout(right, 1)
        self._retranslate()

    def _retranslate(self) -> None:
        self.plot.setLabel("bottom", self.tr("position m"))
        self.plot.setLabel("left", self.tr("cos ─  sin ┄"))
        self.pairs_title.setText(self.tr("Pairs i:"))
        self.positions_title.setText(self.tr("Positions:"))
        self.set_model(self._model)

    def set_model(self, model: GPT | None) -> None:
        """Offer `model`'s pairs, the fast ones and the slowest ticked."""
        self._model = model
        self.pair_list.blockSignals(True)
        self.pair_list.clear()
        if model is not None:
            theta, _cos, _sin = angle_waves(model.config, 1)
            ticked = default_pairs(len(theta))
            for i, t in enumerate(theta):
                item = QListWidgetItem(self.tr("{0}: θ = {1}").format(i, format_value(float(t))))
                item.setToolTip(self.tr("pair {0}: θ = {1}, once round in {2} positions").format(
                    i, format_value(float(t)), format_value(wavelength(float(t)))))
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if i in ticked
                                   else Qt.CheckState.Unchecked)
                self.pair_list.addItem(item)
        self.pair_list.blockSignals(False)
        self.draw()

    def shown_pairs(self) -> list[int]:
        """The ticked pairs, ascending."""
        return [i for i in range(self.pair_list.count())
                if self.pair_list.item(i).checkState() == Qt.CheckState.Checked]

    def set_pairs(self, pairs: list[int]) -> None:
        """Draw exactly these pairs."""
        self.pair_list.blockSignals(True)
        for i in range(self.pair_list.count()):
            self.pair_list.item(i).setCheckState(
                Qt.CheckState.Checked if i in pairs else Qt.CheckState.Unchecked)
        self.pair_list.blockSignals(False)
        self.draw()

    def draw(self, *_args) -> None:
        """cos and sin of every ticked pair over the chosen positions."""
        self.plot.clear()
        model = self._model
        if model is None:
            return
        n = self.positions.value()
        theta, cos, sin = angle_waves(model.config, n)  # (d/2,), (n, d/2), (n, d/2)
        pairs = self.shown_pairs()
        for k, i in enumerate(pairs):
            colour = PALETTE[k % len(PALETTE)]
            self.plot.plot(cos[:, i], pen=pg.mkPen(colour, width=2))
            self.plot.plot(sin[:, i], pen=pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine))
            self.pair_list.item(i).setForeground(QColor(colour))
        scaling = (model.config.rope_scaling or {}).get("kind")
        self.note.setText(self.tr(
            "Rotary positions add nothing to the token vectors: pair i of every head's q and k "
            "turns by the angle m·θᵢ at position m, θᵢ = base^(−2i/d), base {0}, d = {1}{2}. "
            "Fast pairs tell near positions apart, slow pairs far ones.").format(
            format_value(model.config.rope_theta), model.config.rotary_size,
            self.tr(", scaled ({0})").format(scaling) if scaling else ""))
