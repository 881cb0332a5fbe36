"""The lookup page: the [T × d_model] rows of E looked up for the context, above the selected
token's vector as bars, with one readout line for both."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QSplitter, QWidget

from gui.panels.embeddings.layout import column
from gui.widgets import (
    SIGNED_CMAP,
    Heatmap,
    NoteLabel,
    fix_axes,
    format_value,
    static_plot,
    symmetric_levels,
)
from gui.widgets.language import Translated


class LookupPage(Translated, QSplitter):
    """E[ids] as a heatmap above one vector as bars; `row_clicked` fires for a clicked row."""

    row_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(Qt.Orientation.Vertical, parent)
        self._vector = np.zeros(0, dtype=np.float32)
        self._name = ""  # the piece whose vector the bars show, for the readout
        self.caption = NoteLabel()
        self.caption.setStyleSheet("color: #222;")
        # One readout line under both plots of the page: a line each cost the bars their height.
        self.heatmap = Heatmap(max_label_chars=12, readout=False)
        self.heatmap.clicked.connect(lambda r, _c: self.row_clicked.emit(r))
        self.heatmap.hovered.connect(self._show_readout)

        self.vector_title = NoteLabel()
        self.vector_title.setStyleSheet("font-weight: bold;")
        self.bar_plot = static_plot(tick_pt=None, grid_alpha=0.3)
        fix_axes(self.bar_plot, left_width=56)
        self.bars = pg.BarGraphItem(x=[0], height=[0], width=0.8)
        self.bar_plot.addItem(self.bars)
        self.readout = NoteLabel()
        self.bar_plot.scene().sigMouseMoved.connect(self._on_bar_hover)

        self.setChildrenCollapsible(False)
        self.addWidget(column(self.caption, self.heatmap))
        self.addWidget(column(self.vector_title, self.bar_plot, self.readout))
        self.setSizes([310, 170])
        self._retranslate()

    def _retranslate(self) -> None:
        self.heatmap.set_axis_titles(self.tr("position · token"), self.tr("dimension"))
        self.heatmap.set_hover_names("", self.tr("dim"))
        self.bar_plot.setLabel("bottom", self.tr("dimension"))
        self._show_readout("")

    def show_lookup(self, rows: np.ndarray, labels: list[str]) -> None:
        """The context's rows of E (T, C), one row label per position."""
        T, C = rows.shape
        self.heatmap.set_matrix(rows, labels, [str(j) for j in range(C)], SIGNED_CMAP,
                                symmetric_levels(rows))
        self.caption.setText(self.tr(
            "E[ids]: the {0} rows looked up for the context [{0} × {1}]; click a row for its "
            "vector").format(T, C))

    def show_vector(self, vector: np.ndarray, name: str, title: str, row: int | None) -> None:
        """`vector` (C,) as bars, red ≥ 0, blue < 0; `row` is its context position, outlined
        in the heatmap (None: not in the context)."""
        self._vector, self._name = np.asarray(vector, dtype=np.float32), name
        C = self._vector.size
        brushes = [pg.mkBrush(200, 60, 60) if v >= 0 else pg.mkBrush(60, 90, 200)
                   for v in self._vector.tolist()]
        self.bars.setOpts(x=np.arange(C), height=self._vector, width=0.8, brushes=brushes,
                          pen=None)
        self.bar_plot.setXRange(-0.6, C - 0.4, padding=0)
        top = float(np.abs(self._vector).max()) if C else 1.0
        self.bar_plot.setYRange(-top * 1.05, top * 1.05, padding=0)
        # Apply the new range now: left to the paint, it makes the plot paint a second time.
        self.bar_plot.getViewBox().prepareForPaint()
        self.vector_title.setText(title)
        self.heatmap.select_row(row)

    def vector(self) -> np.ndarray:
        """A copy of the vector drawn as bars."""
        return self._vector.copy()

    def _on_bar_hover(self, pos: QPointF) -> None:
        vb = self.bar_plot.getViewBox()
        if not vb.sceneBoundingRect().contains(pos) or self._vector.size == 0:
            return
        j = int(round(vb.mapSceneToView(pos).x()))
        if 0 <= j < self._vector.size:
            self.readout.setText(self.tr("“{0}”, dim {1}: {2}").format(
                self._name, j, format_value(self._vector[j])))

    def _show_readout(self, text: str) -> None:
        self.readout.setText(text or self.tr("Hover a cell or a bar for its exact value."))
