"""The rotary Frequencies tab: for each chosen pair i, cos(m·θᵢ) (solid) and sin(m·θᵢ)
(dashed) over the positions m, from the model's own angle table and scaling. A model with two
tables (Gemma 3: global for full-attention blocks, local for sliding-window ones) offers both,
each named with its base, scaling and blocks."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, \
    QSpinBox, QVBoxLayout, QWidget

from engine.config import MAX_CONTEXT
from engine.model.decoder import GPT
from engine.model.rotary_readings import RotaryTable, angle_waves, rotary_tables
from gui.panels.positional.rotary import default_pairs, scaling_text, table_label, \
    two_sentences, wavelength
from gui.panels.positional.waves_view import PALETTE
from gui.widgets import NoteLabel, format_value
from gui.widgets.language import Translated


class RotaryWavesView(Translated, QWidget):
    """A pair list and a positions box beside the cos and sin waves of the ticked pairs."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._model: GPT | None = None
        self._tables: list[RotaryTable] = []
        self.table_title = QLabel()
        self.table_box = QComboBox()  # shown only for a model with two tables
        self.table_box.currentIndexChanged.connect(self._table_chosen)
        self.table_note = NoteLabel(lines=2)  # the shown table's base, scaling and blocks
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
        self.note = NoteLabel(lines=4)
        self.pairs_title, self.positions_title = QLabel(), QLabel()
        side = QVBoxLayout()
        side.addWidget(self.pairs_title)
        side.addWidget(self.pair_list, 1)
        row = QHBoxLayout()
        row.addWidget(self.positions_title)
        row.addWidget(self.positions)
        side.addLayout(row)
        tables = QHBoxLayout()
        tables.addWidget(self.table_title)
        tables.addWidget(self.table_box)
        tables.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.plot, 1)
        right.addWidget(self.note)
        below = QHBoxLayout()
        below.addLayout(side)
        below.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(tables)
        layout.addWidget(self.table_note)
        layout.addLayout(below, 1)
        self._retranslate()

    def _retranslate(self) -> None:
        self.plot.setLabel("bottom", self.tr("position m"))
        self.plot.setLabel("left", self.tr("cos ─  sin ┄"))
        self.pairs_title.setText(self.tr("Pairs i:"))
        self.table_title.setText(self.tr("Angle table:"))
        self.positions_title.setText(self.tr("Positions:"))
        self.set_model(self._model, self.shown_table().local if self._tables else False)

    def set_model(self, model: GPT | None, local: bool = False) -> None:
        """Offer `model`'s tables (the local one shown when `local` and it has one) and the
        pairs of the table shown, the fast ones and the slowest ticked."""
        self._model = model
        self._tables = rotary_tables(model.config) if model is not None else []
        self.table_box.blockSignals(True)
        self.table_box.clear()
        for i, t in enumerate(self._tables):
            self.table_box.addItem(self.tr("local (sliding-window blocks)") if t.local
                                   else self.tr("global (full-attention blocks)"))
            self.table_box.setItemData(i, table_label(t), Qt.ItemDataRole.ToolTipRole)
        index = next((i for i, t in enumerate(self._tables) if t.local == local), 0)
        self.table_box.setCurrentIndex(index)
        self.table_box.blockSignals(False)
        for widget in (self.table_title, self.table_box, self.table_note):
            widget.setVisible(len(self._tables) > 1)
        self._fill_pairs()

    def tables(self) -> list[RotaryTable]:
        """The model's angle tables, global first."""
        return list(self._tables)

    def shown_table(self) -> RotaryTable:
        """The table whose waves are drawn."""
        return self._tables[max(self.table_box.currentIndex(), 0)]

    def show_table(self, local: bool) -> None:
        """Draw the local table (Gemma 3's sliding blocks') or the global one; a model with one
        table keeps it."""
        index = next((i for i, t in enumerate(self._tables) if t.local == local), None)
        if index is not None and index != self.table_box.currentIndex():
            self.table_box.setCurrentIndex(index)  # _table_chosen redraws

    def _table_chosen(self, _index: int) -> None:
        ticked = self.shown_pairs()
        self._fill_pairs(ticked)

    def _fill_pairs(self, ticked: list[int] | None = None) -> None:
        """The pair list of the table shown: `ticked` kept, else the default pairs."""
        model = self._model
        self.pair_list.blockSignals(True)
        self.pair_list.clear()
        if model is not None:
            theta, _cos, _sin = angle_waves(model.config, 1, self.shown_table().local)
            ticked = default_pairs(len(theta)) if ticked is None else ticked
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
        table = self.shown_table()
        self.table_note.setText(table_label(table))
        theta, cos, sin = angle_waves(model.config, n, table.local)  # (d/2,), (n, d/2) twice
        pairs = self.shown_pairs()
        for k, i in enumerate(pairs):
            colour = PALETTE[k % len(PALETTE)]
            self.plot.plot(cos[:, i], pen=pg.mkPen(colour, width=2))
            self.plot.plot(sin[:, i], pen=pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine))
            self.pair_list.item(i).setForeground(QColor(colour))
        note = self.tr(
            "Rotary positions add nothing to the token vectors: pair i of every head's q and k "
            "turns by the angle m·θᵢ at position m, θᵢ = base^(−2i/d), base {0}, d = {1}{2}. "
            "Fast pairs tell near positions apart, slow pairs far ones.").format(
            format_value(table.base), model.config.rotary_size, scaling_text(table))
        if len(self._tables) > 1:
            other = next(t for t in self._tables if t.local != table.local)
            note = two_sentences(note, (self.tr(
                "This model has two tables: shown, the local one of its sliding-window blocks "
                "({0}); the global one (base {1}) turns its full-attention blocks ({2}).") if
                table.local else self.tr(
                "This model has two tables: shown, the global one of its full-attention blocks "
                "({0}); the local one (base {1}) turns its sliding-window blocks ({2}).")).format(
                table.blocks_text(), format_value(other.base), other.blocks_text()))
        self.note.setText(note)
