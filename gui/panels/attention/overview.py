"""Every layer x every head of one attention stage at once: a grid of small heatmaps (one
ImageItem each, all in a single plot, so 12 x 12 = 144 heads cost one widget), on one shared
colour scale. A click on a head asks for it enlarged.

The images are the trace's previews (engine.model.ondemand.preview): the stage itself up to 64
tokens, beyond that each pixel the largest value of its block of queries x keys, so drawing
the overview never recomputes a full (T, T) matrix.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from gui.panels.attention.groups import group_colour
from gui.widgets import PATTERN_CMAP, NoteLabel
from gui.widgets.language import Translated

GAP = 0.12  # space between neighbouring heads, in head widths
STRIP = 0.3  # height of the K/V-group strip above block 0, in head widths


def cell_origin(layer: int, head: int) -> tuple[float, float]:
    """Top-left corner (x, y) of a head's unit square in the plot (y grows downwards)."""
    return head * (1 + GAP), layer * (1 + GAP)


def cell_at(x: float, y: float, n_layer: int, n_head: int) -> tuple[int, int] | None:
    """(layer, head) of the head drawn at plot point (x, y), None between or beyond heads."""
    step = 1 + GAP
    head, layer = int(np.floor(x / step)), int(np.floor(y / step))
    if not (0 <= layer < n_layer and 0 <= head < n_head):
        return None
    if x - head * step > 1 or y - layer * step > 1:
        return None  # in a gap
    return layer, head


class LayerHeadOverview(Translated, QWidget):
    """n_layer rows x n_head columns of heads; `head_clicked(layer, head)` on a click."""

    head_clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._images: list[list[pg.ImageItem]] = []
        self._strip: list[pg.QtWidgets.QGraphicsRectItem] = []  # one per head: its K/V group
        self._groups: list[int] = []
        self._cmap: object = None
        self._items_cmap: object = None  # the colour map the head images were given
        self.plot_widget = pg.PlotWidget(background="w")
        self.plot = plot = self.plot_widget.getPlotItem()
        plot.setMouseEnabled(x=False, y=False)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.invertY(True)  # block 0 on top, as the model reads
        plot.setAspectLocked(True)
        plot.showAxis("top")
        plot.hideAxis("bottom")
        for name in ("left", "top"):  # dark labels, no SI prefix: "block 3" is not a number
            axis = plot.getAxis(name)
            axis.enableAutoSIPrefix(False)
            axis.setTextPen(pg.mkPen(30, 30, 30))
        self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), width=14, interactive=False,
                                        colorMap=PATTERN_CMAP, colorMapMenu=False)
        bar = pg.GraphicsLayoutWidget()
        bar.setBackground("w")
        bar.setFixedWidth(78)
        bar.addItem(self.colorbar)
        bar_axis = self.colorbar.getAxis("right")
        bar_axis.setTextPen(pg.mkPen(30, 30, 30))
        bar_axis.enableAutoSIPrefix(False)
        self.readout = NoteLabel(self._hint())
        row = QHBoxLayout()
        row.addWidget(self.plot_widget, 1)
        row.addWidget(bar)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row, 1)
        layout.addWidget(self.readout)
        scene = self.plot_widget.scene()
        scene.sigMouseMoved.connect(self._on_moved)
        scene.sigMouseClicked.connect(self._on_clicked)

    def _retranslate(self) -> None:
        self.readout.setText(self._hint())
        self._set_ticks()

    def _hint(self) -> str:
        return self.tr("Every head of every block (rows: blocks, columns: heads). Hover a head "
                       "for its name; click it to enlarge it.")

    # -- public ----------------------------------------------------------------------------
    def build(self, n_layer: int, n_head: int) -> None:
        """One image per (layer, head), replacing the old ones."""
        self._items_cmap = None  # new items: no colour map yet
        for row in self._images:
            for item in row:
                self.plot.removeItem(item)
        self._images = [[pg.ImageItem(axisOrder="row-major") for _ in range(n_head)]
                        for _ in range(n_layer)]
        for layer, row in enumerate(self._images):
            for head, item in enumerate(row):
                self.plot.addItem(item)
        step = 1 + GAP
        self.plot.setRange(xRange=(0, max(n_head * step - GAP, 1)),
                           yRange=(-STRIP - GAP, max(n_layer * step - GAP, 1)), padding=0.02)
        self._set_ticks()

    def set_groups(self, groups: list[int]) -> None:
        """A strip above block 0: each head's column in the colour of its K/V group."""
        for item in self._strip:
            self.plot.removeItem(item)
        self._groups = list(groups)
        self._strip = []
        for head, g in enumerate(groups):
            x, _y = cell_origin(0, head)
            item = pg.QtWidgets.QGraphicsRectItem(x, -STRIP - GAP / 2, 1, STRIP)
            item.setBrush(pg.mkBrush(group_colour(g)))
            item.setPen(pg.mkPen(90, 90, 90, width=0))
            self.plot.addItem(item)
            self._strip.append(item)

    def strip_colours(self) -> list[str]:
        """The strip's colour of each head, '#rrggbb'."""
        return [item.brush().color().name() for item in self._strip]

    def shape(self) -> tuple[int, int]:
        """(n_layer, n_head) of the grid."""
        return len(self._images), len(self._images[0]) if self._images else 0

    def images(self) -> list[pg.ImageItem]:
        """Every head's image item, block 0 head 0 first, row by row."""
        return [item for row in self._images for item in row]

    def image(self, layer: int, head: int) -> np.ndarray:
        """What is drawn for one head (masked cells as NaN)."""
        return self._images[layer][head].image

    def show_stage(self, previews: list[np.ndarray], cmap: pg.ColorMap | str,
                   levels: tuple[float, float]) -> None:
        """previews[layer] (n_head, t, t) on one colour scale; −∞ (masked) cells are left
        blank."""
        colormap = pg.colormap.get(cmap) if isinstance(cmap, str) else cmap
        if cmap is not self._cmap:
            self._cmap = cmap
            self.colorbar.setColorMap(colormap)
        self.colorbar.setLevels(levels)
        # Each item's lookup table is rebuilt by setColorMap: only for a new colour map or new
        # items (at 24 x 14 heads, setting it on every redraw took 140 ms).
        recolour = self._items_cmap is None or (cmap is not self._items_cmap and not (
            isinstance(cmap, str) and cmap == self._items_cmap))
        self._items_cmap = cmap
        for layer, row in enumerate(self._images):
            heads = previews[layer]
            shown = np.where(np.isfinite(heads), heads, np.nan).astype(np.float32)
            for head, item in enumerate(row):
                if recolour:
                    item.setColorMap(colormap)
                item.setImage(shown[head], autoLevels=False, levels=levels)
                # After the image: the rect is turned into a scale of the image's own size.
                x, y = cell_origin(layer, head)
                item.setRect(QRectF(x, y, 1, 1))

    def click(self, layer: int, head: int) -> None:
        """As if the user clicked that head."""
        self.head_clicked.emit(layer, head)

    def cell_centre(self, layer: int, head: int) -> QPointF:
        """Widget coordinates of the centre of a head (for tests and tooltips)."""
        x, y = cell_origin(layer, head)
        scene = self.plot.vb.mapViewToScene(QPointF(x + 0.5, y + 0.5))
        return self.plot_widget.mapFromScene(scene)

    # -- internals -------------------------------------------------------------------------
    def _set_ticks(self) -> None:
        n_layer, n_head = self.shape()
        step = 1 + GAP
        left = [(layer * step + 0.5, self.tr("block {0}").format(layer))
                for layer in range(n_layer)]
        top = [(head * step + 0.5, str(head)) for head in range(n_head)]
        self.plot.getAxis("left").setTicks([left, []])
        self.plot.getAxis("top").setTicks([top, []])
        self.plot.getAxis("top").setLabel(self.tr("head"))

    def _cell(self, scene_pos: QPointF) -> tuple[int, int] | None:
        if not self.plot.vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.plot.vb.mapSceneToView(scene_pos)
        return cell_at(p.x(), p.y(), *self.shape())

    def _on_moved(self, scene_pos: QPointF) -> None:
        cell = self._cell(scene_pos)
        if cell is None:
            self.readout.setText(self._hint())
            return
        self.readout.setText(self.tr("Block {0}, head {1}: click to enlarge.").format(*cell))

    def _on_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        cell = self._cell(event.scenePos())
        if cell is not None:
            self.head_clicked.emit(*cell)
