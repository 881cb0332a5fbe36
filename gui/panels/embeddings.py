"""Step 3 of the pipeline, token embedding: each token id picks one row of the table E
(vocab × d_model). Shows the rows looked up for the current context, one token's vector as bars,
its nearest tokens by cosine similarity, and a 2-D PCA map of the whole vocabulary.

The lookup values come from the trace ("embed.token"); the vocabulary-wide views read the
model's token table, analysed by engine.analysis once per set of weights.
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from engine.analysis import nearest_tokens, pca_2d, spread_subset
from gui.widgets.export import install_export_menu
from gui.panels.tokens import context_pieces, piece, show_if_traced
from gui.session import Session
from gui.widgets import (
    SIGNED_CMAP,
    EmptyState,
    Heatmap,
    LazyPanel,
    NoteLabel,
    fill_table,
    fix_axes,
    format_value,
    static_plot,
    symmetric_levels,
)

N_NEAREST = 10
N_SPREAD_LABELS = 60  # vocabulary labels spread over the map (all of them if the vocab is small)
SMALL_VOCAB = 120
CONTEXT_COLOUR = (230, 120, 0)
SELECTED_COLOUR = (220, 20, 60)


MAP_INTERVAL_S = 3.0  # while training, the vocabulary map is re-projected at most this often


class _TableAnalysis:
    """The token table and its PCA, kept while the weights they came from are unchanged."""

    def __init__(self, model, table: np.ndarray):
        self.model = model
        # In-place weight updates (optimizer steps, load_state_dict) bump the tensor's version.
        self.version = model.embed.wte.weight._version
        self.table = table  # (V, C)
        self.coords, self.explained = pca_2d(table)  # (V, 2), (2,)
        k = table.shape[0] if table.shape[0] <= SMALL_VOCAB else N_SPREAD_LABELS
        self.spread = spread_subset(self.coords, k)
        self.map_version = self.version  # the weights the map (coords, spread) was made from
        self.map_time = time.monotonic()

    def matches(self, model) -> bool:
        return model is self.model and model.embed.wte.weight._version == self.version

    def map_current(self) -> bool:
        return self.map_version == self.version

    def update_table(self, table: np.ndarray) -> None:
        """New weights for the table only: the map keeps the projection it was made from."""
        self.version = self.model.embed.wte.weight._version
        self.table = table


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
        self._spread_labels: list[pg.TextItem] = []
        self._context_labels: list[pg.TextItem] = []
        self._label_font = QFont()
        self._label_font.setPointSizeF(8.5)

        # Lookup heatmap: rows = context positions, columns = d_model dimensions.
        self.heatmap = Heatmap(row_title=self.tr("position · token"),
                               col_title=self.tr("dimension"), max_label_chars=9,
                               hover_names=("", self.tr("dim")))
        self.heatmap.clicked.connect(lambda r, _c: self.select_row(r))

        # One token's vector as bars.
        self.bar_plot = static_plot(bottom_label=self.tr("dimension"), tick_pt=None,
                                    grid_alpha=0.3)
        fix_axes(self.bar_plot, left_width=56)
        self.bars = pg.BarGraphItem(x=[0], height=[0], width=0.8)
        self.bar_plot.addItem(self.bars)
        self.bar_readout = NoteLabel(self.tr("Hover a bar for its exact value."))
        self.bar_plot.scene().sigMouseMoved.connect(self._on_bar_hover)

        # Vocabulary map.
        self.map_plot = pg.PlotWidget(background="w")
        install_export_menu(self.map_plot, "vocabulary map")
        self.map_plot.setMenuEnabled(False)
        self.map_plot.showGrid(x=True, y=True, alpha=0.2)
        fix_axes(self.map_plot, left_width=56)
        self.vocab_points = pg.ScatterPlotItem(size=5, pen=None,
                                               brush=pg.mkBrush(120, 120, 120, 110))
        self.vocab_points.sigClicked.connect(self._on_point_clicked)
        self.context_points = pg.ScatterPlotItem(size=10, pen=pg.mkPen(90, 45, 0),
                                                 brush=pg.mkBrush(*CONTEXT_COLOUR, 220))
        self.context_points.sigClicked.connect(self._on_point_clicked)
        self.selected_point = pg.ScatterPlotItem(size=18, pen=pg.mkPen(*SELECTED_COLOUR, width=2.5),
                                                 brush=None)
        for item in (self.vocab_points, self.context_points, self.selected_point):
            self.map_plot.addItem(item)
        self.map_plot.setToolTip(self.tr(
            "While training, the map is re-projected at most every {0:.0f} s; the lookups, the "
            "bars and the nearest tokens always use the newest weights.").format(MAP_INTERVAL_S))
        self.map_note = NoteLabel(lines=3)
        self.map_note.setStyleSheet("color: #444;")

        # Nearest tokens.
        self.token_combo = QComboBox()
        self.token_combo.currentIndexChanged.connect(self._on_combo)
        self.vector_title = NoteLabel()
        self.vector_title.setStyleSheet("font-weight: bold;")
        self.nearest = QTableWidget(0, 4)
        self.nearest.setHorizontalHeaderLabels(
            [self.tr("piece"), self.tr("compact id"), self.tr("original id"), self.tr("cosine")])
        self.nearest.verticalHeader().setVisible(False)
        self.nearest.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.nearest.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.nearest.verticalHeader().setDefaultSectionSize(22)
        self.nearest.horizontalHeader().setStretchLastSection(True)
        self.nearest.cellDoubleClicked.connect(self._on_nearest_clicked)

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.heatmap)
        bar_box = QWidget()
        bar_layout = QVBoxLayout(bar_box)
        bar_layout.setContentsMargins(0, 0, 0, 0)
        bar_layout.addWidget(self.vector_title)
        bar_layout.addWidget(self.bar_plot, 1)
        bar_layout.addWidget(self.bar_readout)
        left.addWidget(bar_box)
        left.setSizes([330, 220])

        right = QSplitter(Qt.Orientation.Vertical)
        map_box = QWidget()
        map_layout = QVBoxLayout(map_box)
        map_layout.setContentsMargins(0, 0, 0, 0)
        map_layout.addWidget(self.map_plot, 1)
        map_layout.addWidget(self.map_note)
        right.addWidget(map_box)
        near_box = QWidget()
        near_layout = QVBoxLayout(near_box)
        near_layout.setContentsMargins(0, 0, 0, 0)
        near_layout.addWidget(QLabel(self.tr("Nearest tokens by cosine similarity "
                                             "(double-click one to show it):")))
        near_layout.addWidget(self.nearest, 1)
        right.addWidget(near_box)
        right.setSizes([340, 210])

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([520, 380])

        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Token:")))
        top.addWidget(self.token_combo, 1)
        self.lookup_note = NoteLabel()
        self.lookup_note.setStyleSheet("color: #444;")
        top.addWidget(self.lookup_note, 2)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        self.empty = EmptyState(
            content, self.tr("No model yet: create or load a model, then type a context to see "
                             "its token embeddings."))
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(self.empty)

        session.model_changed.connect(self._on_model_changed)
        session.trace_changed.connect(self._redraw)
        session.training_changed.connect(self._on_training_changed)
        self._on_model_changed()

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

    # -- slots -----------------------------------------------------------------------------
    def _on_model_changed(self) -> None:
        self._analysis = None
        self._selected_id = self._selected_row = None
        for item in self._spread_labels:
            item.setVisible(False)  # kept for the next map: creating labels is the costly part
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
            # Re-projecting and re-labelling the map costs far more than the rest of a redraw;
            # while training sends new weights every few seconds, the map follows more slowly.
            # The table itself (lookups, neighbours, bars) always has the newest weights.
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
                                symmetric_levels(rows),
                                title=self.tr("E[ids]: the {0} rows looked up for the context "
                                              "[{0} × {1}]").format(T, C))
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
            self.bar_readout.setText(self.tr("dim {0}: {1}").format(
                j, format_value(self._vector[j])))

    # -- drawing ---------------------------------------------------------------------------
    def _piece(self, compact_id: int) -> str:
        return piece(self.session.tokenizer, compact_id)

    def _draw_vocabulary(self) -> None:
        """Everything on the map that depends only on the table: runs once per set of weights."""
        a = self._analysis
        xy = a.coords
        self.vocab_points.setData(x=xy[:, 0], y=xy[:, 1], data=np.arange(len(xy)))
        self.map_plot.setLabel("bottom", self.tr("PC1 ({0:.1f}% of variance)").format(
            100 * a.explained[0]))
        self.map_plot.setLabel("left", self.tr("PC2 ({0:.1f}% of variance)").format(
            100 * a.explained[1]))
        spread = a.spread.tolist()
        # Labels are created once and re-used: making and adding ~60 TextItems cost ~70 ms of
        # every weight update (measured); moving them and changing only new texts is cheap.
        while len(self._spread_labels) < len(spread):
            item = pg.TextItem("", color=(70, 70, 70), anchor=(0.5, 1.0))
            item.setFont(self._label_font)
            self.map_plot.addItem(item)
            self._spread_labels.append(item)
        for k, item in enumerate(self._spread_labels):
            if k < len(spread):
                i = spread[k]
                text = self._piece(i)
                if item.toPlainText() != text:
                    item.setText(text)
                item.setPos(float(xy[i, 0]), float(xy[i, 1]))
            item.setVisible(k < len(spread))
        self.map_note.setText(self.tr(
            "Every token of the vocabulary ({0}) projected on the two main axes of the table "
            "(PCA). Orange: tokens of the context. Grey labels: a spread-out sample. Click a "
            "point to show that token.").format(len(xy)))

    def _draw_context_points(self) -> None:
        a = self._analysis
        unique = list(dict.fromkeys(self._context_ids.tolist()))  # first occurrence order
        xy = a.coords[unique] if unique else np.zeros((0, 2))
        self.context_points.setData(x=xy[:, 0], y=xy[:, 1], data=np.asarray(unique))
        while len(self._context_labels) < len(unique):
            item = pg.TextItem("", color=(150, 60, 0), anchor=(0.5, -0.15))
            bold = QFont(self._label_font)
            bold.setBold(True)
            item.setFont(bold)
            self.map_plot.addItem(item)
            self._context_labels.append(item)
        for k, item in enumerate(self._context_labels):
            if k < len(unique):
                text = self._piece(unique[k])
                if item.toPlainText() != text:  # re-laying out text is the costly part
                    item.setText(text)
                item.setPos(float(xy[k, 0]), float(xy[k, 1]))
                item.setVisible(True)
            else:
                item.setVisible(False)
        # A context token that is also a sample label would be written twice.
        in_context = set(unique)
        spread = a.spread.tolist()
        for k, item in enumerate(self._spread_labels):
            item.setVisible(k < len(spread) and spread[k] not in in_context)

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
        piece = self._piece(i)
        where = (self.tr("context position {0}").format(self._selected_row)
                 if self._selected_row is not None else self.tr("not in the context"))
        self.vector_title.setText(self.tr("E[{0}] = vector of “{1}” ({2}), {3} values").format(
            i, piece, where, C))
        self.heatmap.select_row(self._selected_row)
        if self._selected_row is not None and self.token_combo.currentIndex() != self._selected_row:
            self.token_combo.blockSignals(True)
            self.token_combo.setCurrentIndex(self._selected_row)
            self.token_combo.blockSignals(False)
        xy = a.coords[i]
        self.selected_point.setData(x=[xy[0]], y=[xy[1]])

        self._neighbours = nearest_tokens(a.table, i, k=N_NEAREST)
        tok = self.session.tokenizer
        ids = np.array([j for j, _ in self._neighbours], dtype=np.int64)
        original = tok.to_original(ids).tolist() if ids.size else []
        fill_table(self.nearest, [
            (self._piece(j), str(j), str(o) if o >= 0 else "–", f"{cos:.6f}")
            for (j, cos), o in zip(self._neighbours, original)
        ])
