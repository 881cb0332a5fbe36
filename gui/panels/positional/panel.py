"""The Positional encoding dock: a title above three tabs (waves, table, sum). The waves need
only the model; the table and the sum need a trace of it, and their tabs are off without one."""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from gui.panels.positional.sum_view import SumView
from gui.panels.positional.table_view import TableView
from gui.panels.positional.waves import is_learned
from gui.panels.positional.waves_view import WavesView
from gui.pieces import context_pieces, trace_fits_model
from gui.session import Session
from gui.widgets import EmptyState, LazyPanel, NoteLabel, symmetric_levels
from gui.widgets.language import Translated


class PositionalPanel(Translated, LazyPanel):
    """Positional encodings of the current model and context."""

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.waves = WavesView()
        self.table = TableView()
        self.sum = SumView()
        self.sum.shared_scale.toggled.connect(self._redraw)

        self.tabs = QTabWidget()
        for page in (self.waves, self.table, self.sum):
            self.tabs.addTab(page, "")
        self.title = NoteLabel(lines=1)
        self.title.setStyleSheet("font-size: 11pt;")

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.tabs, 1)
        self.empty = EmptyState.fill(self, content, self._empty_text)

        session.model_changed.connect(self._on_model_changed)
        session.trace_changed.connect(self._redraw)
        session.language_changed.connect(self._redraw)
        self._retranslate()
        self._on_model_changed()

    def _empty_text(self) -> str:
        return self.tr("No model yet: create or load a model to see its positional encodings.")

    def _retranslate(self) -> None:
        for i, title in enumerate((self.tr("Waves"), self.tr("Table"),
                                   self.tr("Token + position = input"))):
            self.tabs.setTabText(i, title)
        self._redraw()  # the title and the tables' titles are drawn from the data

    # -- public ----------------------------------------------------------------------------
    def table_image(self) -> np.ndarray:
        """Exactly the PE table drawn in the Table tab (context × d_model)."""
        self._flush()
        return self.table.heatmap.current_image()

    def sum_images(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The three matrices of token embedding + PE = input, as drawn."""
        self._flush()
        return self.sum.images()

    def set_dims(self, dims: list[int]) -> None:
        """Draw waves for exactly these dimensions."""
        self.waves.set_dims(dims)

    def shown_dims(self) -> list[int]:
        """The dimensions drawn as waves, ascending."""
        return self.waves.shown_dims()

    def wave(self, dim: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, values) of the curve drawn for `dim`."""
        return self.waves.wave(dim)

    def dim_label(self, j: int) -> str:
        """Legend text: 'dim 4 (sin, i=2)' for sinusoidal tables, 'dim 4 (learned)' otherwise."""
        return self.waves.dim_label(j)

    def show_table_row(self, row: int) -> None:
        """Print every value of one PE row under the table (the articles print row 1)."""
        self.table.show_row(row)

    # -- updates ---------------------------------------------------------------------------
    def _on_model_changed(self) -> None:
        self.waves.set_model(self.session.model)
        self._redraw()

    def _rebuild(self) -> None:
        s = self.session
        if s.model is None:
            self.empty.show_empty()
            return
        self.empty.show_content()
        learned = is_learned(s.model)
        C = s.model.config.d_model
        self.title.setText((self.tr(
            "Positional encoding (learned): one row per position, {0} dimensions, added to every "
            "sequence's token embeddings.") if learned else self.tr(
            "Positional encoding (sinusoidal): one row per position, {0} dimensions, added to "
            "every sequence's token embeddings.")).format(C))
        self.waves.mark_context(s.trace.ids.shape[1] if s.trace is not None else None)
        traced = s.trace is not None and trace_fits_model(s)
        self.tabs.setTabEnabled(1, traced)
        self.tabs.setTabEnabled(2, traced)
        if not traced:
            return
        pe = s.trace["embed.position"].values  # (T, C)
        tok = s.trace["embed.token"].values[0]  # (T, C), batch row 0
        x = s.trace["embed.sum"].values[0]  # (T, C)
        T = pe.shape[0]
        self.table.show_table(pe, symmetric_levels(pe), (self.tr(
            "PE table (learned) for the context: [{0} × {1}]") if learned else self.tr(
            "PE table (sinusoidal) for the context: [{0} × {1}]")).format(T, C))
        self.sum.show_sum(tok, pe, x, context_pieces(s))
