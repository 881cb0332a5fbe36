"""The Positional encoding dock: a title above three tabs (waves, table, sum) for a model that
adds a position table, or three rotary tabs (frequencies, q and k turning, relative position)
for a model that turns q and k instead. The waves need only the model; the other tabs need a
trace of it, and are off without one."""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from engine.model.rotary_readings import pair_arrows, pair_moved, relative_scores, \
    rotary_tables, table_of
from gui.panels.positional.arrows_view import ArrowsView
from gui.panels.positional.relative_view import RelativeView
from gui.panels.positional.rotary import MAX_ARROWS, is_rotary
from gui.panels.positional.rotary_waves_view import RotaryWavesView
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
        self.rotary_waves = RotaryWavesView()
        self.arrows = ArrowsView()
        self.relative = RelativeView()
        self.arrows.moved.toggled.connect(self._redraw)
        for box in (self.arrows.layer, self.arrows.head, self.arrows.pair, self.arrows.token,
                    self.relative.layer, self.relative.head, self.relative.query_pos,
                    self.relative.key_pos):
            box.valueChanged.connect(self._redraw)
        for box in (self.arrows.layer, self.relative.layer):  # the waves follow the block
            box.valueChanged.connect(self._follow_block)
        self.rotary_tabs = QTabWidget()
        for page in (self.rotary_waves, self.arrows, self.relative):
            self.rotary_tabs.addTab(page, "")
        self.kinds = QStackedWidget()  # page 0: a position table; page 1: rotary
        self.kinds.addWidget(self.tabs)
        self.kinds.addWidget(self.rotary_tabs)
        self.title = NoteLabel(lines=2)
        self.title.setStyleSheet("font-size: 11pt;")

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.kinds, 1)
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
        for i, title in enumerate((self.tr("Frequencies"), self.tr("q and k turning"),
                                   self.tr("Relative position"))):
            self.rotary_tabs.setTabText(i, title)
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
        model = self.session.model
        rotary = is_rotary(model)
        self.waves.set_model(None if rotary else model)
        # The table of the block the arrows show (its box may still hold the last model's).
        layer = min(self.arrows.layer.value(), model.config.n_layer - 1) if rotary else 0
        self.rotary_waves.set_model(model if rotary else None,
                                    rotary and model.config.local_rope(layer))
        self.kinds.setCurrentIndex(1 if rotary else 0)
        if rotary:
            cfg = model.config
            self.arrows.set_ranges(cfg.n_layer, cfg.n_head, cfg.rotary_size // 2)
            self.relative.layer.setRange(0, cfg.n_layer - 1)
        self._redraw()

    def _follow_block(self, layer: int) -> None:
        """Show the waves of the table the block just chosen turns with."""
        model = self.session.model
        if is_rotary(model) and 0 <= layer < model.config.n_layer:
            self.rotary_waves.show_table(model.config.local_rope(layer))

    def _rebuild(self) -> None:
        s = self.session
        if s.model is None:
            self.empty.show_empty()
            return
        self.empty.show_content()
        if is_rotary(s.model):
            self._rebuild_rotary()
            return
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

    def _rebuild_rotary(self) -> None:
        """The rotary tabs: the waves from the model, the arrows and scores from the trace."""
        s = self.session
        cfg = s.model.config
        self.title.setText(self.tr(
            "Rotary positions: this model has no position table, and nothing is added to its "
            "token embeddings. Each head's q and k are turned instead, pair by pair, by an angle "
            "that grows with the position ({0} pairs per head).").format(cfg.rotary_size // 2))
        traced = s.trace is not None and trace_fits_model(s)
        self.rotary_tabs.setTabEnabled(1, traced)
        self.rotary_tabs.setTabEnabled(2, traced)
        if not traced:
            return
        T = s.trace.ids.shape[1]
        self.relative.set_ranges(cfg.n_layer, cfg.n_head, T)
        if self.relative.query_pos.value() == 0 and self.relative.key_pos.value() == 0:
            self.relative.query_pos.setValue(T - 1)  # the last token reading an early one
        two = len(rotary_tables(cfg)) > 1  # Gemma 3: each view names its block's table
        a = self.arrows
        a.set_ranges(cfg.n_layer, cfg.n_head, cfg.rotary_size // 2, T)
        where = (cfg, s.trace, a.layer.value(), a.head.value(), a.pair.value())
        a.show_arrows(pair_moved(*where, a.token.value(), MAX_ARROWS) if a.moved.isChecked()
                      else pair_arrows(*where), table_of(cfg, a.layer.value()) if two else None)
        r = self.relative
        r.show_table(relative_scores(cfg, s.trace, r.layer.value(), r.head.value(),
                                     r.query_pos.value(), r.key_pos.value()),
                     table_of(cfg, r.layer.value()) if two else None)

    # -- rotary, for tests and scripts -------------------------------------------------------
    def rotary_shown(self) -> bool:
        """Whether the rotary tabs are shown (a model with no position table)."""
        return self.kinds.currentIndex() == 1
