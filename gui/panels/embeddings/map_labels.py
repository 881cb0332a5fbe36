"""The vocabulary map's token labels as one pyqtgraph item, painted in device pixels."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen

from gui.panels.embeddings.labels import Label

SELECTED_COLOUR = (220, 20, 60)
_TEXT_COLOURS = {"sample": QColor(70, 70, 70), "context": QColor(150, 60, 0),
                 "selected": QColor(*SELECTED_COLOUR)}
_LABEL_BACK = QColor(255, 255, 255, 200)  # keeps a label readable over the grey points
_LEADER_PEN = QPen(QColor(120, 120, 120), 1.0)


class MapLabels(pg.GraphicsObject):
    """The map's token labels, painted in device pixels in one call.

    One item rather than a TextItem per label: making and adding ~60 TextItems cost ~70 ms of a
    weight update (measured), and these labels are re-chosen on every zoom and pan.
    """

    def __init__(self, font: QFont):
        super().__init__()
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # clicks reach the points below
        bold = QFont(font)
        bold.setBold(True)
        self.fonts = {"sample": font, "context": bold, "selected": bold}
        self.metrics = {kind: QFontMetricsF(f) for kind, f in self.fonts.items()}
        self._labels: list[Label] = []
        self._drawn: list[tuple[Label, QPointF, QRectF]] = []  # with its anchor and box as Qt
        self._bounds = QRectF()

    def labels(self) -> list[Label]:
        """The labels shown."""
        return list(self._labels)

    def anchored(self) -> list[tuple[Label, QPointF, QRectF]]:
        """Each label with its anchor (data coordinates) and box (pixels from the anchor)."""
        return list(self._drawn)

    def set_labels(self, labels: list[Label], bounds: QRectF) -> None:
        """Show `labels`; `bounds` (data coordinates) holds them all."""
        self.prepareGeometryChange()
        self._labels, self._bounds = labels, bounds
        self._drawn = [(label, QPointF(*label.anchor),
                        QRectF(QPointF(*label.box[:2]), QPointF(*label.box[2:])))
                       for label in labels]
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return self._bounds

    def paint(self, p: QPainter, *_args) -> None:
        if not self._drawn:
            return
        to_device = p.transform()
        p.save()
        p.resetTransform()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        for label, anchor, rel in self._drawn:
            a = to_device.map(anchor)
            box = rel.translated(a)
            if label.leader:
                p.setPen(_LEADER_PEN)
                p.drawLine(a, QPointF(min(max(a.x(), box.left()), box.right()),
                                      min(max(a.y(), box.top()), box.bottom())))
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(_LABEL_BACK)
            p.drawRoundedRect(box, 2, 2)
            p.setFont(self.fonts[label.kind])
            p.setPen(_TEXT_COLOURS[label.kind])
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, label.text)
        p.restore()
