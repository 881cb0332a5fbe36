"""One head of the attention panel alone, large enough to print its numbers, or the causal
mask itself."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from gui.widgets import Heatmap, NoteLabel
from gui.widgets.language import Translated

MASK_CMAP = pg.ColorMap([0.0, 1.0], [(70, 70, 70), (255, 236, 150)])  # blocked dark, allowed light


class SingleView(Translated, QWidget):
    """A title, a note and one heatmap with values in its cells; `back` asks for the grid."""

    back = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.back_button = QPushButton()
        self.back_button.clicked.connect(self.back)
        self.title = NoteLabel()
        self.title.setStyleSheet("font-weight: bold;")
        self.note = NoteLabel(lines=3)
        self.heatmap = Heatmap(cell_values=True)
        top = QHBoxLayout()
        top.addWidget(self.back_button)
        top.addWidget(self.title, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addWidget(self.heatmap, 1)
        self._retranslate()

    def _retranslate(self) -> None:
        self.back_button.setText(self.tr("← All heads"))
        self.heatmap.set_axis_titles(self.tr("query"), self.tr("key"))
        self.heatmap.set_hover_names(self.tr("query"), self.tr("key"))

    def show_head(self, matrix: np.ndarray, labels: list[str], cmap: pg.ColorMap,
                  levels: tuple[float, float], plot_title: str, title: str, note: str) -> None:
        """One head's (T, T) matrix, with the way back to the grid."""
        self.heatmap.set_matrix(matrix, labels, labels, cmap, levels, title=plot_title)
        self.title.setText(title)
        self.back_button.setVisible(True)
        self.note.setText(note)

    def show_mask(self, mask: np.ndarray, labels: list[str], window: int | None = None,
                  layer: int = 0) -> None:
        """The causal mask (T, T), 1 = may look, with block `layer`'s sliding window if it has
        one; there is no grid to go back to."""
        T = mask.shape[0]
        self.back_button.setVisible(False)
        if window is not None:
            title = self.tr("Sliding-window mask of block {0}: window {1}, T = {2}").format(
                layer, window, T)
            self.heatmap.set_matrix(mask, labels, labels, MASK_CMAP, (0.0, 1.0), title=title)
            self.title.setText(title)
            self.note.setText(self.tr(
                "1 (light) = the query in this row may attend to the key in this column. 0 (dark) "
                "above the diagonal: the future; 0 below the light band: keys {0} or more "
                "positions back, outside the window. Each query sees at most {0} keys, itself "
                "included. Where M is 0 the score becomes −∞ (stage “masked”).").format(window))
            return
        title = self.tr("Causal mask M = 1 − triu(ones({0}, {0}), k=1)").format(T)
        self.heatmap.set_matrix(mask, labels, labels, MASK_CMAP, (0.0, 1.0), title=title)
        self.title.setText(self.tr("Causal mask for T = {0}").format(T))
        self.note.setText(self.tr(
            "Shown for the current context, T = {0} (the article draws it for T = 20). 1 (light) = "
            "the query in this row may attend to the key in this column; 0 (dark) = a future "
            "position, blocked. Where M is 0 the scaled score becomes −∞ (stage “masked”), so "
            "after the softmax its weight is exactly 0. Every head of every layer uses this "
            "same mask.").format(T))
