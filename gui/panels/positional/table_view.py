"""The Table tab: the context's rows of the positional table as a heatmap, and every value
of one row printed below it (the articles print row 1)."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QPlainTextEdit, QVBoxLayout, QWidget

from gui.widgets import SIGNED_CMAP, Heatmap, NoteLabel
from gui.widgets.language import Translated


class TableView(Translated, QWidget):
    """PE [T × C] with one row's values selectable underneath; click a row to print it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._row = 1  # row printed in full
        # Its own readout line (as the other tabs have), re-translated with the tab.
        self.heatmap = Heatmap(readout=False)
        self.heatmap.clicked.connect(lambda r, _c: self.show_row(r))
        self.readout = NoteLabel()
        self.heatmap.hovered.connect(self._on_hover)
        # Every value of one row, selectable, scrolling when d_model is large.
        self.row_values = QPlainTextEdit()
        self.row_values.setReadOnly(True)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.row_values.setFont(mono)
        self.row_values.setFixedHeight(QFontMetrics(mono).lineSpacing() * 4 + 12)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.heatmap, 1)
        layout.addWidget(self.readout)
        layout.addWidget(self.row_values)
        self._retranslate()

    def _retranslate(self) -> None:
        self.heatmap.set_axis_titles(self.tr("position"), self.tr("dimension"))
        self.heatmap.set_hover_names(self.tr("pos"), self.tr("dim"))
        self._on_hover("")
        self.show_row(self._row)

    def _on_hover(self, text: str) -> None:
        self.readout.setText(text or self.tr("Hover a cell to read its exact value."))

    def show_table(self, pe: np.ndarray, levels: tuple[float, float], title: str) -> None:
        """PE (T, C) with its rows' values; the printed row stays, within the new T."""
        T, C = pe.shape
        self.heatmap.set_matrix(pe, [str(t) for t in range(T)], [str(j) for j in range(C)],
                                SIGNED_CMAP, levels, title=title)
        self.show_row(min(self._row, T - 1))

    def show_row(self, row: int) -> None:
        """Print every value of one PE row under the table."""
        values = self.heatmap.current_image()
        if not 0 <= row < values.shape[0]:
            return
        self._row = row
        self.heatmap.select_row(row)
        nums = "  ".join(f"{v:.6f}" for v in values[row].tolist())
        self.row_values.setPlainText(self.tr("PE[{0}] = {1}").format(row, nums))
