"""The GQA map above the Attention panel's heads: one box per query head, coloured by the K/V
head it reads, a bracket under each group naming its K/V head, and the K/V cache a generator
keeps per token (engine.model.grouped_query)."""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QHBoxLayout, QWidget

from engine.config import ModelConfig
from engine.model.grouped_query import kv_cache_bytes_per_token, kv_cache_saving, kv_groups
from gui.panels.attention.groups import format_bytes, group_colour, group_spans
from gui.widgets import NoteLabel
from gui.widgets.language import Translated


class HeadBoxes(QWidget):
    """The boxes and brackets, painted (no text beyond 'q3' and 'K/V 1')."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.groups: list[int] = []
        self.kv_label = "K/V {0}"
        self.setMinimumHeight(44)
        self.setMinimumWidth(120)

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        if not self.groups:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        n = len(self.groups)
        w = (self.width() - 4) / n
        box_h = self.height() * 0.5
        font = p.font()
        font.setPointSizeF(max(6.0, min(9.0, w / 3.2)))
        p.setFont(font)
        for head, g in enumerate(self.groups):
            rect = QRectF(2 + head * w + 1, 1, w - 2, box_h)
            p.setPen(QPen(QColor(90, 90, 90), 1))
            p.setBrush(QColor(group_colour(g)))
            p.drawRect(rect)
            p.setPen(QColor(20, 20, 20))
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"q{head}")
        y = box_h + 5
        for g, first, last in group_spans(self.groups):
            x0, x1 = 2 + first * w + 3, 2 + (last + 1) * w - 3
            p.setPen(QPen(QColor(group_colour(g)).darker(160), 2))
            p.drawLine(int(x0), int(y), int(x1), int(y))
            p.drawLine(int(x0), int(y - 4), int(x0), int(y))
            p.drawLine(int(x1), int(y - 4), int(x1), int(y))
            p.setPen(QColor(20, 20, 20))
            p.drawText(QRectF(x0, y + 1, x1 - x0, self.height() - y - 1),
                       Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                       self.kv_label.format(g))
        p.end()


class GqaMap(Translated, QWidget):
    """The query heads by K/V group, and the cache bytes per token beside them."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.boxes = HeadBoxes()
        self.note = NoteLabel(lines=3)  # two lines, room for a wrapped one
        self._cfg: ModelConfig | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.boxes, 3)
        layout.addWidget(self.note, 2)
        self._retranslate()

    def _retranslate(self) -> None:
        self.boxes.kv_label = self.tr("K/V {0}")
        self.set_config(self._cfg)

    def groups(self) -> list[int]:
        """Each query head's K/V head, as drawn."""
        return list(self.boxes.groups)

    def set_config(self, cfg: ModelConfig | None) -> None:
        """Draw `cfg`'s heads and cache figure (nothing for None)."""
        self._cfg = cfg
        self.boxes.groups = kv_groups(cfg) if cfg is not None else []
        self.boxes.update()
        if cfg is None:
            self.note.setText("")
            return
        per_token = format_bytes(kv_cache_bytes_per_token(cfg))
        g = kv_cache_saving(cfg)
        if cfg.kv_heads == cfg.n_head:
            text = self.tr("{0} query heads, each with its own K/V head.\nK/V cache: {1} per "
                           "token").format(cfg.n_head, per_token)
        else:
            text = self.tr("{0} query heads share {1} K/V heads, {2} each.\nK/V cache: {3} per "
                           "token, {2}× less").format(cfg.n_head, cfg.kv_heads, g, per_token)
        self.note.setText(text)
        # The sum behind the figure, on hover: float16 numbers, a key and a value per K/V head.
        self.note.setToolTip(self.tr("{0} per token = {1} blocks × {2} K/V heads × {3} numbers × "
                                     "2 (K and V) × 2 bytes (float16)").format(
            per_token, cfg.n_layer, cfg.kv_heads, cfg.head_size))
