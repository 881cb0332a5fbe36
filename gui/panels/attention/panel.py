"""The Attention dock: the layer and stage choice, the stage's formula, and either every head
of every block (the overview, the default for models of 64 heads or more), the grid of one
block's heads, or one head (or the mask) enlarged. It follows the walkthrough's focus."""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QStackedWidget, QVBoxLayout, QWidget

from engine.model.numerics import blocked
from engine.model.steps import step_formula, step_title
from gui.panels.attention.form import AttentionForm
from gui.panels.attention.gqa_map import GqaMap
from gui.panels.attention.head_grid import HeadGrid, stage_scale
from gui.panels.attention.overview import LayerHeadOverview
from gui.panels.attention.single_view import SingleView
from gui.panels.attention.stages import (
    CONTEXT,
    STAGE_NOTES,
    opens_on_overview,
    checked_stage,
    focus_target,
    step_name,
)
from gui.pieces import context_pieces, show_if_traced
from gui.session import Session
from gui.widgets import EmptyState, Heatmap, LazyPanel, NoteLabel
from gui.widgets.language import Translated


class AttentionPanel(Translated, LazyPanel):
    """Per-head attention matrices of one layer and stage, with hover values and a big view."""

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._layer = 0
        self._stage = "pattern"
        self._enlarged: int | None = None  # head shown in the big view, None = grid
        self._overview = False  # every block at once (else the chosen block's heads)
        self._labels: list[str] = []
        self._mask = np.zeros((0, 0), dtype=np.float32)
        self._mask_window: int | None = None  # the sliding window _mask was drawn with

        self.form = AttentionForm(self._stage)
        self.form.layer_chosen.connect(self.set_layer)
        self.form.stage_chosen.connect(self.set_stage)
        self.form.overview_chosen.connect(self.set_overview)
        self.formula = NoteLabel(lines=2)
        self.formula.setTextFormat(Qt.TextFormat.PlainText)
        self.formula.setStyleSheet("font-size: 11pt;")
        self.grid_page = HeadGrid()  # page 0: every head of the layer, one colour scale
        self.grid_page.head_clicked.connect(self.enlarge)
        self.single_page = SingleView()  # page 1: one head, or the mask
        self.single_page.back.connect(self.show_grid)
        self.overview_page = LayerHeadOverview()  # page 2: every head of every block
        self.overview_page.head_clicked.connect(self.enlarge_head)
        self.gqa = GqaMap()  # which K/V head each query head reads, and the cache it costs
        self.pages = QStackedWidget()
        self.pages.addWidget(self.grid_page)
        self.pages.addWidget(self.single_page)
        self.pages.addWidget(self.overview_page)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form)
        layout.addWidget(self.formula)
        layout.addWidget(self.gqa)
        layout.addWidget(self.pages, 1)
        self.empty = EmptyState.fill(self, content, self._empty_text)

        session.model_changed.connect(self._on_model_changed)
        session.trace_changed.connect(self._redraw)
        session.focus_changed.connect(self._on_focus)
        session.language_changed.connect(self._redraw)  # the engine's step titles
        self._on_model_changed()

    def _empty_text(self) -> str:
        return self.tr("No model yet: create or load a model, then type a context to see its "
                       "attention.")

    def _retranslate(self) -> None:
        """Words drawn in the interface language (also on every language switch)."""
        self._redraw()  # the formula line and the heads' titles are drawn from the data

    # -- public ----------------------------------------------------------------------------
    def layer(self) -> int:
        """The block shown (0-based)."""
        return self._layer

    def stage(self) -> str:
        """'scores', 'scaled', 'masked', 'pattern' or 'mask'."""
        return self._stage

    def n_heads(self) -> int:
        """How many heads the grid has."""
        return len(self.grid_page.heads())

    def set_layer(self, layer: int) -> None:
        """Show block `layer` (0-based)."""
        n = self.form.n_layers()
        if not 0 <= layer < max(n, 1):
            raise ValueError(f"no layer {layer} (the model has {n})")
        self._layer = layer
        self.form.show_layer(layer)
        self._redraw()

    def set_stage(self, stage: str) -> None:
        """Show one stage: scores, scaled, masked, pattern (the softmax) or mask."""
        self._stage = checked_stage(stage)
        self.form.show_stage(self._stage)
        self._redraw()

    def head_image(self, head: int) -> np.ndarray:
        """Exactly the matrix drawn for `head` (the mask itself in the mask stage)."""
        self._flush()
        if self._stage == "mask":
            return self.single_page.heatmap.current_image()
        return self.grid_page.heads()[head].current_image()

    def head_heatmap(self, head: int) -> Heatmap:
        """The grid's heatmap of `head`."""
        return self.grid_page.heads()[head]

    def overview(self) -> bool:
        """Whether every block is shown at once (when no head is enlarged)."""
        return self._overview

    def set_overview(self, on: bool) -> None:
        """Every head of every block at once (True), or the chosen block's heads."""
        self._overview = bool(on)
        self.form.show_overview(self._overview)
        self._enlarged = None
        self._redraw()

    def enlarge_head(self, layer: int, head: int) -> None:
        """Show head `head` of block `layer` alone (a click in the overview)."""
        self.set_layer(layer)
        self.enlarge(head)

    def enlarge(self, head: int) -> None:
        """Show one head alone, large enough for its numbers."""
        if not 0 <= head < self.n_heads():
            raise ValueError(f"no head {head}")
        self._enlarged = head
        self._redraw()

    def show_grid(self) -> None:
        """Back from the enlarged head to all heads (of every block, if that was shown)."""
        self._enlarged = None
        self._redraw()

    def enlarged_head(self) -> int | None:
        """The head shown alone, or None for the grid."""
        return self._enlarged

    # -- slots -----------------------------------------------------------------------------
    def _on_model_changed(self) -> None:
        model = self.session.model
        n_layer = model.config.n_layer if model is not None else 0
        n_head = model.config.n_head if model is not None else 0
        self._layer = min(self._layer, max(n_layer - 1, 0))
        self.form.set_layers(n_layer, self._layer)
        if n_head != self.n_heads():
            self.grid_page.build(n_head)
        self.gqa.set_config(model.config if model is not None else None)
        if (n_layer, n_head) != self.overview_page.shape():
            self.overview_page.build(n_layer, n_head)
            self._overview = opens_on_overview(n_layer, n_head)
            self.form.show_overview(self._overview)
        self.overview_page.set_groups(self.gqa.groups())
        self._enlarged = None
        self._redraw()

    def _on_focus(self, name: str) -> None:
        layer, stage = focus_target(name)
        if layer is None or self.session.model is None:
            return
        before = (self._layer, self._stage)
        if layer < self.form.n_layers():
            self._layer = layer
            self.form.show_layer(layer)
        if stage is not None:
            self._stage = stage
            self.form.show_stage(stage)
        if (self._layer, self._stage) == before or (
                self._stage == before[1] and self._stage != "mask" and self._overview
                and self._enlarged is None):
            return  # nothing shown changes: the overview already shows every block
        self._redraw()

    # -- drawing ---------------------------------------------------------------------------
    def _rebuild(self) -> None:
        s = self.session
        if not show_if_traced(s, self.empty):
            return
        self._labels = context_pieces(s)
        if self._stage == "mask":
            self._draw_mask()
            return
        name = step_name(self._layer, self._stage)
        if name not in s.trace:
            self.empty.show_empty(lambda: self.tr("This trace has no step {0}.").format(name))
            return
        if self._overview and self._enlarged is None:
            self._draw_overview()
            return
        step = s.trace[name]
        heads = step.values[0]  # (nh, T, T), batch row 0
        cmap, levels = stage_scale(self._stage, heads)
        self.grid_page.show_heads(heads, self._labels, cmap, levels)
        hs = s.model.config.head_size
        B = step.values.shape[0]
        title, formula = step_title(name, s.lang), step_formula(name, s.lang)
        nh, T_q, T_k = heads.shape
        if B > 1:
            caption = self.tr("{0}:  {1}   [heads {2} × query {3} × key {4}], head_size {5}, "
                              "√{5} = {6:.6g}; batch row 0 of {7}").format(
                title, formula, nh, T_q, T_k, hs, math.sqrt(hs), B)
        else:
            caption = self.tr("{0}:  {1}   [heads {2} × query {3} × key {4}], head_size {5}, "
                              "√{5} = {6:.6g}").format(
                title, formula, nh, T_q, T_k, hs, math.sqrt(hs))
        self.formula.setText(caption)
        if self._enlarged is None:
            self.pages.setCurrentWidget(self.grid_page)
            return
        h = self._enlarged
        self.single_page.show_head(
            heads[h], self._labels, cmap, levels,
            plot_title=self.tr("{0} — head {1}").format(title, h),
            title=self.tr("Block {0}, head {1}").format(self._layer, h),
            note=QCoreApplication.translate(CONTEXT, STAGE_NOTES[self._stage]))
        self.pages.setCurrentWidget(self.single_page)

    def _draw_overview(self) -> None:
        s = self.session
        L, nh = self.overview_page.shape()
        names = [step_name(layer, self._stage) for layer in range(L)]
        if not all(n in s.trace.previews for n in names):
            self.empty.show_empty(lambda: self.tr("This trace has no overview of its heads."))
            return
        previews = [s.trace.previews[n] for n in names]  # each (nh, t, t)
        cmap, levels = stage_scale(self._stage, np.stack(previews))
        self.overview_page.show_stage(previews, cmap, levels)
        T, t = s.trace.ids.shape[1], previews[0].shape[-1]
        title = step_title(f"attn.{self._stage}", s.lang)  # the kind's title, no block
        caption = self.tr("{0}: every block ({1}) × every head ({2}), query × key {3} × {3}"
                          ).format(title, L, nh, T)
        if t < T:
            caption += "  ·  " + self.tr("Each pixel is the largest value of a block of {0} × {0} "
                                      "tokens; click a head to see all of its values."
                                      ).format(-(-T // t))
        self.formula.setText(caption)
        self.pages.setCurrentWidget(self.overview_page)

    def _draw_mask(self) -> None:
        T = len(self._labels)
        window = self.session.model.config.window_of(self._layer)
        if self._mask.shape != (T, T) or window != self._mask_window:
            self._mask = (~blocked(T, window)).astype(np.float32)  # (T, T) 1 = may look
            self._mask_window = window
        self.single_page.show_mask(self._mask, self._labels, window, self._layer)
        if window is None:
            self.formula.setText(self.tr("M[i, j] = 1 if j ≤ i else 0  (query i may look at key "
                                         "j only if j is not in its future)"))
        else:
            self.formula.setText(self.tr(
                "Block {0} has a sliding window of {1}: M[i, j] = 1 if i − {1} < j ≤ i else 0 "
                "(query i sees itself and the {2} keys before it, no further back)").format(
                self._layer, window, window - 1))
        self.pages.setCurrentWidget(self.single_page)
