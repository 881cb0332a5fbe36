"""The prompt as a flow of token cells, each filled with the colour of its share and showing the
number under the token (red: pushes the target up, blue: down, white: nothing)."""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from gui.widgets.flow import FlowStrip, text_colour


class TokenCells(FlowStrip):
    """Token boxes in lines: the piece on top, its number below; hover for the full text."""

    PAD_X, PAD_Y, GAP = 5.0, 2.0, 3.0

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._piece_font = QFont()
        self._piece_font.setPointSizeF(12.0)
        self._number_font = QFont()
        self._number_font.setPointSizeF(8.5)
        self._pieces: list[str] = []
        self._numbers: list[str] = []
        self._colours: list[QColor] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

    def set_cells(self, pieces: list[str], numbers: list[str], colours: list[QColor],
                  tips: list[str]) -> None:
        """Show one cell per token: its piece, its number, its colour and its tooltip."""
        self._pieces, self._numbers, self._colours, self._tips = pieces, numbers, colours, tips
        self.relayout()

    def numbers(self) -> list[str]:
        return list(self._numbers)

    def colours(self) -> list[QColor]:
        return list(self._colours)

    def box_sizes(self) -> tuple[list[float], float]:
        top, bottom = QFontMetricsF(self._piece_font), QFontMetricsF(self._number_font)
        widths = [max(top.horizontalAdvance(piece), bottom.horizontalAdvance(number))
                  + 2 * self.PAD_X for piece, number in zip(self._pieces, self._numbers)]
        return widths, top.height() + bottom.height() + 2 * self.PAD_Y

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        self._layout(self.width())
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        top_h = QFontMetricsF(self._piece_font).height()
        border = QPen(QColor(160, 160, 160))
        for piece, number, colour, rect in zip(self._pieces, self._numbers, self._colours,
                                               self._rects):
            p.setPen(border)
            p.setBrush(colour)
            p.drawRoundedRect(rect, 3, 3)
            p.setPen(text_colour(colour))
            upper = QRectF(rect.x(), rect.y() + self.PAD_Y, rect.width(), top_h)
            lower = QRectF(rect.x(), upper.bottom(), rect.width(),
                           rect.bottom() - upper.bottom() - self.PAD_Y)
            p.setFont(self._piece_font)
            p.drawText(upper, Qt.AlignmentFlag.AlignCenter, piece)
            p.setFont(self._number_font)
            p.drawText(lower, Qt.AlignmentFlag.AlignCenter, number)
        p.end()
