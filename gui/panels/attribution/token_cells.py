"""The prompt as a flow of token cells, each filled with the colour of its share and showing the
number under the token (red: pushes the target up, blue: down, white: nothing)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from gui.widgets.flow import flow


def ink(c: QColor) -> QColor:
    """Black or white, whichever reads on a background of colour `c`."""
    lum = 0.299 * c.red() + 0.587 * c.green() + 0.114 * c.blue()
    return QColor(255, 255, 255) if lum < 140 else QColor(20, 20, 20)


class TokenCells(QWidget):
    """Token boxes in lines: the piece on top, its number below; hover for the full text."""

    PAD_X, PAD_Y, GAP = 5.0, 2.0, 3.0

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self._piece_font = QFont()
        self._piece_font.setPointSizeF(12.0)
        self._number_font = QFont()
        self._number_font.setPointSizeF(8.5)
        self._pieces: list[str] = []
        self._numbers: list[str] = []
        self._colours: list[QColor] = []
        self._tips: list[str] = []
        self._rects: list[QRectF] = []
        self._laid_out_width = -1
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

    def set_cells(self, pieces: list[str], numbers: list[str], colours: list[QColor],
                  tips: list[str]) -> None:
        """Show one cell per token: its piece, its number, its colour and its tooltip."""
        self._pieces, self._numbers, self._colours, self._tips = pieces, numbers, colours, tips
        self._laid_out_width = -1
        self._layout(self.width())
        self.update()

    def numbers(self) -> list[str]:
        return list(self._numbers)

    def colours(self) -> list[QColor]:
        return list(self._colours)

    def tooltip_for(self, index: int) -> str:
        return self._tips[index]

    def _layout(self, width: int) -> None:
        width = max(width, 80)
        if width == self._laid_out_width:
            return
        top, bottom = QFontMetricsF(self._piece_font), QFontMetricsF(self._number_font)
        h = top.height() + bottom.height() + 2 * self.PAD_Y
        widths = [max(top.horizontalAdvance(piece), bottom.horizontalAdvance(number))
                  + 2 * self.PAD_X for piece, number in zip(self._pieces, self._numbers)]
        self._rects, tall = flow(widths, h, width, self.GAP)
        self._laid_out_width = width
        self.setMinimumHeight(tall)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self._layout(event.size().width())
        super().resizeEvent(event)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(400, max(self.minimumHeight(), 40))

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
            p.setPen(ink(colour))
            upper = QRectF(rect.x(), rect.y() + self.PAD_Y, rect.width(), top_h)
            lower = QRectF(rect.x(), upper.bottom(), rect.width(),
                           rect.bottom() - upper.bottom() - self.PAD_Y)
            p.setFont(self._piece_font)
            p.drawText(upper, Qt.AlignmentFlag.AlignCenter, piece)
            p.setFont(self._number_font)
            p.drawText(lower, Qt.AlignmentFlag.AlignCenter, number)
        p.end()

    def event(self, e) -> bool:
        if e.type() == QEvent.Type.ToolTip:
            pos = QPointF(e.pos())
            hit = next((i for i, r in enumerate(self._rects) if r.contains(pos)), None)
            if hit is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(e.globalPos(), self._tips[hit], self)
            return True
        return super().event(e)
