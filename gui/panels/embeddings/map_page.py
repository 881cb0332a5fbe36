"""The vocabulary map page: every token of E on its two main PCA axes, the context's tokens in
orange, the selected one ringed in red, labels that never overlap (chosen again on every zoom,
pan and resize), and the selected token's nearest tokens below."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QSplitter, QTableWidget, QWidget

from gui.panels.embeddings.analysis import MAP_INTERVAL_S, distinct_in_order
from gui.panels.embeddings.labels import choose_labels
from gui.panels.embeddings.layout import column
from gui.panels.embeddings.map_labels import SELECTED_COLOUR, MapLabels
from gui.widgets import NoteLabel, elide, fill_table, fix_axes, format_value
from gui.widgets.export import install_export_menu
from gui.widgets.language import Translated

CONTEXT_COLOUR = (230, 120, 0)
MAX_LABEL_CHARS = 12  # longer pieces end in "…" on the map; the tooltip has them whole


class MapPage(Translated, QSplitter):
    """The PCA map above the nearest tokens; `token_chosen` fires for a clicked point or a
    double-clicked neighbour."""

    token_chosen = Signal(int)

    def __init__(self, piece_of: Callable[[int], str], parent: QWidget | None = None):
        super().__init__(Qt.Orientation.Vertical, parent)
        self._piece_of = piece_of
        self._full = False  # the model's own full vocabulary (ids are rows), not a compact one
        self._coords: np.ndarray | None = None  # (V, 2) the map's points; None before a model
        self._shown = np.zeros(0, dtype=np.int64)  # the rows drawn (a sample of a big table)
        self._context_ids = np.zeros(0, dtype=np.int64)
        self._selected: int | None = None
        self._neighbours: list[int] = []
        self._sizes: dict[tuple[str, str], tuple[float, float]] = {}  # (text, kind) -> w, h
        self._labels_key: tuple = ()  # what the labels were placed for
        self._projection = 0  # counts the maps drawn, so labels know when the points moved
        self._explained = np.zeros(2)  # each PCA axis's share of the variance
        label_font = QFont()
        label_font.setPointSizeF(8.5)

        self.plot = pg.PlotWidget(background="w")
        install_export_menu(self.plot, "vocabulary map")
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        fix_axes(self.plot, left_width=56)
        self.vocab_points = pg.ScatterPlotItem(size=5, pen=None,
                                               brush=pg.mkBrush(120, 120, 120, 110),
                                               hoverable=True, tip=self._point_tip)
        self.vocab_points.sigClicked.connect(self._on_point_clicked)
        self.context_points = pg.ScatterPlotItem(size=10, pen=pg.mkPen(90, 45, 0),
                                                 brush=pg.mkBrush(*CONTEXT_COLOUR, 220))
        self.context_points.sigClicked.connect(self._on_point_clicked)
        self.selected_point = pg.ScatterPlotItem(size=18, pen=pg.mkPen(*SELECTED_COLOUR, width=2.5),
                                                 brush=None)
        for item in (self.vocab_points, self.context_points, self.selected_point):
            self.plot.addItem(item)
        self.label_layer = MapLabels(label_font)
        self.label_layer.setZValue(20)
        self.plot.addItem(self.label_layer, ignoreBounds=True)
        view = self.plot.getViewBox()
        view.sigRangeChanged.connect(self.place_labels)
        view.sigResized.connect(self._on_resized)
        self.note = NoteLabel(lines=2)
        self.note.setStyleSheet("color: #444;")

        self.nearest = QTableWidget(0, 4)
        self.nearest.verticalHeader().setVisible(False)
        self.nearest.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.nearest.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.nearest.verticalHeader().setDefaultSectionSize(22)
        self.nearest.horizontalHeader().setStretchLastSection(True)
        self.nearest.cellDoubleClicked.connect(self._on_nearest_clicked)
        self.near_title = NoteLabel()

        self.setChildrenCollapsible(False)
        self.addWidget(column(self.plot, self.note))
        self.addWidget(column(self.near_title, self.nearest))
        self.setSizes([360, 130])
        self._retranslate()

    def _retranslate(self) -> None:
        # A model's own full vocabulary: an id is its row, so one id column.
        self.nearest.setHorizontalHeaderLabels(
            [self.tr("piece"), self.tr("id") if self._full else self.tr("compact id"),
             self.tr("original id"), self.tr("cosine")])
        self.nearest.setColumnHidden(2, self._full)
        self.near_title.setText(self.tr("Nearest tokens by cosine similarity "
                                        "(double-click one to show it):"))
        if self._coords is not None:
            self._describe_map()

    # -- what the panel shows ----------------------------------------------------------------
    def forget(self) -> None:
        """A new model: no map until its analysis, and label sizes measured again (a new
        tokenizer may spell the same ids differently)."""
        self._coords = None
        self._sizes.clear()

    def set_full_vocabulary(self, full: bool) -> None:
        """Whether the model reads its own full vocabulary (ids are rows) or a compact one."""
        self._full = full
        self._retranslate()
        self.place_labels()

    def show_vocabulary(self, coords: np.ndarray, explained: np.ndarray,
                        shown: np.ndarray | None = None) -> None:
        """The tokens `shown` (default: all) at their PCA coordinates (coords: (V, 2), every
        token, so the context's and the selected one are placed even when not sampled);
        `explained` is each axis's share of the variance. Runs once per projection."""
        self._coords = coords
        self._shown = np.arange(len(coords)) if shown is None else np.asarray(shown)
        self._projection += 1
        self._explained = explained
        self.vocab_points.setData(x=coords[self._shown, 0], y=coords[self._shown, 1],
                                  data=self._shown)
        self._describe_map()

    def _describe_map(self) -> None:
        """The axis titles and the note of the map shown."""
        explained = self._explained
        self.plot.setLabel("bottom", self.tr("PC1 ({0:.1f}% of variance)").format(
            100 * explained[0]))
        self.plot.setLabel("left", self.tr("PC2 ({0:.1f}% of variance)").format(
            100 * explained[1]))
        self.note.setText(self.tr(
            "All {0} tokens on the two main axes of E (PCA); orange: the context. Wheel: zoom, "
            "drag: pan. Hover a point to name it, click it to show it.").format(len(self._coords))
            if len(self._shown) == len(self._coords) else self.tr(
            "{0} of the {1} tokens (a fixed random sample, plus the context in orange) on the "
            "two main axes of that sample (PCA). Wheel: zoom, drag: pan. Hover a point to name "
            "it, click it to show it; the nearest tokens are searched in the whole table."
            ).format(len(self._shown), len(self._coords)))
        self.note.setToolTip(self.note.text() + "\n" + self.tr(
            "While training, the map is re-projected at most every {0:.0f} s; the lookups, the "
            "bars and the nearest tokens always use the newest weights.").format(MAP_INTERVAL_S))

    def show_context(self, ids: np.ndarray) -> None:
        """The context's tokens (compact ids, in order) as orange points."""
        self._context_ids = np.asarray(ids, dtype=np.int64)
        unique = distinct_in_order(self._context_ids)
        xy = self._coords[unique] if unique else np.zeros((0, 2))
        self.context_points.setData(x=xy[:, 0], y=xy[:, 1], data=np.asarray(unique))

    def show_selected(self, token: int) -> None:
        """Ring `token` and label the map for it."""
        self._selected = token
        xy = self._coords[token]
        self.selected_point.setData(x=[xy[0]], y=[xy[1]])
        # New points may move the auto range: apply it now, not in the paint (a second paint),
        # so the labels are placed once, for the range that will be drawn.
        self.plot.getViewBox().prepareForPaint()
        self.place_labels()

    def show_nearest(self, neighbours: list[tuple[int, float]], original: list[int]) -> None:
        """The nearest tokens: (compact id, cosine) and their original ids (-1: none)."""
        self._neighbours = [j for j, _ in neighbours]
        fill_table(self.nearest, [
            (self._piece_of(j), str(j), str(o) if o >= 0 else "–", f"{cos:.6f}")
            for (j, cos), o in zip(neighbours, original)
        ])

    def labels_in_scene(self) -> list[tuple[int, str, QRectF]]:
        """(compact id, text, box in the map's scene pixels) of every label on the map."""
        view = self.plot.getViewBox()
        return [(label.token, label.text, box.translated(view.mapViewToScene(anchor)))
                for label, anchor, box in self.label_layer.anchored()]

    # -- labels --------------------------------------------------------------------------------
    def place_labels(self, *_args) -> None:
        """Choose the map's labels for the current view and size (see labels.choose_labels)."""
        view = self.plot.getViewBox()
        rect, width, height = view.viewRect(), view.width(), view.height()
        key = (self._coords is not None and self._projection, rect.getRect(), width, height,
               self._selected, self._context_ids.tobytes())
        if key == self._labels_key:
            return
        self._labels_key = key
        if self._coords is None:
            self.label_layer.set_labels([], QRectF())
            return
        labels = choose_labels(self._label_coords(), rect.getRect(), width, height, self._selected,
                               distinct_in_order(self._context_ids), self._measure)
        self.label_layer.set_labels(labels, rect if labels else QRectF())

    def _label_coords(self) -> np.ndarray:
        """The map's coordinates where a point is drawn (sampled, context, selected), NaN
        elsewhere, so no label names a point that is not on the map."""
        if len(self._shown) == len(self._coords):
            return self._coords
        drawn = np.zeros(len(self._coords), dtype=bool)
        drawn[self._shown] = True
        drawn[self._context_ids] = True
        if self._selected is not None:
            drawn[self._selected] = True
        return np.where(drawn[:, None], self._coords, np.nan)

    def _measure(self, token: int, kind: str) -> tuple[str, tuple[float, float]]:
        """A token's label text (elided) and its box size in pixels, remembered."""
        text = elide(self._piece_of(token), MAX_LABEL_CHARS)
        size = self._sizes.get((text, kind))
        if size is None:
            metrics = self.label_layer.metrics[kind]
            size = self._sizes[(text, kind)] = (metrics.horizontalAdvance(text) + 4,
                                                metrics.height() + 1)
        return text, size

    # -- slots ---------------------------------------------------------------------------------
    def _on_resized(self, view: pg.ViewBox) -> None:
        # A new size re-fits the auto range at the next paint; fit it now instead, so the
        # labels are placed once, for the range that will be drawn (not once more, mid-paint).
        view.prepareForPaint()
        self.place_labels()

    def _on_point_clicked(self, _item, points, _ev=None) -> None:
        if len(points):
            self.token_chosen.emit(int(points[0].data()))

    def _on_nearest_clicked(self, row: int, _col: int) -> None:
        if row < len(self._neighbours):
            self.token_chosen.emit(self._neighbours[row])

    def _point_tip(self, x: float, y: float, data) -> str:
        """A map point's tooltip: its token and the coordinates the PCA gave it."""
        i = int(data)
        words = (self.tr("“{0}”  id {1}\nPC1 {2}, PC2 {3}") if self._full else
                 self.tr("“{0}”  compact id {1}\nPC1 {2}, PC2 {3}"))
        text = words.format(self._piece_of(i), i, format_value(x), format_value(y))
        where = np.flatnonzero(self._context_ids == i)
        if where.size:
            text += "\n" + self.tr("context position {0}").format(
                ", ".join(str(t) for t in where.tolist()))
        return text
