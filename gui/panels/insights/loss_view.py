"""The per-token-loss tab: each token of the context coloured by how surprised the model was to
see it, the same losses as bars, and the colour scale."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from gui.pieces import piece
from gui.session import Session
from gui.widgets import LazyPanel, static_plot
from gui.widgets.language import Translated

from .loss_strip import LossScale, TokenLossStrip
from .readings import LossReading, trace_ids


class LossView(Translated, LazyPanel):
    """The context coloured by each token's loss (cross-entropy of predicting it)."""

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._loss = np.zeros(0, dtype=np.float32)
        self._colours: list[QColor] = []

        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.strip = TokenLossStrip()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.strip)
        scroll.setFrameShape(QFrame.Shape.StyledPanel)
        self.scale = LossScale()
        self.scale_label = QLabel()
        self.scale_label.setWordWrap(True)
        self.scale_label.setStyleSheet("color: #444;")
        self.summary = QLabel()
        self.summary.setWordWrap(True)

        # The same losses as bars per position: exact heights next to the coloured text.
        self.plot_widget = static_plot(self.tr("loss"), self.tr("target token (position)"),
                                       tick_pt=9.0)
        plot = self.plot_widget.getPlotItem()
        self.loss_bars = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.8,
                                         pen=pg.mkPen(120, 120, 120))
        plot.addItem(self.loss_bars)
        self.uniform_line = pg.InfiniteLine(
            angle=0, pen=pg.mkPen(0, 0, 0, width=1.5, style=Qt.PenStyle.DashLine),
            label=self.tr("uniform guess"), labelOpts={"position": 0.95, "color": (0, 0, 0)})
        plot.addItem(self.uniform_line)

        layout = QVBoxLayout(self)
        layout.addWidget(self.caption)
        layout.addWidget(scroll, 2)
        layout.addWidget(self.plot_widget, 3)
        layout.addWidget(self.scale)
        layout.addWidget(self.scale_label)
        layout.addWidget(self.summary)
        self._retranslate()

    def _retranslate(self) -> None:
        """The plot's axis titles and its mark (the captions are drawn from data)."""
        plot = self.plot_widget.getPlotItem()
        plot.setLabel("left", self.tr("loss"))
        plot.setLabel("bottom", self.tr("target token (position)"))
        self.uniform_line.label.setFormat(self.tr("uniform guess"))
        self._redraw()

    # -- public -------------------------------------------------------------------------------
    def losses(self) -> np.ndarray:
        """Loss (T-1,) of token t+1 given tokens 0..t, as shown."""
        self._flush()
        return self._loss.copy()

    def colours(self) -> list[QColor]:
        """One colour per predicted token (T-1 of them), in order."""
        self._flush()
        return list(self._colours)

    def on_trace_changed(self) -> None:
        """The session's trace was replaced: redraw when on screen."""
        self._redraw()

    # -- drawing ------------------------------------------------------------------------------
    def _rebuild(self) -> None:
        s = self.session
        tok = s.tokenizer
        ids = trace_ids(s)[0] if s.model is not None else np.zeros(0, dtype=np.int64)
        if s.model is None or tok is None or len(ids) < 2:
            self._show_nothing()
            return
        trace = s.trace
        if (trace is not None and not trace.ablated and trace.next_loss is not None
                and trace.made_by(s.model)):
            # The trace of this very model measured it already, off the GUI thread (a forward
            # of GPT-2 small here would hold the window for a fifth of a second).
            reading = LossReading.of_losses(trace.next_loss[0], tok.vocab_size)
        else:
            reading = LossReading.of(s.model, ids, tok.vocab_size)
        self._loss = reading.loss
        self._colours = reading.colours()
        pieces = [piece(tok, int(i)) for i in ids]
        self.strip.set_tokens(pieces, [None, *self._colours], self._tips(ids, pieces))
        self.scale.set_scale(reading.high, reading.uniform)
        self._draw_bars(reading, pieces)
        self.caption.setText(self.tr(
            "<b>How surprised the current model is by each token of the context</b>: the loss "
            "of predicting it from the tokens before it (green: expected, red: surprising). "
            "Hover a token for its loss and target."))
        if s.trace is not None and s.trace.ablated:
            self.caption.setText(self.caption.text() + self.tr(
                " Computed with every head on (the ablation applies to the trace only)."))
        self.scale_label.setText(self.tr(
            "Colour scale: loss 0 → {0:.2f}. The black mark is ln(vocabulary) = {1:.2f}, the "
            "loss of a uniform guess over {2} tokens.").format(
            reading.high, reading.uniform, tok.vocab_size))
        worst = reading.worst()
        self.summary.setText(self.tr(
            "Mean loss {0:.4f} over {1} predictions · most surprising: '{2}' at position {3} "
            "(loss {4:.3f})").format(float(self._loss.mean()), len(self._loss),
                                      pieces[worst + 1], worst + 1, float(self._loss[worst])))

    def _show_nothing(self) -> None:
        self._loss = np.zeros(0, dtype=np.float32)
        self._colours = []
        self.strip.set_tokens([], [], [])
        self.loss_bars.setOpts(x=np.zeros(0), height=np.zeros(0), brushes=[])
        self.caption.setText(self.tr("Per-token loss needs a context of at least 2 tokens."))
        self.summary.clear()

    def _tips(self, ids: np.ndarray, pieces: list[str]) -> list[str]:
        """One tooltip per token: its target, what predicts it and its loss."""
        tips = [self.tr("position 0 '{0}': the first token, nothing predicts it").format(pieces[0])]
        for t, loss in enumerate(self._loss.tolist(), start=1):
            tips.append(self.tr(
                "position {0}: target '{1}' (id {2}) predicted from tokens 0–{3}\n"
                "loss = −ln p(target) = {4:.4f}   (p = {5:.4f})").format(
                t, pieces[t], int(ids[t]), t - 1, loss, math.exp(-loss)))
        return tips

    def _draw_bars(self, reading: LossReading, pieces: list[str]) -> None:
        T = len(pieces)
        x = np.arange(1, T, dtype=np.float64)
        self.loss_bars.setOpts(x=x, height=reading.loss, width=0.8,
                               brushes=[pg.mkBrush(c) for c in self._colours])
        self.uniform_line.setPos(reading.uniform)
        plot = self.plot_widget.getPlotItem()
        plot.setXRange(0.4, T - 0.4, padding=0)
        plot.setYRange(0, reading.high * 1.08, padding=0)
        step = max(1, T // 40)  # about 40 labelled ticks at most
        plot.getAxis("bottom").setTicks([[(float(t), f"{pieces[t]}\n{t}") for t in range(1, T, step)]])
