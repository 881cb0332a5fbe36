"""Compare mode: one head's attention pattern at two snapshot steps side by side, and B − A
on a diverging scale centred at 0."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGroupBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from engine.text.tokenizers import Tokenizer
from gui.panels.history.snapshots import Compared
from gui.widgets import PATTERN_CMAP, SIGNED_CMAP, Heatmap
from gui.widgets.language import Translated


class CompareView(Translated, QGroupBox):
    """A checkable box: steps A and B, block and head, and three heatmaps (A, B, B − A)."""

    pair_changed = Signal()  # compare mode is on and steps A or B changed: trace them

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._compared: Compared | None = None
        self._tokenizer: Tokenizer | None = None
        self.setCheckable(True)
        self.setChecked(False)
        self.toggled.connect(self._on_toggled)
        self.a_combo, self.b_combo = QComboBox(), QComboBox()
        self.layer_combo, self.head_combo = QComboBox(), QComboBox()
        for combo in (self.a_combo, self.b_combo):
            combo.currentIndexChanged.connect(self._on_pair)
        for combo in (self.layer_combo, self.head_combo):  # drawn from the traces already made
            combo.currentIndexChanged.connect(self._draw)
        pick = QHBoxLayout()
        self.block_label, self.head_label = QLabel(), QLabel()
        # A and B name the two snapshots in every language (B − A).
        for label, w in ((QLabel("A:"), self.a_combo), (QLabel("B:"), self.b_combo),
                         (self.block_label, self.layer_combo), (self.head_label, self.head_combo)):
            pick.addWidget(label)
            pick.addWidget(w)
            pick.addSpacing(8)
        pick.addStretch(1)
        self.heatmap_a, self.heatmap_b, self.heatmap_diff = Heatmap(), Heatmap(), Heatmap()
        maps = QHBoxLayout()
        for h in (self.heatmap_a, self.heatmap_b, self.heatmap_diff):
            h.setMinimumSize(220, 220)
            maps.addWidget(h, 1)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self._body = QWidget()
        body_layout = QVBoxLayout(self._body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addLayout(pick)
        body_layout.addWidget(self.caption)
        body_layout.addLayout(maps, 1)
        box_layout = QVBoxLayout(self)
        box_layout.addWidget(self._body)
        self._body.setVisible(False)
        self._retranslate()

    def _retranslate(self) -> None:
        """The box's texts and the heatmaps' axis titles; what was compared is drawn again."""
        self.setTitle(self.tr("Compare two snapshots"))
        self.block_label.setText(self.tr("Block:"))
        self.head_label.setText(self.tr("Head:"))
        for h in (self.heatmap_a, self.heatmap_b, self.heatmap_diff):
            h.set_axis_titles(self.tr("query"), self.tr("key"))
        self._draw()

    def pair(self) -> tuple[int, int]:
        """Indices of steps A and B in the steps offered (-1: none)."""
        return self.a_combo.currentIndex(), self.b_combo.currentIndex()

    def compared(self) -> Compared | None:
        """The traces drawn (None before the first comparison of this model)."""
        return self._compared

    def set_steps(self, steps: list[int]) -> None:
        """Offer `steps` as A and B, keeping the chosen ones (default: the oldest and newest)."""
        for combo, default in ((self.a_combo, 0), (self.b_combo, len(steps) - 1)):
            old = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([str(s) for s in steps])
            i = combo.findText(old)
            combo.setCurrentIndex(i if i >= 0 else default)
            combo.blockSignals(False)

    def set_shape(self, n_layer: int, n_head: int) -> None:
        """Offer the blocks and heads of a new model; what was drawn is forgotten."""
        self._compared = None
        for combo, n in ((self.layer_combo, n_layer), (self.head_combo, n_head)):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([str(i) for i in range(n)])
            combo.blockSignals(False)

    def set_pair(self, a: int, b: int, layer: int, head: int) -> None:
        """Choose steps (by index), block and head without asking for anything."""
        combos = (self.a_combo, self.b_combo, self.layer_combo, self.head_combo)
        for combo, i in zip(combos, (a, b, layer, head)):
            combo.blockSignals(True)
            combo.setCurrentIndex(i)
            combo.blockSignals(False)

    def show_compared(self, compared: Compared, tokenizer: Tokenizer) -> None:
        self._compared, self._tokenizer = compared, tokenizer
        self._draw()

    def _on_toggled(self, on: bool) -> None:
        self._body.setVisible(on)
        if on:
            self.pair_changed.emit()

    def _on_pair(self, *_args) -> None:
        if self.isChecked():
            self.pair_changed.emit()

    def _draw(self, *_args) -> None:
        c, tok = self._compared, self._tokenizer
        if c is None or tok is None:
            return
        layer, head = self.layer_combo.currentIndex(), self.head_combo.currentIndex()
        name = f"blocks.{layer}.attn.pattern"
        if layer < 0 or head < 0 or name not in c.trace_a:
            return
        pa = c.trace_a.values(name)[0, head]  # (T, T)
        pb = c.trace_b.values(name)[0, head]  # (T, T)
        diff = pb - pa  # (T, T) what changed between the two steps
        labels = [f"{t} {p}" for t, p in enumerate(tok.pieces(c.ids[0]))]
        self.heatmap_a.set_matrix(pa, labels, labels, PATTERN_CMAP, levels=(0.0, 1.0),
                                  title=self.tr("step {0}").format(c.a))
        self.heatmap_b.set_matrix(pb, labels, labels, PATTERN_CMAP, levels=(0.0, 1.0),
                                  title=self.tr("step {0}").format(c.b))
        m = max(float(np.abs(diff).max()), 1e-6)
        self.heatmap_diff.set_matrix(diff, labels, labels, SIGNED_CMAP, levels=(-m, m),
                                     title=self.tr("B − A (step {0} − step {1})").format(c.b, c.a))
        self.caption.setText(self.tr(
            "Attention pattern (softmax) of block {0}, head {1} on the current context at step "
            "{2} (A) and step {3} (B); right: B − A, red where B attends more, blue where less "
            "(largest change {4:.3f}).").format(layer, head, c.a, c.b, m))
