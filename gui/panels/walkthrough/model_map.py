"""The model map beside the walkthrough: the whole model as the articles draw it (tokens →
embedding → blocks → output), with the shapes on the arrows and the current step lit. A click
on a box goes to its step (`step_clicked`). The geometry is map_layout's; this view paints it.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsScene, QGraphicsView, QWidget

from engine.model.steps import short_shape, step_kind, step_title
from gui.panels.walkthrough import map_layout
from gui.panels.walkthrough.map_layout import MapLayout, Words

_BOX_BG, _BOX_EDGE = QColor("#ffffff"), QColor("#8aa4c8")
_LIT_BG, _LIT_EDGE = QColor("#ffd76a"), QColor("#b07d00")
_FRAME_BG, _FRAME_EDGE = QColor("#eef3fb"), QColor("#b9c9e2")
_LIT_FRAME_BG = QColor("#fff6dc")


def _style_box(item: QGraphicsRectItem, lit: bool) -> None:
    item.setPen(QPen(_LIT_EDGE if lit else _BOX_EDGE, 2 if lit else 1))
    item.setBrush(QBrush(_LIT_BG if lit else _BOX_BG))


def _style_frame(item: QGraphicsRectItem, lit: bool) -> None:
    item.setPen(QPen(_LIT_EDGE if lit else _FRAME_EDGE))
    item.setBrush(QBrush(_LIT_FRAME_BG if lit else _FRAME_BG))


def _unlit(lay: MapLayout) -> tuple:
    """A layout's geometry and words, what is lit aside."""
    return ([replace(b, lit=False) for b in lay.boxes], [replace(f, lit=False) for f in lay.frames],
            lay.arrows, lay.height)
_TEXT, _SHAPE = QColor("#16263d"), QColor("#5a6b82")

# Chip labels: the articles' symbols where there is one (the same in every language), else words.
_SYMBOLS = {
    "attn.q": "Q", "attn.k": "K", "attn.v": "V", "attn.scores": "QKᵀ", "attn.scaled": "÷√d",
    "attn.pattern": "softmax", "attn.weighted": "A·V", "attn.concat": "concat",
    "attn.out": "W_O", "ffn.hidden": "W₁", "ffn.out": "W₂", "embed.sum": "E + PE",
    "logits": "logits", "probs": "softmax", "embed.token": "E[ids]", "ln1": "LayerNorm",
    "ln2": "LayerNorm",
}
_WORDS = {
    "attn.masked": QT_TRANSLATE_NOOP("ModelMap", "mask"),
    "ffn.act": QT_TRANSLATE_NOOP("ModelMap", "activation"),
    "embed.position": QT_TRANSLATE_NOOP("ModelMap", "positions"),
    "tokens": QT_TRANSLATE_NOOP("ModelMap", "Token ids"),
    "resid1": QT_TRANSLATE_NOOP("ModelMap", "Add (residual)"),
    "resid2": QT_TRANSLATE_NOOP("ModelMap", "Add (residual)"),
    "ln_f": QT_TRANSLATE_NOOP("ModelMap", "Final LayerNorm"),
}
_GROUPS = {
    "attn": QT_TRANSLATE_NOOP("ModelMap", "Attention"),
    "ffn": QT_TRANSLATE_NOOP("ModelMap", "Feed-forward"),
    "embed": QT_TRANSLATE_NOOP("ModelMap", "Embedding"),
}
_MINI = {  # a collapsed block's row has ~27 px per group
    "attn": QT_TRANSLATE_NOOP("ModelMap", "Attn"),
    "ffn": QT_TRANSLATE_NOOP("ModelMap", "FFN"),
    "resid1": "+", "resid2": "+", "resid_parallel": "+", "ln1": "LN", "ln2": "LN",
}


def _tr(text: str) -> str:
    return QCoreApplication.translate("ModelMap", text)


class ModelMap(QGraphicsView):
    """The model's figure; `show_steps` gives it the trace's steps, `show_current` the lit one."""

    step_clicked = Signal(str)

    def __init__(self, lang: str = "en", parent: QWidget | None = None):
        super().__init__(parent)
        self.lang = lang
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(int(map_layout.WIDTH) + 24)  # the figure and a scroll bar
        self.setMinimumHeight(120)
        self._steps: list[tuple[str, tuple[int, ...]]] = []
        self._current = ""
        self._config = None  # the traced model's ModelConfig: its norm names the norm chips
        self.layout_: MapLayout = MapLayout()
        self._frame_items: list[QGraphicsRectItem] = []  # one per layout_.frames
        self._box_items: list[QGraphicsRectItem] = []  # one per layout_.boxes
        self._font = QFont(self.font())
        self._font.setPointSizeF(max(7.0, self.font().pointSizeF() - 1.5))
        self._small = QFont(self._font)
        self._small.setPointSizeF(self._font.pointSizeF() - 1)

    # -- what the walkthrough calls ------------------------------------------------------------
    def show_steps(self, steps: Sequence[tuple[str, tuple[int, ...]]], current: str = "",
                   config=None) -> None:
        """The trace's steps ((name, shape) in order) of a model of `config`; redrawn only when
        they changed."""
        steps = list(steps)
        if steps != self._steps or current != self._current or config != self._config:
            self._steps, self._current, self._config = steps, current, config
            self._redraw()

    def show_current(self, name: str) -> None:
        """Light step `name` (and open its block) and scroll it into view."""
        if name != self._current:
            self._current = name
            lay = map_layout.layout(self._steps, self._current, self._words())
            if _unlit(lay) == _unlit(self.layout_):  # the same block open: restyle, not rebuild
                self._relight(lay)
            else:
                self._redraw(lay)

    def set_language(self, lang: str) -> None:
        self.lang = lang
        self._redraw()

    def click_point(self, step: str) -> QPointF | None:
        """The centre of the box that goes to `step`, in viewport coordinates (it is scrolled
        into view first); None when no box does."""
        box = self.layout_.box_of(step)
        if box is None:
            return None
        rect = QRectF(box.x, box.y, box.w, box.h)
        self.ensureVisible(rect, 4, 4)
        return QPointF(self.mapFromScene(rect.center()))

    # -- drawing -------------------------------------------------------------------------------
    def _words(self) -> Words:
        lang = self.lang

        cfg = self._config
        rms = getattr(cfg, "norm_kind", "layernorm") == "rmsnorm"

        def step_label(name: str) -> str:
            kind = step_kind(name)
            if rms and kind in ("ln1", "ln2"):
                return "RMSNorm"  # a symbol, the same in every language
            if rms and kind == "ln_f":
                return step_title(kind, lang, cfg)  # the engine's words, en or zh
            if kind in _SYMBOLS:
                return _SYMBOLS[kind]
            if kind in _WORDS:
                return _tr(_WORDS[kind])
            try:  # a step this map has no label for: its own title, else its kind
                return step_title(kind, lang)
            except KeyError:
                return kind

        def tooltip(name: str, shape: tuple[int, ...]) -> str:
            try:
                title = step_title(name, lang, cfg)
            except KeyError:
                title = name
            return f"{title}  {short_shape(shape)}\n{name}"

        return Words(
            step_label=step_label,
            group_title=lambda part: _tr(_GROUPS[part]) if part in _GROUPS else part,
            mini_label=lambda part: (_tr(_MINI[part]) if part in _MINI else part[:3]),
            block_title=lambda i: QCoreApplication.translate("ModelMap", "Block {0}").format(i),
            tooltip=tooltip,
        )

    def _relight(self, lay: MapLayout) -> None:
        """`lay` differs from what is drawn only in what is lit: those items are restyled
        (rebuilding the scene of a 24-block model took most of a walkthrough step)."""
        for old, new, item in zip(self.layout_.frames, lay.frames, self._frame_items):
            if old.lit != new.lit:
                _style_frame(item, new.lit)
        for old, new, item in zip(self.layout_.boxes, lay.boxes, self._box_items):
            if old.lit != new.lit:
                _style_box(item, new.lit)
        self.layout_ = lay
        lit = next((b for b in lay.boxes if b.lit), None)
        if lit is not None:
            self.ensureVisible(QRectF(lit.x, lit.y, lit.w, lit.h), 8, 40)

    def _redraw(self, lay: MapLayout | None = None) -> None:
        scene = self.scene()
        scene.clear()
        self.layout_ = lay = lay or map_layout.layout(self._steps, self._current, self._words())
        self._frame_items, self._box_items = [], []
        for frame in lay.frames:
            item = scene.addRect(QRectF(frame.x, frame.y, frame.w, frame.h))
            _style_frame(item, frame.lit)
            self._frame_items.append(item)
            item.setZValue(-1)
            text = scene.addSimpleText(frame.title, self._small)
            text.setBrush(QBrush(_TEXT))
            ty = (frame.y + (frame.h - text.boundingRect().height()) / 2 if frame.inline
                  else frame.y + 2)
            text.setPos(frame.x + 4, ty)
        for arrow in lay.arrows:
            pen = QPen(_SHAPE)
            scene.addLine(arrow.x, arrow.y0 + 1, arrow.x, arrow.y1 - 5, pen)
            head = QPolygonF([QPointF(arrow.x - 4, arrow.y1 - 6), QPointF(arrow.x + 4, arrow.y1 - 6),
                              QPointF(arrow.x, arrow.y1 - 1)])
            scene.addPolygon(head, pen, QBrush(_SHAPE))
            label = scene.addSimpleText(arrow.label, self._small)
            label.setBrush(QBrush(_SHAPE))
            label.setPos(arrow.x + 8, (arrow.y0 + arrow.y1 - label.boundingRect().height()) / 2)
        lit = None
        for box in lay.boxes:
            rect = QRectF(box.x, box.y, box.w, box.h)
            item = scene.addRect(rect)
            _style_box(item, box.lit)
            self._box_items.append(item)
            item.setToolTip(box.tooltip)
            item.setData(0, box.step)
            item.setCursor(Qt.CursorShape.PointingHandCursor)
            text = scene.addSimpleText(box.label, self._font)
            text.setBrush(QBrush(_TEXT))
            bounds = text.boundingRect()
            if bounds.width() > box.w - 4:  # a long label: smaller, then clipped by the box
                text.setFont(self._small)
                bounds = text.boundingRect()
            text.setPos(box.x + max(2.0, (box.w - bounds.width()) / 2),
                        box.y + (box.h - bounds.height()) / 2)
            text.setData(0, box.step)
            text.setToolTip(box.tooltip)
            if box.lit and lit is None:
                lit = rect
        scene.setSceneRect(QRectF(0, 0, map_layout.WIDTH, lay.height))
        if lit is not None:
            self.ensureVisible(lit, 8, 40)

    # -- clicks --------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.LeftButton:
            for item in self.items(event.position().toPoint()):
                step = item.data(0)
                if step:
                    self.step_clicked.emit(step)
                    event.accept()
                    return
        super().mousePressEvent(event)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            self._redraw()
