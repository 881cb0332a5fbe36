"""Steps 7-10 of the pipeline, per head: scores QKᵀ → scaled ÷√hs → masked (+ causal mask) →
softmax, for one layer of the current context, plus the causal mask itself.

Every number comes from the trace (batch row 0); the panel only chooses what to show. One
heatmap per head is created when the model changes and only refilled afterwards, so stepping
through the walkthrough costs a few setImage calls.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.model import causal_mask
from engine.trace import step_kind, step_layer
from gui.panels.tokens import context_pieces, show_if_traced
from gui.session import Session
from gui.widgets import (
    PATTERN_CMAP,
    SIGNED_CMAP,
    EmptyState,
    Heatmap,
    LazyPanel,
    NoteLabel,
    symmetric_levels,
)

TRACED_STAGES = ("scores", "scaled", "masked", "pattern")
STAGES = (*TRACED_STAGES, "mask")
MASK_CMAP = pg.ColorMap([0.0, 1.0], [(70, 70, 70), (255, 236, 150)])  # blocked dark, allowed light


class AttentionPanel(LazyPanel):
    """Per-head attention matrices of one layer and stage, with hover values and a big view."""

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._layer = 0
        self._stage = "pattern"
        self._enlarged: int | None = None  # head shown in the big view, None = grid
        self._heads: list[Heatmap] = []
        self._labels: list[str] = []
        self._mask = np.zeros((0, 0), dtype=np.float32)
        self._bar_cmap: str | None = PATTERN_CMAP  # colour map the shared bar shows

        self.layer_combo = QComboBox()
        self.layer_combo.currentIndexChanged.connect(self._on_layer_combo)
        stage_names = {
            "scores": self.tr("scores QKᵀ"),
            "scaled": self.tr("scaled ÷√hs"),
            "masked": self.tr("masked +M"),
            "pattern": self.tr("softmax"),
            "mask": self.tr("causal mask M"),
        }
        self.stage_buttons: dict[str, QToolButton] = {}
        self.stage_group = QButtonGroup(self)
        self.stage_group.setExclusive(True)
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Layer:")))
        top.addWidget(self.layer_combo)
        top.addSpacing(12)
        top.addWidget(QLabel(self.tr("Stage:")))
        for i, stage in enumerate(STAGES):
            if stage == "mask":
                top.addSpacing(10)
            elif i:
                top.addWidget(QLabel("→"))
            b = QToolButton()
            b.setText(stage_names[stage])
            b.setCheckable(True)
            b.clicked.connect(lambda _=False, s=stage: self.set_stage(s))
            self.stage_group.addButton(b)
            self.stage_buttons[stage] = b
            top.addWidget(b)
        top.addStretch(1)
        self.stage_buttons[self._stage].setChecked(True)

        self.formula = NoteLabel(lines=2)
        self.formula.setTextFormat(Qt.TextFormat.PlainText)
        self.formula.setStyleSheet("font-size: 11pt;")

        # Page 0: every head of the layer, one shared colour scale.
        self.grid_page = QWidget()
        self.grid = QGridLayout()
        self.grid.setSpacing(4)
        self.bar_view = pg.GraphicsLayoutWidget()
        self.bar_view.setBackground("w")
        self.bar_view.setFixedWidth(78)
        self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), width=14, interactive=False,
                                        colorMap=PATTERN_CMAP, colorMapMenu=False)
        bar_axis = self.colorbar.getAxis("right")
        bar_axis.setTextPen(pg.mkPen(30, 30, 30))
        bar_axis.enableAutoSIPrefix(False)
        self.bar_view.addItem(self.colorbar)
        self.grid_readout = NoteLabel(
            self.tr("Hover a cell for its value; click a head to enlarge it."))
        grid_row = QHBoxLayout()
        grid_row.addLayout(self.grid, 1)
        grid_row.addWidget(self.bar_view)
        grid_layout = QVBoxLayout(self.grid_page)
        grid_layout.setContentsMargins(0, 0, 0, 0)
        grid_layout.addLayout(grid_row, 1)
        grid_layout.addWidget(self.grid_readout)

        # Page 1: one head (or the mask) large enough to print its numbers.
        self.single_page = QWidget()
        self.back_button = QPushButton(self.tr("← All heads"))
        self.back_button.clicked.connect(self.show_grid)
        self.single_title = NoteLabel()
        self.single_title.setStyleSheet("font-weight: bold;")
        self.single_note = NoteLabel(lines=3)
        self.single = Heatmap(row_title=self.tr("query"), col_title=self.tr("key"),
                              cell_values=True, hover_names=(self.tr("query"), self.tr("key")))
        single_top = QHBoxLayout()
        single_top.addWidget(self.back_button)
        single_top.addWidget(self.single_title, 1)
        single_layout = QVBoxLayout(self.single_page)
        single_layout.setContentsMargins(0, 0, 0, 0)
        single_layout.addLayout(single_top)
        single_layout.addWidget(self.single_note)
        single_layout.addWidget(self.single, 1)

        self.pages = QStackedWidget()
        self.pages.addWidget(self.grid_page)
        self.pages.addWidget(self.single_page)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.formula)
        layout.addWidget(self.pages, 1)
        self.empty = EmptyState.fill(self, content, self.tr(
            "No model yet: create or load a model, then type a context to see its attention."))

        session.model_changed.connect(self._on_model_changed)
        session.trace_changed.connect(self._redraw)
        session.focus_changed.connect(self._on_focus)
        self._on_model_changed()

    # -- public ----------------------------------------------------------------------------
    def layer(self) -> int:
        return self._layer

    def stage(self) -> str:
        """'scores', 'scaled', 'masked', 'pattern' or 'mask'."""
        return self._stage

    def n_heads(self) -> int:
        return len(self._heads)

    def set_layer(self, layer: int) -> None:
        """Show block `layer` (0-based)."""
        n = self.layer_combo.count()
        if not 0 <= layer < max(n, 1):
            raise ValueError(f"no layer {layer} (the model has {n})")
        self._layer = layer
        if n and self.layer_combo.currentIndex() != layer:
            self.layer_combo.blockSignals(True)
            self.layer_combo.setCurrentIndex(layer)
            self.layer_combo.blockSignals(False)
        self._redraw()

    def set_stage(self, stage: str) -> None:
        """Show one stage: scores, scaled, masked, pattern (the softmax) or mask."""
        if stage == "softmax":
            stage = "pattern"
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}; choose one of {STAGES}")
        self._stage = stage
        self.stage_buttons[stage].setChecked(True)
        self._redraw()

    def head_image(self, head: int) -> np.ndarray:
        """Exactly the matrix drawn for `head` (the mask itself in the mask stage)."""
        self._flush()
        if self._stage == "mask":
            return self.single.current_image()
        return self._heads[head].current_image()

    def head_heatmap(self, head: int) -> Heatmap:
        return self._heads[head]

    def enlarge(self, head: int) -> None:
        """Show one head alone, large enough for its numbers."""
        if not 0 <= head < len(self._heads):
            raise ValueError(f"no head {head}")
        self._enlarged = head
        self._redraw()

    def show_grid(self) -> None:
        """Back from the enlarged head to all heads."""
        self._enlarged = None
        self._redraw()

    def enlarged_head(self) -> int | None:
        return self._enlarged

    # -- slots -----------------------------------------------------------------------------
    def _on_model_changed(self) -> None:
        model = self.session.model
        n_layer = model.config.n_layer if model is not None else 0
        n_head = model.config.n_head if model is not None else 0
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for i in range(n_layer):
            self.layer_combo.addItem(self.tr("Block {0}").format(i), i)
        self._layer = min(self._layer, max(n_layer - 1, 0))
        self.layer_combo.setCurrentIndex(self._layer if n_layer else -1)
        self.layer_combo.blockSignals(False)
        if n_head != len(self._heads):
            self._build_grid(n_head)
        self._enlarged = None
        self._redraw()

    def _on_layer_combo(self, index: int) -> None:
        if index >= 0:
            self.set_layer(index)

    def _on_focus(self, name: str) -> None:
        layer = step_layer(name)
        if layer is None or self.session.model is None:
            return
        kind = step_kind(name)
        stage = kind[len("attn."):] if kind.startswith("attn.") else ""
        if layer < self.layer_combo.count():
            self._layer = layer
            self.layer_combo.blockSignals(True)
            self.layer_combo.setCurrentIndex(layer)
            self.layer_combo.blockSignals(False)
        if stage in TRACED_STAGES:
            self._stage = stage
            self.stage_buttons[stage].setChecked(True)
        self._redraw()

    def _build_grid(self, n_head: int) -> None:
        for hm in self._heads:
            self.grid.removeWidget(hm)
            hm.deleteLater()
        self._heads = []
        if n_head == 0:
            return
        cols = math.ceil(math.sqrt(n_head))
        for h in range(n_head):
            hm = Heatmap(colorbar=False, readout=False, max_label_chars=7,
                         hover_names=(self.tr("query"), self.tr("key")))
            hm.hovered.connect(lambda text, h=h: self._on_head_hover(h, text))
            hm.clicked.connect(lambda _r, _c, h=h: self.enlarge(h))
            self.grid.addWidget(hm, h // cols, h % cols)
            self._heads.append(hm)

    def _on_head_hover(self, head: int, text: str) -> None:
        if text:
            self.grid_readout.setText(self.tr("head {0}: {1}").format(head, text))
        else:
            self.grid_readout.setText(
                self.tr("Hover a cell for its value; click a head to enlarge it."))

    # -- drawing ---------------------------------------------------------------------------
    def _rebuild(self) -> None:
        s = self.session
        if not show_if_traced(s, self.empty):
            return
        self._labels = context_pieces(s)
        if self._stage == "mask":
            self._draw_mask()
            return
        name = f"blocks.{self._layer}.attn.{self._stage}"
        if name not in s.trace:
            self.empty.show_empty(self.tr("This trace has no step {0}.").format(name))
            return
        step = s.trace[name]
        heads = step.values[0]  # (nh, T, T), batch row 0
        cmap, levels = self._scale(heads)
        for h, hm in enumerate(self._heads):
            hm.set_matrix(heads[h], self._labels, self._labels, cmap, levels,
                          title=self.tr("head {0}").format(h))
        if cmap is not self._bar_cmap:
            self._bar_cmap = cmap
            self.colorbar.setColorMap(cmap)
        self.colorbar.setLevels(levels)
        hs = s.model.config.head_size
        B = step.values.shape[0]
        batch = self.tr("; batch row 0 of {0}").format(B) if B > 1 else ""
        self.formula.setText(
            f"{step.title}:  {step.formula}   "
            + self.tr("[heads {0} × query {1} × key {2}], head_size {3}, √{3} = {4:.6g}{5}").format(
                heads.shape[0], heads.shape[1], heads.shape[2], hs, math.sqrt(hs), batch)
        )
        if self._enlarged is None:
            self.pages.setCurrentWidget(self.grid_page)
            return
        h = self._enlarged
        self.single.set_matrix(heads[h], self._labels, self._labels, cmap, levels,
                               title=f"{step.title} — " + self.tr("head {0}").format(h))
        self.single_title.setText(self.tr("Block {0}, head {1}").format(self._layer, h))
        self.back_button.setVisible(True)
        self.single_note.setText(self._stage_note())
        self.pages.setCurrentWidget(self.single_page)

    def _draw_mask(self) -> None:
        T = len(self._labels)
        if self._mask.shape != (T, T):
            self._mask = causal_mask(T).numpy().astype(np.float32)  # (T, T) 1 = may look
        title = self.tr("Causal mask M = 1 − triu(ones({0}, {0}), k=1)").format(T)
        self.single.set_matrix(self._mask, self._labels, self._labels, MASK_CMAP, (0.0, 1.0),
                               title=title)
        self.single_title.setText(self.tr("Causal mask for T = {0}").format(T))
        self.back_button.setVisible(False)
        self.formula.setText(self.tr("M[i, j] = 1 if j ≤ i else 0  (query i may look at key j only "
                                     "if j is not in its future)"))
        self.single_note.setText(self.tr(
            "Shown for the current context, T = {0} (the article draws it for T = 20). 1 (light) = "
            "the query in this row may attend to the key in this column; 0 (dark) = a future "
            "position, blocked. Where M is 0 the scaled score becomes −∞ (stage “masked”), so "
            "after the softmax its weight is exactly 0. Every head of every layer uses this "
            "same mask.").format(T))
        self.pages.setCurrentWidget(self.single_page)

    def _scale(self, heads: np.ndarray) -> tuple[str, tuple[float, float]]:
        """Colour map and levels shared by all heads of the shown stage."""
        if self._stage == "pattern":
            return PATTERN_CMAP, (0.0, 1.0)
        return SIGNED_CMAP, symmetric_levels(heads)

    def _stage_note(self) -> str:
        return {
            "scores": self.tr("Row i: how strongly query i matches every key (dot products "
                              "q_i·k_j). Not yet scaled or masked."),
            "scaled": self.tr("The scores divided by √head_size so the softmax does not "
                              "saturate."),
            "masked": self.tr("Future positions (above the diagonal) set to −∞, drawn hatched: "
                              "the model cannot look ahead."),
            "pattern": self.tr("softmax over each row: the weights query i gives to each key. "
                               "Every row sums to 1; masked cells are exactly 0."),
        }.get(self._stage, "")
