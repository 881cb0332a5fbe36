"""The numbers of a matrix view: values as hover text, as in-cell labels, and the colour
levels that centre a signed matrix on zero."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen

MASKED_TEXT = "−∞ (masked)"  # the English source; format_value shows it translated


def elide(label: str, max_chars: int) -> str:
    """Shorten a tick label to max_chars, marking the cut with an ellipsis."""
    return label if len(label) <= max_chars else label[: max_chars - 1] + "…"


def format_value(v: float) -> str:
    """Exact readout: six significant digits; −∞ cells say they are masked."""
    if np.isneginf(v):
        return QCoreApplication.translate("cells", "−∞ (masked)")
    if np.isposinf(v):
        return "+∞"
    if np.isnan(v):
        return "nan"
    return f"{float(v):.6g}"


def symmetric_levels(values: np.ndarray) -> tuple[float, float]:
    """Levels centred on zero, so the diverging map's white means exactly 0.

    Only finite values count (−∞ cells are drawn masked); all-zero or empty data get (−1, 1).
    """
    finite = values[np.isfinite(values)]
    top = float(np.abs(finite).max()) if finite.size else 1.0
    top = top if top > 0 else 1.0
    return (-top, top)


def cell_text(v: float, decimals: int) -> str:
    """Short in-cell number, for when cells are large enough to print values in them."""
    if np.isneginf(v):
        return "−∞"
    if not np.isfinite(v):
        return "nan"
    text = f"{v:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0.00"


def cell_decimals(values: np.ndarray) -> int:
    """Decimals that give the largest value about three significant digits (0 for integers)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0 or np.all(finite == np.round(finite)):
        return 0
    top = float(np.abs(finite).max())
    return int(np.clip(2 - math.floor(math.log10(top)), 0, 4)) if top > 0 else 2


class CellValues(pg.GraphicsObject):
    """Prints each cell's value on top of the image when the cells are big enough on screen.

    Drawn in device pixels (the view scales the image, not the text), in one paint call, so a
    16x16 score matrix reads like the tables in the articles at no per-cell item cost.
    """

    MIN_W, MIN_H = 16.0, 15.0

    def __init__(self):
        super().__init__()
        self._values = np.zeros((0, 0), dtype=np.float32)
        self._dark = np.zeros((0, 0), dtype=bool)  # cells whose colour needs white text
        self._decimals = 2  # the 0/1 mask prints "1"; scores of 0.0123 print 4 decimals
        self._need_w = self.MIN_W  # cell width (px) the widest number needs
        self.font = QFont()
        self.font.setPointSizeF(8.0)

    def set_values(self, values: np.ndarray, dark: np.ndarray) -> None:
        self.prepareGeometryChange()
        self._values, self._dark = values, dark
        self._decimals = cell_decimals(values)
        finite = values[np.isfinite(values)]
        samples = [cell_text(float(v), self._decimals) for v in
                   (finite.min(), finite.max())] if finite.size else []
        if not np.all(np.isfinite(values)):
            samples.append("−∞")
        metrics = QFontMetrics(self.font)
        self._need_w = max([self.MIN_W] + [metrics.horizontalAdvance(t) + 4.0 for t in samples])
        self.update()

    def boundingRect(self) -> QRectF:
        r, c = self._values.shape
        return QRectF(0, 0, c, r)

    def paint(self, p: QPainter, *_args) -> None:
        rows, cols = self._values.shape
        if rows == 0:
            return
        t = p.transform()
        cell = t.mapRect(QRectF(0, 0, 1, 1))
        if abs(cell.width()) < self._need_w or abs(cell.height()) < self.MIN_H:
            return
        p.save()
        p.resetTransform()
        p.setFont(self.font)
        white, black = QPen(QColor(255, 255, 255)), QPen(QColor(0, 0, 0))
        for r in range(rows):
            for c in range(cols):
                rect = t.mapRect(QRectF(c, r, 1, 1))
                p.setPen(white if self._dark[r, c] else black)
                text = cell_text(self._values[r, c], self._decimals)
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        p.restore()
