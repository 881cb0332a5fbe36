"""A labelled matrix view: one ImageItem, a colour bar, token/dimension tick labels, exact
values on hover, and masked (−∞) cells drawn as a grey hatch instead of a colour.

Items are created once; `set_matrix` only swaps data, levels and ticks, so a panel can redraw
many of these per context edit.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QLabel, QSizePolicy, QVBoxLayout, QWidget

from gui.widgets.cells import CellValues, elide, format_value
from gui.widgets.export import install_export_menu

SIGNED_CMAP = "CET-D1"  # blue < 0 < red, white at exactly zero (with symmetric_levels)
PATTERN_CMAP = "viridis"  # probabilities, 0 to 1
_WIDTHS: dict[str, int] = {}  # tick label -> pixel width in the (shared) 9 pt tick font
_MASK_FILL = QColor(205, 205, 205)
_MASK_HATCH = QColor(140, 140, 140)


class Heatmap(QWidget):
    """A (rows x columns) matrix with labelled axes, colour scale and hover readout."""

    hovered = Signal(str)  # "row label, column label: value", or "" when the mouse leaves
    clicked = Signal(int, int)  # (row, column) of a left click on a cell

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        colorbar: bool = True,
        readout: bool = True,
        row_title: str = "",
        col_title: str = "",
        max_label_chars: int = 8,
        cell_values: bool = False,
        hover_names: tuple[str, str] = ("", ""),
    ):
        super().__init__(parent)
        self._values = np.zeros((0, 0), dtype=np.float32)
        self._row_labels: list[str] = []
        self._col_labels: list[str] = []
        self._row_short: list[str] = []  # elided, as drawn
        self._col_short: list[str] = []
        self._row_widths: list[int] = []
        self._col_width = 0
        self._labels_version = 0  # bumped when labels change, so ticks are rebuilt only then
        self._ticks_key: tuple = ()
        self._levels: tuple[float, float] = (0.0, 1.0)
        self._cmap_key: object = None
        self._lut: np.ndarray | None = None
        self._title = ""
        self._max_chars = max_label_chars
        self._hover_text = ""
        self._left_width = -1
        self._hover_names = hover_names  # words put before the labels, e.g. ("query", "key")
        self._tick_font = QFont()
        self._tick_font.setPointSizeF(9.0)
        self._metrics = QFontMetrics(self._tick_font)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("w")
        install_export_menu(self.graphics, "heatmap")
        self.graphics.ci.setContentsMargins(2, 2, 2, 2)
        self.plot: pg.PlotItem = self.graphics.addPlot()
        plot = self.plot
        plot.invertY(True)  # row 0 at the top, like a printed matrix
        plot.setMouseEnabled(x=False, y=False)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        self.view: pg.ViewBox = plot.getViewBox()
        self.view.setDefaultPadding(0.0)
        # Axes sized here, not by pyqtgraph's auto-expansion: that resizes the axis during the
        # first paint after new labels, which lays the plot out again and paints it twice.
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setStyle(tickFont=self._tick_font, tickLength=-3, autoExpandTextSpace=False,
                          autoReduceTextSpace=False)
            axis.enableAutoSIPrefix(False)
            axis.setPen(pg.mkPen(90, 90, 90))
            axis.setTextPen(pg.mkPen(30, 30, 30))

        if row_title:
            plot.setLabel("left", row_title)
        if col_title:
            plot.setLabel("bottom", col_title)

        # Masked cells are NaN in the image (transparent), so this hatch shows through them.
        self._mask_fill = _overlay(plot, -20, brush=QBrush(_MASK_FILL))
        self._mask_hatch = _overlay(plot, -19,
                                    brush=QBrush(_MASK_HATCH, Qt.BrushStyle.BDiagPattern))

        self.image = pg.ImageItem(axisOrder="row-major")
        plot.addItem(self.image)

        self._cells = CellValues()
        self._cells.setZValue(5)
        self._cells.setVisible(cell_values)
        plot.addItem(self._cells, ignoreBounds=True)

        self._selection = _overlay(plot, 10, pen=pg.mkPen(255, 40, 40, width=2))
        self._selection.hide()
        self._hover_box = _overlay(plot, 11, pen=pg.mkPen(255, 255, 255, width=1.5))
        self._hover_box.hide()

        self.colorbar: pg.ColorBarItem | None = None
        if colorbar:
            self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), width=14, interactive=False,
                                            colorMap="viridis", colorMapMenu=False)
            self.colorbar.setImageItem(self.image, insert_in=plot)
            bar_axis = self.colorbar.getAxis("right")
            bar_axis.setStyle(tickFont=self._tick_font, autoExpandTextSpace=False,
                              autoReduceTextSpace=False)
            bar_axis.enableAutoSIPrefix(False)
            bar_axis.setTextPen(pg.mkPen(30, 30, 30))
            # Fixed room for labels like "-0.045": the axis would otherwise clip them at first.
            bar_axis.setWidth(self._metrics.horizontalAdvance("-0.0000") + 12)
        else:
            self.image.setColorMap(pg.colormap.get("viridis"))

        self.readout: QLabel | None = None
        # The title is a widget, not the plot's own title item: that one claims its text's full
        # width as the plot's minimum and pushes the colour bar out of view in narrow docks.
        self.title_label = QLabel()
        self.title_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.title_label.setStyleSheet("color: #222; background: white; padding: 3px;")
        self.title_label.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.title_label)
        layout.addWidget(self.graphics, 1)
        if readout:
            self.readout = QLabel(self._readout_hint())
            self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            layout.addWidget(self.readout)
            self.hovered.connect(self._show_readout)

        scene = self.graphics.scene()
        scene.sigMouseMoved.connect(self._on_mouse_moved)
        scene.sigMouseClicked.connect(self._on_mouse_clicked)
        self.view.sigResized.connect(self._update_ticks)

    # -- public ----------------------------------------------------------------------------
    def set_matrix(
        self,
        values: np.ndarray,
        row_labels: Sequence[str],
        col_labels: Sequence[str],
        colormap: str | pg.ColorMap = "viridis",
        levels: tuple[float, float] | None = None,
        title: str = "",
    ) -> None:
        """Show a (R, C) matrix; −∞ cells are drawn as masked; levels default to finite min/max."""
        m = np.array(values, dtype=np.float32, copy=True)
        if m.ndim != 2:
            raise ValueError(f"Heatmap needs a 2-D matrix, got shape {m.shape}")
        rows, cols = m.shape
        if len(row_labels) != rows or len(col_labels) != cols:
            raise ValueError(
                f"{len(row_labels)} row / {len(col_labels)} column labels for a "
                f"{rows}x{cols} matrix"
            )
        reshaped = m.shape != self._values.shape
        self._values = m
        self._set_labels(row_labels, col_labels)

        finite = np.isfinite(m)
        all_finite = bool(finite.all())
        display = m if all_finite else np.where(finite, m, np.nan).astype(np.float32)
        self._levels = self._auto_levels(m, finite, all_finite) if levels is None else (
            float(levels[0]), float(levels[1]))
        self._set_colormap(colormap)

        self.image.setImage(display, autoLevels=False, levels=self._levels)
        if self.colorbar is not None:
            self.colorbar.setLevels(self._levels)
        if reshaped:
            rect = QRectF(0, 0, cols, rows)
            self.image.setRect(rect)
            self._mask_fill.setRect(rect)
            self._mask_hatch.setRect(rect)
            self.view.setLimits(xMin=0, xMax=max(cols, 1), yMin=0, yMax=max(rows, 1))
            self.view.setRange(xRange=(0, max(cols, 1)), yRange=(0, max(rows, 1)), padding=0)
            self._selection.hide()
        # Only masked cells should show the hatch; without any, skip drawing it at all.
        self._mask_fill.setVisible(not all_finite)
        self._mask_hatch.setVisible(not all_finite)
        if self._cells.isVisible():
            self._cells.set_values(m, self._dark_cells(m))
        if title != self._title:
            self._title = title
            self.title_label.setText(title)
            self.title_label.setVisible(bool(title))
        self._update_ticks()
        if self._hover_text:
            self._hover_text = ""
            self._hover_box.hide()
            self.hovered.emit("")

    def current_image(self) -> np.ndarray:
        """A copy of exactly the matrix shown (−∞ kept where cells are drawn as masked)."""
        return self._values.copy()

    def levels(self) -> tuple[float, float]:
        """The (low, high) values at the ends of the colour scale."""
        return self._levels

    def row_labels(self) -> list[str]:
        return list(self._row_labels)

    def col_labels(self) -> list[str]:
        return list(self._col_labels)

    def title(self) -> str:
        return self._title

    def set_axis_titles(self, row_title: str, col_title: str) -> None:
        """Name the axes (e.g. 'query', 'key')."""
        self.plot.setLabel("left", row_title)
        self.plot.setLabel("bottom", col_title)

    def set_hover_names(self, row_name: str, col_name: str) -> None:
        """The words put before the labels in the hover text, e.g. ("query", "key")."""
        self._hover_names = (row_name, col_name)

    def set_cell_values(self, on: bool) -> None:
        """Print numbers inside cells whenever cells are large enough to hold them."""
        self._cells.setVisible(on)
        if on:
            self._cells.set_values(self._values, self._dark_cells(self._values))

    def select_row(self, row: int | None) -> None:
        """Outline one row (e.g. the token whose vector is shown elsewhere); None clears."""
        rows, cols = self._values.shape
        if row is None or not 0 <= row < rows:
            self._selection.hide()
            return
        self._selection.setRect(QRectF(0, row, cols, 1))
        self._selection.show()

    def readout_text(self, row: int, col: int) -> str:
        """The hover text for a cell: 'row label, column label: value'."""
        rn, cn = self._hover_names
        r = f"{rn} {self._row_labels[row]}" if rn else self._row_labels[row]
        c = f"{cn} {self._col_labels[col]}" if cn else self._col_labels[col]
        return f"{r}, {c}: {format_value(self._values[row, col])}"

    # -- internals -------------------------------------------------------------------------
    @staticmethod
    def _auto_levels(m: np.ndarray, finite: np.ndarray, all_finite: bool) -> tuple[float, float]:
        vals = m if all_finite else m[finite]
        if vals.size == 0:
            return (0.0, 1.0)
        lo, hi = float(vals.min()), float(vals.max())
        if hi <= lo:  # a constant matrix still needs a non-empty scale
            pad = max(abs(lo) * 0.05, 0.5)
            return (lo - pad, hi + pad)
        return (lo, hi)

    def _set_colormap(self, colormap: str | pg.ColorMap) -> None:
        key = colormap if isinstance(colormap, str) else id(colormap)
        if key == self._cmap_key:
            return
        self._cmap_key = key
        cmap = pg.colormap.get(colormap) if isinstance(colormap, str) else colormap
        self._lut = cmap.getLookupTable(nPts=256, alpha=False)
        if self.colorbar is not None:
            self.colorbar.setColorMap(cmap)
        else:
            self.image.setColorMap(cmap)

    def _dark_cells(self, m: np.ndarray) -> np.ndarray:
        """Which cells are dark enough in the colour map to need white text."""
        if m.size == 0 or self._lut is None:
            return np.zeros(m.shape, dtype=bool)
        lo, hi = self._levels
        span = hi - lo if hi > lo else 1.0
        finite = np.isfinite(m)
        idx = np.clip(((np.where(finite, m, lo) - lo) / span * 255).astype(int), 0, 255)
        rgb = self._lut[idx].astype(np.float32)
        lum = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
        return (lum < 128) & finite

    def _set_labels(self, row_labels: Sequence[str], col_labels: Sequence[str]) -> None:
        """Store labels; elide and measure them only when they differ from the last ones."""
        rows = [str(s) for s in row_labels]
        cols = [str(s) for s in col_labels]
        if rows != self._row_labels:
            self._labels_version += 1
            self._row_labels = rows
            self._row_short = [elide(s, self._max_chars) for s in rows]
            self._row_widths = [self._text_width(s) for s in self._row_short]
        if cols != self._col_labels:
            self._labels_version += 1
            self._col_labels = cols
            self._col_short = [elide(s, self._max_chars) for s in cols]
            self._col_width = max((self._text_width(s) for s in self._col_short), default=0)

    def _text_width(self, text: str) -> int:
        """Pixel width of a tick label; the same pieces recur on every edit, so remember them."""
        w = _WIDTHS.get(text)
        if w is None:
            if len(_WIDTHS) > 200_000:  # room for a GPT-2 vocabulary axis (50,257 labels)
                _WIDTHS.clear()
            w = _WIDTHS[text] = self._metrics.horizontalAdvance(text)
        return w

    def _update_ticks(self, *_args) -> None:
        rows, cols = self._values.shape
        h = max(self.view.height(), 1.0)
        w = max(self.view.width(), 1.0)
        # Keep one label per line of text: skip rows/columns when cells are too small to hold one.
        row_step = _step(rows, h, self._metrics.height() + 1)
        col_step = _step(cols, w, self._col_width + 8)
        key = (row_step, col_step, self._labels_version)
        if key == self._ticks_key:
            return  # unchanged ticks: the axes keep their cached pictures
        self._ticks_key = key
        left = [(i + 0.5, self._row_short[i]) for i in range(0, rows, row_step)]
        bottom = [(j + 0.5, self._col_short[j]) for j in range(0, cols, col_step)]
        left_axis = self.plot.getAxis("left")
        left_axis.setTicks([left, []])
        self.plot.getAxis("bottom").setTicks([bottom, []])
        # Size the label column from the labels themselves: pyqtgraph's own auto-expansion lags
        # one paint behind and silently drops labels that do not fit yet.
        label_w = max((self._row_widths[i] for i in range(0, rows, row_step)), default=0)
        title_w = self._metrics.height() + 6 if left_axis.labelText else 0
        width = int(label_w + title_w + 10)
        # Grow at once, shrink only by a lot: a new width re-lays out the plot (a second paint),
        # and a context edit usually changes the longest label by a character or two.
        if width > self._left_width or width < 0.7 * self._left_width:
            self._left_width = width
            left_axis.setWidth(width)

    def _cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        rows, cols = self._values.shape
        if rows == 0 or not self.view.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.view.mapSceneToView(scene_pos)
        r, c = math.floor(p.y()), math.floor(p.x())
        if 0 <= r < rows and 0 <= c < cols:
            return r, c
        return None

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        cell = self._cell_at(scene_pos)
        text = "" if cell is None else self.readout_text(*cell)
        if cell is None:
            self._hover_box.hide()
        else:
            self._hover_box.setRect(QRectF(cell[1], cell[0], 1, 1))
            self._hover_box.show()
        if text != self._hover_text:
            self._hover_text = text
            self.hovered.emit(text)

    def _on_mouse_clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        cell = self._cell_at(ev.scenePos())
        if cell is not None:
            self.clicked.emit(*cell)

    def _readout_hint(self) -> str:
        return self.tr("Hover a cell to read its exact value.")

    def _show_readout(self, text: str) -> None:
        if self.readout is not None:
            self.readout.setText(text or self._readout_hint())

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        # Axis titles, hover names and the title come from the owner, which re-sets them
        # (set_axis_titles, set_hover_names, set_matrix) in its own re-translation.
        if event.type() == QEvent.Type.LanguageChange:
            self._show_readout(self._hover_text)

    def leaveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self._hover_box.hide()
        if self._hover_text:
            self._hover_text = ""
            self.hovered.emit("")
        super().leaveEvent(event)


def _overlay(plot: pg.PlotItem, z: float, pen: QPen | None = None,
             brush: QBrush | None = None) -> QGraphicsRectItem:
    """A rectangle drawn over (or, z < 0, under) the image; outlines keep their pixel width."""
    item = QGraphicsRectItem(0, 0, 1, 1)
    if pen is None:
        item.setPen(QPen(Qt.PenStyle.NoPen))
    else:
        pen.setCosmetic(True)
        item.setPen(pen)
    if brush is not None:
        item.setBrush(brush)
    item.setZValue(z)
    plot.addItem(item, ignoreBounds=True)
    return item


def _step(n: int, pixels: float, per_label: float) -> int:
    """Every how many rows/columns to label so labels (per_label px each) do not overlap."""
    if n <= 1:
        return 1
    need = per_label / (pixels / n)
    if need <= 1:
        return 1
    for s in (2, 4, 5, 8, 10, 16, 20, 25, 32, 50, 64, 100, 128, 200, 256, 500, 1000):
        if s >= need:
            return s
    return int(math.ceil(need))
