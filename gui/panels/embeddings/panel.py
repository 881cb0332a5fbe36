"""The Embeddings dock: a token choice above the lookup page and the vocabulary map (two tabs
in a narrow dock, side by side from WIDE_PX on). It owns the selection (which token's vector,
neighbours and ring are shown) and the table's analysis, and hands each page what it draws.

A large table's analysis (GPT-2's 50,257 x 768: a PCA fit and the neighbour index) is made off
the GUI thread (gui.latest); the lookup is drawn meanwhile, the map and neighbours on arrival."""
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

from engine.text.vocabulary_kind import is_full
from gui.latest import Latest, worth_a_thread
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
        self._jobs: Latest | None = None  # made for the first large table, ended by shutdown()
        self._analysing = None  # the model whose table is being analysed in the background
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

    def analysing(self) -> bool:
        """A large table's analysis is still being made in the background."""
        return self._analysing is not None

    def shutdown(self) -> None:
        """End the background analysis thread, if one was started."""
        if self._jobs is not None:
            self._jobs.shutdown()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.shutdown()
        super().closeEvent(event)

    # -- slots -----------------------------------------------------------------------------
    def _on_model_changed(self) -> None:
        self._analysing = None
        if self._jobs is not None:
            self._jobs.reset()
        self._analysis = None
        self._selected_id = self._selected_row = None
        self.map_page.forget()
        self.map_page.set_full_vocabulary(is_full(self.session.tokenizer))
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
        a = self._current_analysis()
        rows = s.trace["embed.token"].values[0]  # (T, C), batch row 0
        T = rows.shape[0]
        ids = s.trace.ids[0]
        self._context_ids = ids.astype(np.int64)
        self.lookup_page.show_lookup(rows, context_pieces(s))
        V, C = s.model.token_table().shape
        self.lookup_note.setText(self.tr("table E: {0} tokens × {1} dimensions").format(V, C)
                                 if a is not None else self.tr(
            "table E: {0} tokens × {1} dimensions (projecting its map…)").format(V, C))

        self.token_combo.blockSignals(True)
        self.token_combo.clear()
        for t, (label, i) in enumerate(zip(context_pieces(s, with_position=False), ids.tolist())):
            self.token_combo.addItem(self.tr("{0}: {1}  (id {2})").format(t, label, i), t)
        self.token_combo.blockSignals(False)

        if a is not None:
            self.map_page.show_context(self._context_ids)
        if self._selected_row is not None and self._selected_row < T:
            self._selected_id = int(ids[self._selected_row])
        elif self._selected_id is None or self._selected_id >= V:
            self._selected_row, self._selected_id = 0, int(ids[0])
        self._show_selection()  # the map and the neighbours follow the analysis

    def _current_analysis(self) -> TableAnalysis | None:
        """The analysis of the model's table, made here for a small table; for a large one
        asked for in the background (None until it arrives)."""
        s = self.session
        a = self._analysis
        if a is not None and a.matches(s.model):
            return a
        if not worth_a_thread(s.model):
            a, projected = refreshed(a, s.model, s.training)
            self._show_analysis(a, projected)
            return a
        if self._analysing is not s.model:
            if self._jobs is None:
                self._jobs = Latest("embeddings-analysis", supersede=True, parent=self)
                self._jobs.done.connect(self._on_analysed)
            self._analysing = s.model
            self._jobs.submit(refreshed, a, s.model, s.training)
        return None

    def _show_analysis(self, a: TableAnalysis, projected: bool) -> None:
        self._analysis = a
        if projected:
            self.map_page.show_vocabulary(a.coords, a.explained, a.shown)

    def _on_analysed(self, _key: str, answer: tuple[TableAnalysis, bool]) -> None:
        a, projected = answer
        if a.model is not self.session.model:
            return  # of a model replaced meanwhile
        self._analysing = None
        self._show_analysis(a, projected)
        self._redraw()

    def _show_selection(self) -> None:
        a, i = self._analysis, self._selected_id
        if i is None or (a is None and self._selected_row is None):
            return
        if self._selected_row is None:
            vec = a.table[i]  # (C,) the row the lookup copies
        else:
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
        if a is None:  # being analysed in the background: the vector only, for now
            return
        self.map_page.show_selected(i)

        self._neighbours = a.nearest(i, N_NEAREST)
        ids = np.array([j for j, _ in self._neighbours], dtype=np.int64)
        original = self.session.tokenizer.to_original(ids).tolist() if ids.size else []
        self.map_page.show_nearest(self._neighbours, original)
