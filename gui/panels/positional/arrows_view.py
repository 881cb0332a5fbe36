"""The rotary "q and k turning" tab: one pair of a chosen head's q (and of its K/V head's k)
at each position of the context, as 2-D arrows: grey before turning, coloured after, the
position written at each tip. The numbers are the trace's (attn.q, attn.q_rot and the k's)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from engine.model.rotary_readings import PairArrows, RotaryTable
from gui.panels.positional.rotary import MAX_ARROWS, block_table_sentence, segments, turn_arc, \
    two_sentences, wavelength
from gui.widgets import NoteLabel, format_value
from gui.widgets.language import Translated



def _position_colour(t: int, n: int) -> pg.QtGui.QColor:
    """Early positions blue, late ones red, so the turn reads in order."""
    return pg.intColor(int(t * 200 / max(n - 1, 1)), hues=256, values=1, maxValue=200,
                       minHue=0, maxHue=200)


class ArrowsView(Translated, QWidget):
    """Layer, head and pair boxes above two plots (q of the head, k of its K/V head)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.layer, self.head, self.pair = QSpinBox(), QSpinBox(), QSpinBox()
        self.titles = [QLabel(), QLabel(), QLabel()]
        row = QHBoxLayout()
        for title, box in zip(self.titles, (self.layer, self.head, self.pair)):
            box.setKeyboardTracking(False)
            row.addWidget(title)
            row.addWidget(box)
        self.moved = QCheckBox()  # one token carried along the positions, the turn alone
        self.moved.setChecked(True)  # the turn alone shows first; unticked: each token's own
        self.token = QSpinBox()
        self.token.setKeyboardTracking(False)
        row.addWidget(self.moved)
        row.addWidget(self.token)
        row.addStretch(1)
        self.plots = [pg.PlotWidget(background="w"), pg.PlotWidget(background="w")]
        plots = QHBoxLayout()
        for plot in self.plots:
            plot.setMenuEnabled(False)
            plot.setAspectLocked(True)
            plot.showGrid(x=True, y=True, alpha=0.25)
            plots.addWidget(plot, 1)
        self.note = NoteLabel(lines=4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(row)
        layout.addLayout(plots, 1)
        layout.addWidget(self.note)
        self._arrows: PairArrows | None = None
        self._table: RotaryTable | None = None
        self._retranslate()

    def _retranslate(self) -> None:
        for title, text in zip(self.titles, (self.tr("Block:"), self.tr("Head:"),
                                             self.tr("Pair:"))):
            title.setText(text)
        self.moved.setText(self.tr("one token at every position:"))
        if self._arrows is not None:
            self.show_arrows(self._arrows, self._table)

    def set_ranges(self, n_layer: int, n_head: int, n_pairs: int, T: int = 1) -> None:
        """The boxes' limits for the current model and context (values kept where they fit)."""
        for box, n in ((self.layer, n_layer), (self.head, n_head), (self.pair, n_pairs),
                       (self.token, T)):
            box.blockSignals(True)
            box.setRange(0, max(n - 1, 0))
            box.blockSignals(False)

    def arrows(self) -> PairArrows | None:
        """What is drawn."""
        return self._arrows

    def show_arrows(self, a: PairArrows, table: RotaryTable | None = None) -> None:
        """Draw the pair's arrows, q on the left and k on the right; `table`: the block's angle
        table, named in the note (for a model with two)."""
        self._arrows, self._table = a, table
        which = "" if table is None else block_table_sentence(self.layer.value(), table)
        T = min(len(a.q_before), MAX_ARROWS)
        for plot, before, after, title in (
                (self.plots[0], a.q_before, a.q_after,
                 self.tr("q of head {0}, pair {1}").format(self.head.value(), a.pair)),
                (self.plots[1], a.k_before, a.k_after,
                 self.tr("k of K/V head {0}, pair {1}").format(a.kv_head, a.pair))):
            plot.clear()
            plot.setTitle(title, color="#222")
            for t in range(T):
                colour = _position_colour(t, T)
                x, y = segments(before[t:t + 1])
                plot.plot(x, y, pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine))
                x, y = segments(after[t:t + 1])
                plot.plot(x, y, pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6,
                          symbolBrush=colour, symbolPen=None)
                x, y = turn_arc(before[t], t * a.theta)  # the turn, from dashed to solid
                plot.plot(x, y, pen=pg.mkPen(colour, width=1))
                label = pg.TextItem(str(t), color=colour, anchor=(0.5, 1.2))
                label.setPos(float(after[t, 0]), float(after[t, 1]))
                plot.addItem(label)
            reach = float(np.abs(np.concatenate([before[:T], after[:T]])).max()) * 1.25 or 1.0
            plot.setRange(xRange=(-reach, reach), yRange=(-reach, reach), padding=0)
        if self.moved.isChecked():
            self.note.setText(self._with(which, self.tr(
                "Dashed: the pair (dims {0} and {1}) of token {2}'s q and k; solid: the same pair "
                "turned as if the token sat at position t, by t·θ (θ = {3} rad, once round in {4} "
                "positions). Only the angle changes with the position.").format(
                a.dims[0], a.dims[1], self.token.value(), format_value(a.theta),
                format_value(wavelength(a.theta)))))
            return
        self.note.setText(self._with(which, self.tr(
            "Dashed: the pair (dims {0} and {1}) as computed from the token at position t; solid, "
            "same colour: the pair turned by t·θ (the arc) (θ = {2} rad, once round in {3} positions). "
            "The length never changes, only the angle. First {4} positions of the context."
        ).format(a.dims[0], a.dims[1], format_value(a.theta),
                 format_value(wavelength(a.theta)), T)))

    @staticmethod
    def _with(first: str, note: str) -> str:
        """The note after the sentence naming the block's table, when there is one."""
        return two_sentences(first, note) if first else note
