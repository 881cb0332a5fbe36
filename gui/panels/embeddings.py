"""Step 3 of the pipeline, token embedding: each token id picks one row of the table E
(vocab × d_model). Shows the rows looked up for the current context, one token's vector as bars,
its nearest tokens by cosine similarity, and a 2-D PCA map of the whole vocabulary.

The lookup values come from the trace ("embed.token"); the vocabulary-wide views read the
model's token table, analysed by engine.analysis once per set of weights.

In a narrow dock the lookup and the map are two tabs; from WIDE_PX on they sit side by side.
The map labels as many tokens as fit without overlapping at the current zoom (re-chosen on every
zoom, pan and resize); the others are points whose tooltip names them.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.analysis import nearest_tokens, pca_2d
from gui.panels.tokens import context_pieces, piece, show_if_traced
from gui.session import Session
from gui.widgets import (
    SIGNED_CMAP,
    EmptyState,
    Heatmap,
    LazyPanel,
    NoteLabel,
    elide,
    fill_table,
    fix_axes,
    format_value,
    static_plot,
    symmetric_levels,
)
from gui.widgets.export import install_export_menu

N_NEAREST = 10
WIDE_PX = 1000  # from this panel width on, the lookup and the map sit side by side
MAX_SAMPLE_LABELS = 80  # grey labels at most: beyond that the map turns into text
SAMPLE_CELL_PX = (80.0, 22.0)  # at most one grey label per cell of the map this size
MAX_LABEL_CHARS = 12  # longer pieces end in "…" on the map; the tooltip has them whole
MAX_RING = 10  # a crowded context label moves up to this many label heights from its point
CONTEXT_COLOUR = (230, 120, 0)
SELECTED_COLOUR = (220, 20, 60)
CONTEXT_MARKER_PX = 12.0  # the orange point with its outline
SELECTED_MARKER_PX = 21.0  # the red ring with its pen
_TEXT_COLOURS = {"sample": QColor(70, 70, 70), "context": QColor(150, 60, 0),
                 "selected": QColor(*SELECTED_COLOUR)}
_LABEL_BACK = QColor(255, 255, 255, 200)  # keeps a label readable over the grey points
_LEADER_PEN = QPen(QColor(120, 120, 120), 1.0)
# Where a label may go around its point, best first: above, below, right, left, the corners.
_AROUND = ((0, -1), (0, 1), (1, 0), (-1, 0), (1, -1), (-1, -1), (1, 1), (-1, 1))

MAP_INTERVAL_S = 3.0  # while training, the vocabulary map is re-projected at most this often


class _TableAnalysis:
    """The token table and its PCA, kept while the weights they came from are unchanged."""

    def __init__(self, model, table: np.ndarray):
        self.model = model
        # In-place weight updates (optimizer steps, load_state_dict) bump the tensor's version.
        self.version = model.embed.wte.weight._version
        self.table = table  # (V, C)
        self.coords, self.explained = pca_2d(table)  # (V, 2), (2,)
        self.map_version = self.version  # the weights the map (coords) was made from
        self.map_time = time.monotonic()

    def matches(self, model) -> bool:
        return model is self.model and model.embed.wte.weight._version == self.version

    def map_current(self) -> bool:
        return self.map_version == self.version

    def update_table(self, table: np.ndarray) -> None:
        """New weights for the table only: the map keeps the projection it was made from."""
        self.version = self.model.embed.wte.weight._version
        self.table = table


@dataclass
class _Label:
    token: int  # compact id
    text: str
    kind: str  # "sample", "context" or "selected"
    anchor: QPointF  # its point, in data coordinates
    box: QRectF  # the label, in pixels relative to the anchor
    leader: bool  # drawn away from its point, so a line joins them


class _Occupancy:
    """The pixels of the map already covered by labels and context markers (2 px cells)."""

    CELL = 2.0

    def __init__(self, width: float, height: float):
        self.width, self.height = width, height
        self.grid = np.zeros((int(height // self.CELL) + 1, int(width // self.CELL) + 1), bool)

    def _cells(self, box: tuple[float, float, float, float]) -> tuple[slice, slice]:
        x0, y0, x1, y1 = box
        c = self.CELL
        return (slice(max(int(y0 // c), 0), max(math.ceil(y1 / c), 0)),
                slice(max(int(x0 // c), 0), max(math.ceil(x1 / c), 0)))

    def is_free(self, box: tuple[float, float, float, float]) -> bool:
        """Inside the map and touching nothing taken."""
        x0, y0, x1, y1 = box
        if x0 < 0 or y0 < 0 or x1 > self.width or y1 > self.height:
            return False
        rows, cols = self._cells(box)
        return not self.grid[rows, cols].any()

    def take(self, box: tuple[float, float, float, float]) -> None:
        rows, cols = self._cells(box)
        self.grid[rows, cols] = True


def _beside(ax: float, ay: float, w: float, h: float, gap: float,
            direction: tuple[int, int]) -> tuple[float, float, float, float]:
    """The (x0, y0, x1, y1) of a w × h box whose nearest side is `gap` px from (ax, ay)."""
    dx, dy = direction
    cx, cy = ax + dx * (gap + w / 2), ay + dy * (gap + h / 2)
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


class _MapLabels(pg.GraphicsObject):
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
        self._labels: list[_Label] = []
        self._bounds = QRectF()

    def labels(self) -> list[_Label]:
        return list(self._labels)

    def set_labels(self, labels: list[_Label], bounds: QRectF) -> None:
        """Show `labels`; `bounds` (data coordinates) holds them all."""
        self.prepareGeometryChange()
        self._labels, self._bounds = labels, bounds
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return self._bounds

    def paint(self, p: QPainter, *_args) -> None:
        if not self._labels:
            return
        to_device = p.transform()
        p.save()
        p.resetTransform()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        for label in self._labels:
            a = to_device.map(label.anchor)
            box = label.box.translated(a)
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


class EmbeddingsPanel(LazyPanel):
    """The rows of E looked up for the context, one token's vector and its neighbours."""

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._analysis: _TableAnalysis | None = None
        self._selected_id: int | None = None  # compact id whose vector is shown
        self._selected_row: int | None = None  # its position in the context, if it is there
        self._context_ids = np.zeros(0, dtype=np.int64)
        self._vector = np.zeros(0, dtype=np.float32)
        self._neighbours: list[tuple[int, float]] = []
        self._sizes: dict[tuple[str, str], tuple[float, float]] = {}  # (text, kind) -> label w, h
        self._labels_key: tuple = ()  # what the map's labels were placed for
        self._projection = 0  # counts the maps drawn, so labels know when the points moved
        self._wide: bool | None = None
        label_font = QFont()
        label_font.setPointSizeF(8.5)

        self.lookup_page = self._build_lookup_page()
        self.map_page = self._build_map_page(label_font)
        self.tabs = QTabWidget()
        self.side = QSplitter(Qt.Orientation.Horizontal)
        self.side.setChildrenCollapsible(False)
        self.views = QStackedWidget()
        self.views.addWidget(self.tabs)
        self.views.addWidget(self.side)
        self._arrange(wide=False)

        self.token_combo = QComboBox()
        self.token_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.token_combo.setMinimumContentsLength(14)
        self.token_combo.currentIndexChanged.connect(self._on_combo)
        self.lookup_note = NoteLabel()
        self.lookup_note.setStyleSheet("color: #444;")
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Token:")))
        top.addWidget(self.token_combo, 1)
        top.addWidget(self.lookup_note, 2)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.views, 1)
        self.empty = EmptyState.fill(self, content, self.tr(
            "No model yet: create or load a model, then type a context to see its token "
            "embeddings."))

        session.model_changed.connect(self._on_model_changed)
        session.trace_changed.connect(self._redraw)
        session.training_changed.connect(self._on_training_changed)
        self._on_model_changed()

    def _build_lookup_page(self) -> QWidget:
        """The [T × d_model] lookup above the selected token's vector as bars."""
        self.lookup_caption = NoteLabel()
        self.lookup_caption.setStyleSheet("color: #222;")
        # One readout line under both plots of the page: a line each cost the bars their height.
        self.heatmap = Heatmap(row_title=self.tr("position · token"),
                               col_title=self.tr("dimension"), max_label_chars=12,
                               hover_names=("", self.tr("dim")), readout=False)
        self.heatmap.clicked.connect(lambda r, _c: self.select_row(r))
        self.heatmap.hovered.connect(self._show_readout)

        self.vector_title = NoteLabel()
        self.vector_title.setStyleSheet("font-weight: bold;")
        self.bar_plot = static_plot(bottom_label=self.tr("dimension"), tick_pt=None,
                                    grid_alpha=0.3)
        fix_axes(self.bar_plot, left_width=56)
        self.bars = pg.BarGraphItem(x=[0], height=[0], width=0.8)
        self.bar_plot.addItem(self.bars)
        self.readout = NoteLabel(self.tr("Hover a cell or a bar for its exact value."))
        self.bar_plot.scene().sigMouseMoved.connect(self._on_bar_hover)

        page = QSplitter(Qt.Orientation.Vertical)
        page.setChildrenCollapsible(False)
        page.addWidget(_column(self.lookup_caption, self.heatmap))
        page.addWidget(_column(self.vector_title, self.bar_plot, self.readout))
        page.setSizes([310, 170])
        return page

    def _build_map_page(self, label_font: QFont) -> QWidget:
        """The vocabulary's PCA map above the selected token's nearest tokens."""
        self.map_plot = pg.PlotWidget(background="w")
        install_export_menu(self.map_plot, "vocabulary map")
        self.map_plot.setMenuEnabled(False)
        self.map_plot.showGrid(x=True, y=True, alpha=0.2)
        fix_axes(self.map_plot, left_width=56)
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
            self.map_plot.addItem(item)
        self.label_layer = _MapLabels(label_font)
        self.label_layer.setZValue(20)
        self.map_plot.addItem(self.label_layer, ignoreBounds=True)
        view = self.map_plot.getViewBox()
        view.sigRangeChanged.connect(self._place_labels)
        view.sigResized.connect(self._on_map_resized)
        self.map_note = NoteLabel(lines=2)
        self.map_note.setStyleSheet("color: #444;")

        self.nearest = QTableWidget(0, 4)
        self.nearest.setHorizontalHeaderLabels(
            [self.tr("piece"), self.tr("compact id"), self.tr("original id"), self.tr("cosine")])
        self.nearest.verticalHeader().setVisible(False)
        self.nearest.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.nearest.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.nearest.verticalHeader().setDefaultSectionSize(22)
        self.nearest.horizontalHeader().setStretchLastSection(True)
        self.nearest.cellDoubleClicked.connect(self._on_nearest_clicked)
        near_title = NoteLabel(self.tr("Nearest tokens by cosine similarity "
                                          "(double-click one to show it):"))

        page = QSplitter(Qt.Orientation.Vertical)
        page.setChildrenCollapsible(False)
        page.addWidget(_column(self.map_plot, self.map_note))
        page.addWidget(_column(near_title, self.nearest))
        page.setSizes([360, 130])
        return page

    def _arrange(self, wide: bool) -> None:
        """Lookup and map side by side when both have room, else one tab each."""
        if wide == self._wide:
            return
        self._wide = wide
        if wide:
            for page in (self.lookup_page, self.map_page):
                self.side.addWidget(page)  # takes it out of the tab widget
                page.show()  # the tab widget had hidden the page behind the current one
            self.side.setSizes([45, 55])
            self.views.setCurrentWidget(self.side)
        else:
            self.tabs.addTab(self.lookup_page, self.tr("Lookup E[ids]"))
            self.tabs.addTab(self.map_page, self.tr("Vocabulary map"))
            self.views.setCurrentWidget(self.tabs)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._arrange(event.size().width() >= WIDE_PX)

    # -- public ----------------------------------------------------------------------------
    def select_row(self, row: int) -> None:
        """Show the vector and neighbours of the token at context position `row`."""
        self._flush()
        if not 0 <= row < len(self._context_ids):
            raise ValueError(f"no context position {row}")
        self._selected_row = row
        self._selected_id = int(self._context_ids[row])
        self._show_selection()

    def select_token(self, compact_id: int) -> None:
        """Show any vocabulary token (its first context position is outlined, if it has one)."""
        self._flush()
        a = self._analysis
        if a is None or not 0 <= compact_id < a.table.shape[0]:
            raise ValueError(f"no token {compact_id} in the vocabulary")
        self._selected_id = int(compact_id)
        where = np.flatnonzero(self._context_ids == compact_id)
        self._selected_row = int(where[0]) if where.size else None
        self._show_selection()

    def lookup_image(self) -> np.ndarray:
        """Exactly the [T × d_model] lookup drawn in the heatmap."""
        self._flush()
        return self.heatmap.current_image()

    def selected_token(self) -> int | None:
        self._flush()
        return self._selected_id

    def selected_vector(self) -> np.ndarray:
        """The vector drawn as bars (a row of the token table)."""
        self._flush()
        return self._vector.copy()

    def neighbours(self) -> list[tuple[int, float]]:
        """(compact id, cosine) of the tokens listed as nearest."""
        self._flush()
        return list(self._neighbours)

    def pca_coords(self) -> np.ndarray:
        """The vocabulary map's coordinates (V, 2)."""
        self._flush()
        return np.zeros((0, 2)) if self._analysis is None else self._analysis.coords.copy()

    def map_labels(self) -> list[tuple[int, str, QRectF]]:
        """(compact id, text, box in the map's scene pixels) of every label on the map."""
        self._flush()
        view = self.map_plot.getViewBox()
        return [(label.token, label.text, label.box.translated(view.mapViewToScene(label.anchor)))
                for label in self.label_layer.labels()]

    # -- slots -----------------------------------------------------------------------------
    def _on_model_changed(self) -> None:
        self._analysis = None
        self._selected_id = self._selected_row = None
        self._sizes.clear()  # a new tokenizer may spell the same ids differently
        self._place_labels()
        self._redraw()

    def _on_training_changed(self, active: bool) -> None:
        # The last weights of a run may have arrived while the map was being throttled.
        if not active and self._analysis is not None and not self._analysis.map_current():
            self._redraw()

    def _ensure_analysis(self) -> _TableAnalysis:
        model = self.session.model
        a = self._analysis
        if a is None or not a.matches(model):
            table = model.embed.wte.weight.detach().cpu().numpy().astype(np.float32)
            # Re-projecting the map costs far more than the rest of a redraw; while training
            # sends new weights every few seconds, the map follows more slowly. The table
            # itself (lookups, neighbours, bars) always has the newest weights.
            if (a is not None and a.model is model and self.session.training
                    and time.monotonic() - a.map_time < MAP_INTERVAL_S):
                a.update_table(table)
            else:
                self._analysis = _TableAnalysis(model, table)
                self._draw_vocabulary()
        return self._analysis

    def _rebuild(self) -> None:
        s = self.session
        if not show_if_traced(s, self.empty):
            return
        a = self._ensure_analysis()
        step = s.trace["embed.token"]
        rows = step.values[0]  # (T, C), batch row 0
        T, C = rows.shape
        ids = s.trace.ids[0]
        labels = context_pieces(s)
        self._context_ids = ids.astype(np.int64)
        self.heatmap.set_matrix(rows, labels, [str(j) for j in range(C)], SIGNED_CMAP,
                                symmetric_levels(rows))
        self.lookup_caption.setText(self.tr(
            "E[ids]: the {0} rows looked up for the context [{0} × {1}]; click a row for its "
            "vector").format(T, C))
        self.lookup_note.setText(self.tr("table E: {0} tokens × {1} dimensions").format(
            a.table.shape[0], a.table.shape[1]))

        self.token_combo.blockSignals(True)
        self.token_combo.clear()
        for t, (label, i) in enumerate(zip(context_pieces(s, with_position=False), ids.tolist())):
            self.token_combo.addItem(self.tr("{0}: {1}  (id {2})").format(t, label, i), t)
        self.token_combo.blockSignals(False)

        self._draw_context_points()
        if self._selected_row is not None and self._selected_row < T:
            self._selected_id = int(ids[self._selected_row])
        elif self._selected_id is None or self._selected_id >= a.table.shape[0]:
            self._selected_row, self._selected_id = 0, int(ids[0])
        self._show_selection()

    def _on_combo(self, index: int) -> None:
        if index >= 0:
            self.select_row(index)

    def _on_point_clicked(self, _item, points, _ev=None) -> None:
        if len(points):
            self.select_token(int(points[0].data()))

    def _on_nearest_clicked(self, row: int, _col: int) -> None:
        if row < len(self._neighbours):
            self.select_token(self._neighbours[row][0])

    def _on_bar_hover(self, pos: QPointF) -> None:
        vb = self.bar_plot.getViewBox()
        if not vb.sceneBoundingRect().contains(pos) or self._vector.size == 0:
            return
        j = int(round(vb.mapSceneToView(pos).x()))
        if 0 <= j < self._vector.size:
            self.readout.setText(self.tr("“{0}”, dim {1}: {2}").format(
                self._piece(self._selected_id), j, format_value(self._vector[j])))

    def _show_readout(self, text: str) -> None:
        self.readout.setText(text or self.tr("Hover a cell or a bar for its exact value."))

    def _on_map_resized(self, view: pg.ViewBox) -> None:
        # A new size re-fits the auto range at the next paint; fit it now instead, so the
        # labels are placed once, for the range that will be drawn (not once more, mid-paint).
        view.prepareForPaint()
        self._place_labels()

    def _point_tip(self, x: float, y: float, data) -> str:
        """A map point's tooltip: its token and the coordinates the PCA gave it."""
        i = int(data)
        text = self.tr("“{0}”  compact id {1}\nPC1 {2}, PC2 {3}").format(
            self._piece(i), i, format_value(x), format_value(y))
        where = np.flatnonzero(self._context_ids == i)
        if where.size:
            text += "\n" + self.tr("context position {0}").format(
                ", ".join(str(t) for t in where.tolist()))
        return text

    # -- drawing ---------------------------------------------------------------------------
    def _piece(self, compact_id: int) -> str:
        return piece(self.session.tokenizer, compact_id)

    def _draw_vocabulary(self) -> None:
        """Everything on the map that depends only on the table: runs once per set of weights."""
        a = self._analysis
        xy = a.coords
        self._projection += 1
        self.vocab_points.setData(x=xy[:, 0], y=xy[:, 1], data=np.arange(len(xy)))
        self.map_plot.setLabel("bottom", self.tr("PC1 ({0:.1f}% of variance)").format(
            100 * a.explained[0]))
        self.map_plot.setLabel("left", self.tr("PC2 ({0:.1f}% of variance)").format(
            100 * a.explained[1]))
        self.map_note.setText(self.tr(
            "All {0} tokens on the two main axes of E (PCA); orange: the context. Wheel: zoom, "
            "drag: pan. Hover a point to name it, click it to show it.").format(len(xy)))
        self.map_note.setToolTip(self.map_note.text() + "\n" + self.tr(
            "While training, the map is re-projected at most every {0:.0f} s; the lookups, the "
            "bars and the nearest tokens always use the newest weights.").format(MAP_INTERVAL_S))

    def _draw_context_points(self) -> None:
        unique = self._context_tokens()
        xy = self._analysis.coords[unique] if unique else np.zeros((0, 2))
        self.context_points.setData(x=xy[:, 0], y=xy[:, 1], data=np.asarray(unique))

    def _context_tokens(self) -> list[int]:
        """The context's distinct compact ids, in order of first occurrence."""
        return list(dict.fromkeys(self._context_ids.tolist()))

    def _show_selection(self) -> None:
        a, i = self._analysis, self._selected_id
        if a is None or i is None:
            return
        vec = a.table[i]  # (C,) the row the lookup copies
        if self._selected_row is not None:
            # What the trace recorded for this position: identical to the table row.
            vec = self.session.trace["embed.token"].values[0, self._selected_row]
        self._vector = np.asarray(vec, dtype=np.float32)
        C = self._vector.size
        brushes = [pg.mkBrush(200, 60, 60) if v >= 0 else pg.mkBrush(60, 90, 200)
                   for v in self._vector.tolist()]
        self.bars.setOpts(x=np.arange(C), height=self._vector, width=0.8, brushes=brushes,
                          pen=None)
        self.bar_plot.setXRange(-0.6, C - 0.4, padding=0)
        top = float(np.abs(self._vector).max()) if C else 1.0
        self.bar_plot.setYRange(-top * 1.05, top * 1.05, padding=0)
        # Apply the new range now: left to the paint, it makes the plot paint a second time.
        self.bar_plot.getViewBox().prepareForPaint()
        where = (self.tr("context position {0}").format(self._selected_row)
                 if self._selected_row is not None else self.tr("not in the context"))
        self.vector_title.setText(self.tr(
            "E[{0}] = vector of “{1}” ({2}), {3} values").format(i, self._piece(i), where, C))
        self.heatmap.select_row(self._selected_row)
        if self._selected_row is not None and self.token_combo.currentIndex() != self._selected_row:
            self.token_combo.blockSignals(True)
            self.token_combo.setCurrentIndex(self._selected_row)
            self.token_combo.blockSignals(False)
        xy = a.coords[i]
        self.selected_point.setData(x=[xy[0]], y=[xy[1]])
        # New points may move the auto range: apply it now, not in the paint (a second paint),
        # so the labels are placed once, for the range that will be drawn.
        self.map_plot.getViewBox().prepareForPaint()
        self._place_labels()

        self._neighbours = nearest_tokens(a.table, i, k=N_NEAREST)
        tok = self.session.tokenizer
        ids = np.array([j for j, _ in self._neighbours], dtype=np.int64)
        original = tok.to_original(ids).tolist() if ids.size else []
        fill_table(self.nearest, [
            (self._piece(j), str(j), str(o) if o >= 0 else "–", f"{cos:.6f}")
            for (j, cos), o in zip(self._neighbours, original)
        ])

    # -- map labels ------------------------------------------------------------------------
    def _place_labels(self, *_args) -> None:
        """Choose the map's labels for the current view and size.

        The selected token and the context's tokens come first, moved aside with a leader line
        when their spot is taken; then one token per SAMPLE_CELL_PX cell, while labels fit
        without overlapping each other or the context's markers.
        """
        a, view = self._analysis, self.map_plot.getViewBox()
        rect, width, height = view.viewRect(), view.width(), view.height()
        key = (a is not None and self._projection, rect.getRect(), width, height,
               self._selected_id, self._context_ids.tobytes())
        if key == self._labels_key:
            return
        self._labels_key = key
        if a is None or width < 1 or height < 1 or rect.width() <= 0 or rect.height() <= 0:
            self.label_layer.set_labels([], QRectF())
            return
        px = np.column_stack(((a.coords[:, 0] - rect.left()) * (width / rect.width()),
                              (rect.bottom() - a.coords[:, 1]) * (height / rect.height())))
        inside = ((px[:, 0] >= 0) & (px[:, 0] <= width) & (px[:, 1] >= 0)
                  & (px[:, 1] <= height))
        first = [(i, "context") for i in self._context_tokens() if i != self._selected_id]
        if self._selected_id is not None:
            first.insert(0, (self._selected_id, "selected"))
        first = [(i, kind) for i, kind in first if inside[i]]
        taken = _Occupancy(width, height)
        for i, kind in first:
            half = (SELECTED_MARKER_PX if kind == "selected" else CONTEXT_MARKER_PX) / 2
            taken.take((px[i, 0] - half, px[i, 1] - half, px[i, 0] + half, px[i, 1] + half))
        labels = [label for i, kind in first
                  if (label := self._place_near(i, kind, a.coords[i], px[i], taken)) is not None]
        labels += self._place_samples(a.coords, px, inside, {i for i, _ in first}, taken,
                                      rect.width() / width, rect.height() / height)
        self.label_layer.set_labels(labels, rect)

    def _place_near(self, i: int, kind: str, xy: np.ndarray, at: np.ndarray,
                    taken: _Occupancy) -> _Label | None:
        """A label for a token that must have one: beside its marker, else further out."""
        text, (w, h) = self._label_text(i, kind)
        radius = (SELECTED_MARKER_PX if kind == "selected" else CONTEXT_MARKER_PX) / 2
        ax, ay = float(at[0]), float(at[1])
        for ring in range(MAX_RING + 1):
            for direction in _AROUND:
                box = _beside(ax, ay, w, h, radius + 1 + ring * h, direction)
                if taken.is_free(box):
                    taken.take(box)
                    return _label(i, text, kind, xy, box, ax, ay, leader=ring > 0)
        return None  # no free spot near it in a tiny map: no label rather than one on another

    def _place_samples(self, coords: np.ndarray, px: np.ndarray, inside: np.ndarray,
                       skip: set[int], taken: _Occupancy, x_per_px: float,
                       y_per_px: float) -> list[_Label]:
        """Grey labels for other tokens in view, at most one per cell, while they fit.

        The cells are fixed in data coordinates, so panning keeps the same labels; in each cell
        the lowest compact id wins, again for stability (in a BPE vocabulary: the earlier,
        usually commoner merges).
        """
        ids = np.flatnonzero(inside)
        if skip:
            ids = ids[~np.isin(ids, np.fromiter(skip, dtype=np.int64))]
        if ids.size == 0:
            return []
        cx = np.floor(coords[ids, 0] / (SAMPLE_CELL_PX[0] * x_per_px)).astype(np.int64)
        cy = np.floor(coords[ids, 1] / (SAMPLE_CELL_PX[1] * y_per_px)).astype(np.int64)
        cells = (cx - cx.min()) * (int(cy.max() - cy.min()) + 1) + (cy - cy.min())
        _, firsts = np.unique(cells, return_index=True)  # ids ascend: the lowest id per cell
        out: list[_Label] = []
        for i in ids[np.sort(firsts)].tolist():
            text, (w, h) = self._label_text(i, "sample")
            ax, ay = float(px[i, 0]), float(px[i, 1])
            for direction in ((0, -1), (0, 1)):  # above its point, else below
                box = _beside(ax, ay, w, h, 3.0, direction)
                if taken.is_free(box):
                    taken.take(box)
                    out.append(_label(i, text, "sample", coords[i], box, ax, ay, leader=False))
                    break
            if len(out) >= MAX_SAMPLE_LABELS:
                break
        return out

    def _label_text(self, i: int, kind: str) -> tuple[str, tuple[float, float]]:
        """A token's label text (elided) and its box size in pixels, remembered."""
        text = elide(self._piece(i), MAX_LABEL_CHARS)
        size = self._sizes.get((text, kind))
        if size is None:
            metrics = self.label_layer.metrics[kind]
            size = self._sizes[(text, kind)] = (metrics.horizontalAdvance(text) + 4,
                                                metrics.height() + 1)
        return text, size


def _label(i: int, text: str, kind: str, xy: np.ndarray, box: tuple[float, float, float, float],
           ax: float, ay: float, leader: bool) -> _Label:
    """A label whose box (view-box pixels) is kept relative to its anchor point."""
    x0, y0, x1, y1 = box
    return _Label(i, text, kind, QPointF(float(xy[0]), float(xy[1])),
                  QRectF(x0 - ax, y0 - ay, x1 - x0, y1 - y0), leader)


def _column(*widgets: QWidget) -> QWidget:
    """Widgets stacked without margins; the ones that are not labels share the spare height."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        layout.addWidget(w, 0 if isinstance(w, QLabel) else 1)
    return box
