"""The Waves tab: chosen columns of the positional table as curves over the positions, the
context's end marked, and the positions past the context length shaded."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.config import MAX_CONTEXT
from engine.model.decoder import GPT
from gui.panels.positional.waves import DEFAULT_DIMS, dim_kind, is_learned, wave_table
from gui.widgets import NoteLabel
from gui.widgets.export import install_export_menu
from gui.widgets.language import Translated

# Distinct, print-safe line colours (matplotlib's tab10), readable on white.
LEGEND_MIN_CURVES_PX = 260  # the plot keeps at least this much beside its legend

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")


class WavesView(Translated, QWidget):
    """A dimension list and a positions box beside the plot of the chosen waves."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._model: GPT | None = None
        self._curves: dict[int, pg.PlotDataItem] = {}
        self._table = np.zeros((0, 0), dtype=np.float32)  # (positions, C) drawn as waves
        self._context_T: int | None = None  # the context's length, marked by a line

        self.dim_list = QListWidget()
        self.dim_list.setMaximumWidth(190)
        self.dim_list.itemChanged.connect(self._on_dim_toggled)
        self.positions = QSpinBox()
        self.positions.setRange(1, MAX_CONTEXT)
        self.positions.setKeyboardTracking(False)
        self.positions.valueChanged.connect(self.draw)
        self.plot = pg.PlotWidget(background="w")
        install_export_menu(self.plot, "positional waves")
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        for name in ("left", "bottom"):
            self.plot.getAxis(name).enableAutoSIPrefix(False)
        self.legend = self.plot.addLegend(offset=(-4, 4), labelTextColor=(30, 30, 30))
        # The legend sits in a margin right of the curves, never over them; in a narrow plot
        # it is left out, and the dimension list beside, coloured as the curves, names them.
        self.legend.setParentItem(self.plot.getPlotItem())
        # Label to the left of the line, at the bottom, clear of the legend in the top corner.
        self.context_line = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen(200, 30, 30, style=Qt.PenStyle.DashLine),
            label="", labelOpts={"position": 0.04, "color": (200, 30, 30),
                                 "fill": (255, 255, 255, 200), "anchors": [(1, 1), (1, 1)]})
        self.plot.addItem(self.context_line, ignoreBounds=True)
        self.beyond = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(0, 0, 0, 18),
                                          pen=pg.mkPen(None))
        self.plot.addItem(self.beyond, ignoreBounds=True)
        self.note = NoteLabel(lines=2)
        self.note.setStyleSheet("color: #444;")

        dims_box = QWidget()
        dims_layout = QVBoxLayout(dims_box)
        dims_layout.setContentsMargins(0, 0, 0, 0)
        self.dims_title = QLabel()
        dims_layout.addWidget(self.dims_title)
        dims_layout.addWidget(self.dim_list, 1)
        pos_row = QHBoxLayout()
        self.positions_title = QLabel()
        pos_row.addWidget(self.positions_title)
        pos_row.addWidget(self.positions)
        dims_layout.addLayout(pos_row)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(dims_box)
        plot_box = QVBoxLayout()
        plot_box.addWidget(self.plot, 1)
        plot_box.addWidget(self.note)
        layout.addLayout(plot_box, 1)
        self._retranslate()

    def _retranslate(self) -> None:
        self.plot.setLabel("bottom", self.tr("position"))
        self.plot.setLabel("left", self.tr("PE value"))
        self.dims_title.setText(self.tr("Dimensions:"))
        self.positions_title.setText(self.tr("Positions:"))
        self.dim_list.blockSignals(True)
        for j in range(self.dim_list.count()):
            self.dim_list.item(j).setText(self.dim_label(j))
        self.dim_list.blockSignals(False)
        # The legend names each curve as it is made: make them again under the new names.
        for curve in self._curves.values():
            self.plot.removeItem(curve)
        self._curves = {}
        self.mark_context(self._context_T)
        self.draw()

    # -- what the panel asks -------------------------------------------------------------------
    def set_model(self, model: GPT | None) -> None:
        """Offer `model`'s dimensions (DEFAULT_DIMS ticked) and draw its waves."""
        self._model = model
        for curve in self._curves.values():
            self.plot.removeItem(curve)
        self._curves = {}
        self.dim_list.blockSignals(True)
        self.dim_list.clear()
        if model is not None:
            C, T = model.config.d_model, model.config.context_length
            for j in range(C):
                item = QListWidgetItem(self.dim_label(j))
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if j in DEFAULT_DIMS
                                   else Qt.CheckState.Unchecked)
                self.dim_list.addItem(item)
            self.positions.blockSignals(True)
            # A learned table has only context_length rows; the formula goes on for ever.
            self.positions.setMaximum(T if is_learned(model) else MAX_CONTEXT)
            self.positions.setValue(T)
            self.positions.blockSignals(False)
        self.dim_list.blockSignals(False)
        self.draw()

    def set_dims(self, dims: list[int]) -> None:
        """Draw waves for exactly these dimensions."""
        wanted = set(dims)
        self.dim_list.blockSignals(True)
        for j in range(self.dim_list.count()):
            item = self.dim_list.item(j)
            item.setCheckState(Qt.CheckState.Checked if j in wanted else Qt.CheckState.Unchecked)
        self.dim_list.blockSignals(False)
        self.draw()

    def shown_dims(self) -> list[int]:
        """The dimensions drawn, ascending."""
        return sorted(self._curves)

    def wave(self, dim: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, values) of the curve drawn for `dim`."""
        x, y = self._curves[dim].getData()
        return np.asarray(x), np.asarray(y)

    def dim_label(self, j: int) -> str:
        """Legend text: 'dim 4 (sin, i=2)' for sinusoidal tables, 'dim 4 (learned)' otherwise."""
        if is_learned(self._model):
            return self.tr("dim {0} (learned)").format(j)
        kind, i = dim_kind(j)
        return self.tr("dim {0} ({1}, i={2})").format(j, kind, i)

    def mark_context(self, T: int | None) -> None:
        """A dashed line at the context's last position (T tokens); None hides it."""
        self._context_T = T
        if T is None:
            self.context_line.setVisible(False)
            return
        self.context_line.setVisible(True)
        self.context_line.setValue(T - 1)
        self.context_line.label.setFormat(self.tr("context ends (T = {0})").format(T))

    # -- drawing -------------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._place_legend()

    def _place_legend(self) -> None:
        """The legend in a right margin of the plot when the curves keep LEGEND_MIN_CURVES_PX
        beside it, else hidden (the dimension list, in the curves' colours, names them)."""
        item = self.plot.getPlotItem()
        width = self.legend.boundingRect().width() + 8
        fits = bool(self._curves) and self.plot.width() - width >= LEGEND_MIN_CURVES_PX
        self.legend.setVisible(fits)
        item.layout.setContentsMargins(0, 0, width if fits else 0, 0)

    def _on_dim_toggled(self, _item: QListWidgetItem) -> None:
        self.draw()

    def draw(self, *_args) -> None:
        """Draw the ticked dimensions over the chosen number of positions."""
        model = self._model
        if model is None:
            return
        if model.position_table() is None:  # rotary: nothing to draw here, and it says so
            for j in list(self._curves):
                self.plot.removeItem(self._curves.pop(j))
            self.note.setText(self.tr("This model has no position table: its positions turn "
                                      "each head's q and k instead (rotary)."))
            return
        T_max = model.config.context_length
        n = self.positions.value()
        self._table = wave_table(model, n)
        x = np.arange(n)
        checked = [j for j in range(self.dim_list.count())
                   if self.dim_list.item(j).checkState() == Qt.CheckState.Checked]
        for j in list(self._curves):
            if j not in checked:
                self.plot.removeItem(self._curves.pop(j))
        symbols = n <= 64  # dots mark the positions that exist; too many would blur the wave
        for k, j in enumerate(checked):
            pen = pg.mkPen(PALETTE[k % len(PALETTE)], width=2)
            opts = dict(pen=pen, symbol="o" if symbols else None, symbolSize=5,
                        symbolBrush=pen.color(), symbolPen=None)
            if j not in self._curves:
                self._curves[j] = self.plot.plot(x, self._table[:, j], name=self.dim_label(j),
                                                 **opts)
            else:
                self._curves[j].setData(x, self._table[:, j], **opts)
        self.dim_list.blockSignals(True)
        for k, j in enumerate(checked):  # the list names each curve in its colour
            self.dim_list.item(j).setForeground(QColor(PALETTE[k % len(PALETTE)]))
        for j in set(range(self.dim_list.count())) - set(checked):
            self.dim_list.item(j).setForeground(QColor(60, 60, 60))
        self.dim_list.blockSignals(False)
        self._place_legend()
        beyond = n > T_max
        self.beyond.setVisible(beyond)
        if beyond:
            self.beyond.setRegion((T_max - 0.5, n - 0.5))
        self.plot.setXRange(-0.5, n - 0.5, padding=0.02)
        kind = self.tr("learned (trained parameters)") if is_learned(model) else self.tr(
            "sinusoidal: PE(pos,2i) = sin(pos/10000^(2i/d)), PE(pos,2i+1) = cos(pos/10000^(2i/d))")
        note = self.tr("Each curve is one column of the positional table: {0}.").format(kind)
        if beyond:
            note += " " + self.tr("The shaded part lies beyond the context length ({0}); the "
                                  "model never sees those positions.").format(T_max)
        self.note.setText(note)
