"""The Embeddings dock: a token choice above the lookup page and the vocabulary map (two tabs
in a narrow dock, side by side from WIDE_PX on). It owns the selection (which token's vector,
neighbours and ring are shown) and the table's analysis, and hands each page what it draws."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.panels.embeddings.analysis import TableAnalysis, refreshed
from gui.panels.embeddings.lookup_page import LookupPage
from gui.panels.embeddings.map_page import MapPage
from gui.pieces import context_pieces, piece, show_if_traced
from gui.session import Session
from gui.widgets import EmptyState, LazyPanel, NoteLabel
from gui.widgets.language import Translated

N_NEAREST = 10
WIDE_PX = 1000  # from this panel width on, the lookup and the map sit side by side


class EmbeddingsPanel(Translated, LazyPanel):
    """The rows of E looked up for the context, one token's vector and its neighbours."""

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._analysis: TableAnalysis | None = None
        self._selected_id: int | None = None  # compact id whose vector is shown
        self._selected_row: int | None = None  # its position in the context, if it is there
        self._context_ids = np.zeros(0, dtype=np.int64)
        self._neighbours: list[tuple[int, float]] = []
        self._wide: bool | None = None

        self.lookup_page = LookupPage()
        self.lookup_page.row_clicked.connect(self.select_row)
        self.map_page = MapPage(self._piece)
        self.map_page.token_chosen.connect(self.select_token)
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
        self.token_label = QLabel()
        top.addWidget(self.token_label)
        top.addWidget(self.token_combo, 1)
        top.addWidget(self.lookup_note, 2)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.views, 1)
        self.empty = EmptyState.fill(self, content, self._empty_text)

        session.model_changed.connect(self._on_model_changed)
        session.trace_changed.connect(self._redraw)
        session.training_changed.connect(self._on_training_changed)
        session.language_changed.connect(self._redraw)
        self._retranslate()
        self._on_model_changed()

    def _empty_text(self) -> str:
        return self.tr("No model yet: create or load a model, then type a context to see its "
                       "token embeddings.")

    def _retranslate(self) -> None:
        self.token_label.setText(self.tr("Token:"))
        for page, title in ((self.lookup_page, self.tr("Lookup E[ids]")),
                            (self.map_page, self.tr("Vocabulary map"))):
            if (i := self.tabs.indexOf(page)) >= 0:
                self.tabs.setTabText(i, title)
        self._redraw()  # the captions, titles and token list are drawn from the data

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
        return self.lookup_page.heatmap.current_image()

    def selected_token(self) -> int | None:
        """The compact id whose vector is shown."""
        self._flush()
        return self._selected_id

    def selected_vector(self) -> np.ndarray:
        """The vector drawn as bars (a row of the token table)."""
        self._flush()
        return self.lookup_page.vector()

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
        return self.map_page.labels_in_scene()

    # -- slots -----------------------------------------------------------------------------
    def _on_model_changed(self) -> None:
        self._analysis = None
        self._selected_id = self._selected_row = None
        self.map_page.forget()
        self._redraw()

    def _on_training_changed(self, active: bool) -> None:
        # The last weights of a run may have arrived while the map was being throttled.
        if not active and self._analysis is not None and not self._analysis.map_current():
            self._redraw()

    def _on_combo(self, index: int) -> None:
        if index >= 0:
            self.select_row(index)

    # -- drawing ---------------------------------------------------------------------------
    def _piece(self, compact_id: int) -> str:
        return piece(self.session.tokenizer, compact_id)

    def _rebuild(self) -> None:
        s = self.session
        if not show_if_traced(s, self.empty):
            return
        a, projected = refreshed(self._analysis, s.model, s.training)
        self._analysis = a
        if projected:
            self.map_page.show_vocabulary(a.coords, a.explained)
        rows = s.trace["embed.token"].values[0]  # (T, C), batch row 0
        T = rows.shape[0]
        ids = s.trace.ids[0]
        self._context_ids = ids.astype(np.int64)
        self.lookup_page.show_lookup(rows, context_pieces(s))
        self.lookup_note.setText(self.tr("table E: {0} tokens × {1} dimensions").format(
            a.table.shape[0], a.table.shape[1]))

        self.token_combo.blockSignals(True)
        self.token_combo.clear()
        for t, (label, i) in enumerate(zip(context_pieces(s, with_position=False), ids.tolist())):
            self.token_combo.addItem(self.tr("{0}: {1}  (id {2})").format(t, label, i), t)
        self.token_combo.blockSignals(False)

        self.map_page.show_context(self._context_ids)
        if self._selected_row is not None and self._selected_row < T:
            self._selected_id = int(ids[self._selected_row])
        elif self._selected_id is None or self._selected_id >= a.table.shape[0]:
            self._selected_row, self._selected_id = 0, int(ids[0])
        self._show_selection()

    def _show_selection(self) -> None:
        a, i = self._analysis, self._selected_id
        if a is None or i is None:
            return
        vec = a.table[i]  # (C,) the row the lookup copies
        if self._selected_row is not None:
            # What the trace recorded for this position: identical to the table row.
            vec = self.session.trace["embed.token"].values[0, self._selected_row]
        where = (self.tr("context position {0}").format(self._selected_row)
                 if self._selected_row is not None else self.tr("not in the context"))
        name = self._piece(i)
        title = self.tr("E[{0}] = vector of “{1}” ({2}), {3} values").format(
            i, name, where, len(vec))
        self.lookup_page.show_vector(vec, name, title, self._selected_row)
        if self._selected_row is not None and self.token_combo.currentIndex() != self._selected_row:
            self.token_combo.blockSignals(True)
            self.token_combo.setCurrentIndex(self._selected_row)
            self.token_combo.blockSignals(False)
        self.map_page.show_selected(i)

        self._neighbours = a.nearest(i, N_NEAREST)
        ids = np.array([j for j, _ in self._neighbours], dtype=np.int64)
        original = self.session.tokenizer.to_original(ids).tolist() if ids.size else []
        self.map_page.show_nearest(self._neighbours, original)
