"""Two painted pieces of the per-token-loss tab: the context as coloured token boxes, and the
colour bar that explains their colours."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from gui.widgets.flow import FlowStrip, text_colour

from .readings import LOSS_CMAP, scale_ticks


class TokenLossStrip(FlowStrip):
    """The context as a flow of token boxes, each filled with the colour of its loss."""

    PAD_X, PAD_Y, GAP = 4.0, 3.0, 3.0
    MIN_HINT_HEIGHT = 60

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        font = QFont()
        font.setPointSizeF(14.0)
        self.setFont(font)
        self._pieces: list[str] = []
        self._colours: list[QColor | None] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_tokens(self, pieces: list[str], colours: list[QColor | None], tips: list[str]) -> None:
        """Show `pieces`, each filled with its colour (None: grey, nothing predicts it)."""
        self._pieces, self._colours, self._tips = pieces, colours, tips
        self.relayout()

    def box_sizes(self) -> tuple[list[float], float]:
        fm = QFontMetricsF(self.font())
        return ([fm.horizontalAdvance(piece) + 2 * self.PAD_X for piece in self._pieces],
                fm.height() + 2 * self.PAD_Y)

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        self._layout(self.width())
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        border = QPen(QColor(160, 160, 160))
        for piece, colour, rect in zip(self._pieces, self._colours, self._rects):
            fill = colour if colour is not None else QColor(235, 235, 235)
            p.setPen(border)
            p.setBrush(fill)
            p.drawRoundedRect(rect, 3, 3)
            p.setPen(text_colour(fill) if colour is not None else QColor(120, 120, 120))
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, piece)
        p.end()


class LossScale(QWidget):
    """A horizontal colour bar from loss 0 to `high`, with ticks and the uniform-guess mark."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._high = 1.0
        self._uniform: float | None = None
        self.setMinimumHeight(44)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_scale(self, high: float, uniform: float | None) -> None:
        """Span loss 0 → `high`; mark `uniform` (the loss of a uniform guess) if given."""
        self._high, self._uniform = max(high, 1e-6), uniform
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        fm = p.fontMetrics()
        left, right = 10.0, self.width() - 10.0
        bar = QRectF(left, 4, right - left, 14)
        grad = QLinearGradient(bar.topLeft(), bar.topRight())
        for pos, colour in zip(LOSS_CMAP.pos, LOSS_CMAP.getColors(mode="qcolor")):
            grad.setColorAt(float(pos), colour)
        p.fillRect(bar, grad)
        p.setPen(QColor(120, 120, 120))
        p.drawRect(bar)
        p.setPen(QColor(30, 30, 30))
        for v in scale_ticks(self._high):
            x = left + (right - left) * v / self._high
            p.drawLine(QPointF(x, bar.bottom()), QPointF(x, bar.bottom() + 4))
            label = f"{v:g}"
            p.drawText(QPointF(x - fm.horizontalAdvance(label) / 2, bar.bottom() + 6 + fm.ascent()),
                       label)
        if self._uniform is not None and self._uniform <= self._high:
            x = left + (right - left) * self._uniform / self._high
            p.setPen(QPen(QColor(0, 0, 0), 2))
            p.drawLine(QPointF(x, bar.top() - 2), QPointF(x, bar.bottom() + 2))
        p.end()
