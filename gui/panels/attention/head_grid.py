"""Every head of one layer and stage as a grid of heatmaps on one shared colour scale, with a
colour bar and one readout line. The heatmaps are made when the head count changes and only
refilled afterwards, so stepping through the walkthrough costs a few setImage calls."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from gui.panels.attention.stages import grid_columns
from gui.widgets import PATTERN_CMAP, SIGNED_CMAP, Heatmap, NoteLabel, symmetric_levels
from gui.widgets.language import Translated


def stage_scale(stage: str, heads: np.ndarray) -> tuple[pg.ColorMap, tuple[float, float]]:
    """Colour map and levels shared by all heads of a stage: probabilities on 0…1, the
    others on one scale symmetric about 0."""
    if stage == "pattern":
        return PATTERN_CMAP, (0.0, 1.0)
    return SIGNED_CMAP, symmetric_levels(heads)


class HeadGrid(Translated, QWidget):
    """A near-square grid of heads; `head_clicked` fires with the head a click landed on."""

    head_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._heads: list[Heatmap] = []
        self._bar_cmap = PATTERN_CMAP  # colour map the shared bar shows
        self.grid = QGridLayout()
        self.grid.setSpacing(4)
        self.bar_view = pg.GraphicsLayoutWidget()
        self.bar_view.setBackground("w")
        self.bar_view.setFixedWidth(78)
        self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), width=14, interactive=False,
                                        colorMap=PATTERN_CMAP, colorMapMenu=False)
        bar_axis = self.colorbar.getAxis("right")
        bar_axis.setTextPen(pg.mkPen(30, 30, 30))
        bar_axis.enableAutoSIPrefix(False)
        self.bar_view.addItem(self.colorbar)
        self.readout = NoteLabel(self._hint())
        row = QHBoxLayout()
        row.addLayout(self.grid, 1)
        row.addWidget(self.bar_view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row, 1)
        layout.addWidget(self.readout)

    def _retranslate(self) -> None:
        for hm in self._heads:
                hm.set_hover_names(self.tr("query"), self.tr("key"))
        self.readout.setText(self._hint())

    def _hint(self) -> str:
        return self.tr("Hover a cell for its value; click a head to enlarge it.")

    def build(self, n_head: int) -> None:
        """One heatmap per head (none for 0), replacing the old ones."""
        for hm in self._heads:
            self.grid.removeWidget(hm)
            hm.deleteLater()
        self._heads = []
        cols = grid_columns(n_head)
        for h in range(n_head):
            hm = Heatmap(colorbar=False, readout=False, max_label_chars=7,
                         hover_names=(self.tr("query"), self.tr("key")))
            hm.hovered.connect(lambda text, h=h: self._on_head_hover(h, text))
            hm.clicked.connect(lambda _r, _c, h=h: self.head_clicked.emit(h))
            self.grid.addWidget(hm, h // cols, h % cols)
            self._heads.append(hm)

    def heads(self) -> list[Heatmap]:
        """The heads' heatmaps, head 0 first."""
        return list(self._heads)

    def show_heads(self, heads: np.ndarray, labels: list[str], cmap: pg.ColorMap,
                   levels: tuple[float, float]) -> None:
        """(nh, T, T) matrices, queries and keys labelled with `labels`, on one scale."""
        for h, hm in enumerate(self._heads):
            hm.set_matrix(heads[h], labels, labels, cmap, levels,
                          title=self.tr("head {0}").format(h))
        if cmap is not self._bar_cmap:
            self._bar_cmap = cmap
            self.colorbar.setColorMap(cmap)
        self.colorbar.setLevels(levels)

    def _on_head_hover(self, head: int, text: str) -> None:
        self.readout.setText(self.tr("head {0}: {1}").format(head, text) if text
                             else self._hint())
