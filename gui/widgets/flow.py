"""Token strips (the Looking-inside and Attribution panels): boxes laid out as words in a
paragraph, left to right, a new line when the next box would pass the width; re-flowed when
the strip is resized, with a tooltip per box."""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QToolTip, QWidget


def flow(widths: Sequence[float], height: float, width: float,
         gap: float) -> tuple[list[QRectF], int]:
    """The rectangles of boxes `widths` wide and `height` tall in lines of `width`, `gap`
    around each; and the height the lines fill (0 for no boxes)."""
    x = y = gap
    rects = []
    for w in widths:
        if x + w > width - gap and x > gap:  # a box wider than a line still gets one of its own
            x, y = gap, y + height + gap
        rects.append(QRectF(x, y, w, height))
        x += w + gap
    return rects, int(y + height + gap + 1) if rects else 0


def text_colour(c: QColor) -> QColor:
    """Black or white, whichever reads on a background of colour `c`."""
    lum = 0.299 * c.red() + 0.587 * c.green() + 0.114 * c.blue()
    return QColor(255, 255, 255) if lum < 140 else QColor(20, 20, 20)


class FlowStrip(QWidget):
    """Boxes in flowing lines, one per token, each with its tooltip. A subclass says how wide
    and tall its boxes are (`box_sizes`), paints them in `self._rects`, and calls `relayout()`
    when its content changes."""

    PAD_X, PAD_Y, GAP = 4.0, 3.0, 3.0
    MIN_HINT_HEIGHT = 40  # the height asked for before any box is laid out

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self._tips: list[str] = []
        self._rects: list[QRectF] = []
        self._laid_out_width = -1

    def box_sizes(self) -> tuple[list[float], float]:
        """The boxes' widths and their common height, in pixels."""
        raise NotImplementedError

    def relayout(self) -> None:
        """Lay the boxes out afresh (new content) and repaint."""
        self._laid_out_width = -1
        self._layout(self.width())
        self.update()

    def tooltip_for(self, index: int) -> str:
        return self._tips[index]

    def token_at(self, pos: QPointF) -> int | None:
        """The box under `pos`, or None."""
        return next((i for i, r in enumerate(self._rects) if r.contains(pos)), None)

    def token_rect(self, index: int) -> QRectF:
        return QRectF(self._rects[index])

    def _layout(self, width: int) -> None:
        """Flow the boxes into lines of `width`; the strip is as tall as its lines."""
        width = max(width, 80)
        if width == self._laid_out_width:
            return
        widths, height = self.box_sizes()
        self._rects, tall = flow(widths, height, width, self.GAP)
        self._laid_out_width = width
        self.setMinimumHeight(tall)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self._layout(event.size().width())
        super().resizeEvent(event)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(400, max(self.minimumHeight(), self.MIN_HINT_HEIGHT))

    def event(self, e) -> bool:
        if e.type() == QEvent.Type.ToolTip:
            i = self.token_at(QPointF(e.pos()))
            if i is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(e.globalPos(), self._tips[i], self)
            return True
        return super().event(e)
