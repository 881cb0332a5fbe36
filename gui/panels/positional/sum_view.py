"""The "Token + position = input" tab: E[ids] + PE = X as three heatmaps side by side, on
their own colour scales or one shared scale."""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gui.widgets import SIGNED_CMAP, Heatmap, NoteLabel, format_value, symmetric_levels
from gui.widgets.language import Translated


def sum_levels(tok: np.ndarray, pe: np.ndarray, x: np.ndarray, shared: bool
               ) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
    """Colour levels of E[ids], PE and X: one symmetric scale each, or one for all three
    (then equal colours mean equal values across the sum)."""
    if shared:
        one = symmetric_levels(np.concatenate([tok.ravel(), pe.ravel(), x.ravel()]))
        return one, one, one
    return symmetric_levels(tok), symmetric_levels(pe), symmetric_levels(x)


class SumView(Translated, QWidget):
    """E[ids] + PE = X with one readout line; `shared_scale` is the one-scale switch."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.token = Heatmap(readout=False, max_label_chars=7)
        self.position = Heatmap(readout=False, max_label_chars=7)
        self.input = Heatmap(readout=False, max_label_chars=7)
        self.shared_scale = QCheckBox()
        self.readout = NoteLabel()
        row = QHBoxLayout()
        for i, hm in enumerate((self.token, self.position, self.input)):
            if i:
                sign = QLabel("+" if i == 1 else "=")
                sign.setStyleSheet("font-size: 26pt; font-weight: bold; color: #333;")
                row.addWidget(sign)
            row.addWidget(hm, 1)
            hm.hovered.connect(self._on_hover)
        self.note = NoteLabel(lines=2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.note)
        layout.addLayout(row, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.readout, 1)
        bottom.addWidget(self.shared_scale)
        layout.addLayout(bottom)
        self._retranslate()

    def _retranslate(self) -> None:
        self.token.set_hover_names("", self.tr("dim"))
        self.position.set_hover_names(self.tr("pos"), self.tr("dim"))
        self.input.set_hover_names("", self.tr("dim"))
        self.shared_scale.setText(self.tr("One colour scale for all three"))
        self._on_hover("")

    def show_sum(self, tok: np.ndarray, pe: np.ndarray, x: np.ndarray,
                 tok_labels: list[str]) -> None:
        """The three (T, C) matrices; rows of E[ids] and X are labelled with the tokens."""
        T, C = pe.shape
        dims = [str(j) for j in range(C)]
        pos_labels = [str(t) for t in range(T)]
        levels = sum_levels(tok, pe, x, self.shared_scale.isChecked())
        self.token.set_matrix(tok, tok_labels, dims, SIGNED_CMAP, levels[0],
                              title=self.tr("token embedding E[ids]"))
        self.position.set_matrix(pe, pos_labels, dims, SIGNED_CMAP, levels[1],
                                 title=self.tr("positional encoding PE"))
        self.input.set_matrix(x, tok_labels, dims, SIGNED_CMAP, levels[2],
                              title=self.tr("input X = E[ids] + PE"))
        self.note.setText(self.tr(
            "Each row: the token's vector plus the vector of its position, element by element "
            "([{0} × {1}] + [{0} × {1}] = [{0} × {1}]). Largest |value|: token {2}, position {3}."
        ).format(T, C, format_value(float(np.abs(tok).max())),
                 format_value(float(np.abs(pe).max()))))

    def images(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The three matrices as drawn."""
        return (self.token.current_image(), self.position.current_image(),
                self.input.current_image())

    def _on_hover(self, text: str) -> None:
        self.readout.setText(text or self.tr("Hover a cell to read its exact value."))
