"""Boxes laid out as words in a paragraph (the token strips of the Looking-inside and
Attribution panels): left to right, a new line when the next box would pass the width."""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF


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
