"""The gradient × input tab: which earlier token mattered for the chosen target.

The prompt up to the position twice, as coloured cells with numbers: gradient × input, and
integrated gradients with n steps, whose completeness (the shares add up to the score's change
from the baseline) is checked. The numbers are the engine's (engine.model.input_attribution),
computed off the GUI thread.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.model.input_attribution import STEPS, InputAttribution
from engine.wording import in_language
from gui import i18n
from gui.latest import Latest
from gui.pieces import piece
from gui.session import Session
from gui.widgets import LazyPanel, static_plot
from gui.widgets.language import Translated

from .explanation import Explanation
from .export import ExportRow
from .jobs import input_job
from .readings import CHECK_STYLE, check_passed, share_colours, tick_labels
from .target_bar import TargetBar
from .token_cells import TokenCells

MAX_STEPS = 1024
GRAD_COLOUR, IG_COLOUR = (120, 150, 200), (235, 130, 40)


class InputView(Translated, LazyPanel):
    """Gradient × input and integrated gradients of the target bar's choice."""

    shown = Signal()  # a new attribution was drawn

    def __init__(self, session: Session, bar: TargetBar, parent: QWidget | None = None):
        super().__init__(parent)
        self.session, self.bar = session, bar
        self._result: InputAttribution | None = None
        self._error: BaseException | None = None  # why the last request failed
        self._jobs = Latest("attribution-input", supersede=True, low_priority=True)
        self._jobs.done.connect(self._on_done)
        self._jobs.failed.connect(self._on_failed)

        self.intro = Explanation()
        self.steps_label = QLabel()
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, MAX_STEPS)
        self.steps_spin.setValue(STEPS)
        self.steps_spin.setKeyboardTracking(False)  # typing "128" asks once, not for 1, 12, 128
        self.steps_spin.valueChanged.connect(self._redraw)
        self.status = QLabel()
        steps_row = QHBoxLayout()
        steps_row.addWidget(self.steps_label)
        steps_row.addWidget(self.steps_spin)
        steps_row.addWidget(self.status, 1)
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.grad_title, self.ig_title = QLabel(), QLabel()
        self.grad_cells, self.ig_cells = TokenCells(), TokenCells()
        self.check_label = QLabel()
        self.check_label.setWordWrap(True)
        self.check_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cells = QWidget()
        self.cells.setStyleSheet("background: white;")
        inner = QVBoxLayout(self.cells)
        for w in (self.grad_title, self.grad_cells, self.ig_title, self.ig_cells):
            inner.addWidget(w)
        inner.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.StyledPanel)
        scroll.setWidget(self.cells)
        # The same shares as bars: their sizes compared at a glance, token by token.
        self.plot_widget = static_plot(self.tr("share of the score"), tick_pt=9.0)
        plot = self.plot_widget.getPlotItem()
        self.legend = plot.addLegend(offset=(-10, 10))
        self.grad_bars = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.38,
                                         brush=pg.mkBrush(*GRAD_COLOUR))
        self.ig_bars = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.38,
                                       brush=pg.mkBrush(*IG_COLOUR))
        plot.addItem(self.grad_bars)
        plot.addItem(self.ig_bars)
        self.legend.addItem(self.grad_bars, "")
        self.legend.addItem(self.ig_bars, "")
        self._ticks: list[str] = []
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(scroll)
        self.split.addWidget(self.plot_widget)
        self.split.setChildrenCollapsible(False)
        self.split.setSizes([300, 300])
        self.export = ExportRow("input_attribution", self.csv_table, lambda: self.split)

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(steps_row)
        layout.addWidget(self.headline)
        layout.addWidget(self.check_label)
        layout.addWidget(self.split, 1)
        layout.addWidget(self.export)
        bar.changed.connect(self._redraw)
        self._retranslate()

    def _retranslate(self) -> None:
        self.intro.set_text(self.tr(
            "<b>Which earlier token mattered:</b> each token's share of the target's score, "
            "by gradient × input and by integrated gradients."), self.tr(
            "<b>Gradient × input</b> multiplies each token's vector by how fast the score "
            "changes with it: a first guess, exact only for a model that is a straight line. "
            "<b>Integrated gradients</b> walk in n steps from a neutral input (the average token "
            "at every position, the positions kept) to the real one and add up the gradients on "
            "the way, so the shares add up to the score's change from that baseline (the "
            "check). Red tokens push the target up, blue ones down.<br><br>"
            "What it does not prove: that the model reads a token the way a person would, or "
            "that removing the token would change the answer by that much. Another baseline "
            "gives other numbers, and a share is about the token's vector, not its meaning."))
        self.steps_label.setText(self.tr("Integrated gradients' steps n:"))
        self.steps_spin.setToolTip(self.tr("Points taken on the path from the baseline to the "
                                           "input; more steps, smaller completeness error"))
        self.plot_widget.getPlotItem().setLabel("left", self.tr("share of the score"))
        for bars, text in ((self.grad_bars, self.tr("gradient × input")),
                           (self.ig_bars, self.tr("integrated gradients"))):
            label = self.legend.getLabel(bars)
            if label is not None:
                label.setText(text)
        self.legend.updateSize()
        self._draw()

    # -- public ---------------------------------------------------------------------------------
    def attribution(self) -> InputAttribution | None:
        self._flush()
        return self._result

    def set_steps(self, steps: int) -> None:
        self.steps_spin.setValue(steps)

    def is_updating(self) -> bool:
        return self._jobs.pending

    def check_text(self) -> str:
        return self.check_label.text()

    def check_kind(self) -> str:
        return self.check_label.property("kind") or "wait"

    def csv_table(self) -> tuple[list[str], list[list]] | None:
        """One row per token: position, piece, gradient × input, integrated gradients."""
        r, tok = self._result, self.session.tokenizer
        trace = self.session.trace
        if r is None or tok is None or trace is None:
            return None
        ids = trace.ids[0, : r.position + 1].tolist()
        rows = [[i, piece(tok, t), g, ig] for i, (t, g, ig) in
                enumerate(zip(ids, r.gradient_x_input, r.integrated_gradients))]
        return ["position", "token", "gradient_x_input", "integrated_gradients"], rows

    def forget(self) -> None:
        """A new model: drop what is on its way and what is shown (the old model's numbers,
        in the old vocabulary)."""
        self._jobs.reset()
        self._result, self._error = None, None
        self._draw()

    def shutdown(self) -> None:
        self._jobs.shutdown()

    # -- drawing --------------------------------------------------------------------------------
    def _rebuild(self) -> None:
        s = self.session
        request = self.bar.request()
        if s.model is None or s.trace is None or request is None or request.target is None:
            self._result, self._error = None, None
            self._draw()
            return
        ids = s.trace.ids[0]
        self.status.setText(self.tr("computing…"))
        self._jobs.submit(input_job, s.model, ids, request, self.steps_spin.value())

    @Slot(str, object)
    def _on_done(self, _key: str, result: InputAttribution) -> None:
        self._result, self._error = result, None
        self.status.clear()
        self._draw()
        self.shown.emit()

    @Slot(str, object)
    def _on_failed(self, _key: str, exc: BaseException) -> None:
        self._result, self._error = None, exc
        self.status.clear()
        self._draw()

    def _draw(self) -> None:
        r, s = self._result, self.session
        if r is None or s.tokenizer is None or s.trace is None:
            self.headline.setText(self.tr("Could not attribute: {0}").format(
                in_language(self._error, i18n.current())) if self._error is not None else "")
            self._set_check("", "wait")
            for cells in (self.grad_cells, self.ig_cells):
                cells.set_cells([], [], [], [])
            self.grad_title.clear()
            self.ig_title.clear()
            for bars in (self.grad_bars, self.ig_bars):
                bars.setOpts(x=np.zeros(0), height=np.zeros(0))
            self._ticks = []
            self._set_ticks()
            return
        tok = s.tokenizer
        ids = s.trace.ids[0, : r.position + 1].tolist()
        pieces = [piece(tok, t) for t in ids]
        what = repr(piece(tok, r.target)) if r.versus is None else "{0} − {1}".format(
            repr(piece(tok, r.target)), repr(piece(tok, r.versus)))
        self.headline.setText(self.tr(
            "The score of {0} after position {1}: <b>{2:.4f}</b>; with the average token "
            "everywhere (the baseline): {3:.4f}.").format(what, r.position, r.score,
                                                          r.baseline_score))
        self.grad_title.setText(self.tr("<b>Gradient × input</b> (sum {0:.4f})").format(
            sum(r.gradient_x_input)))
        self.ig_title.setText(self.tr("<b>Integrated gradients</b>, {0} steps (sum {1:.4f})")
                              .format(r.steps, sum(r.integrated_gradients)))
        for cells, values in ((self.grad_cells, r.gradient_x_input),
                              (self.ig_cells, r.integrated_gradients)):
            tips = [self.tr("position {0} {1}: {2:.6g}").format(i, repr(p), v)
                    for i, (p, v) in enumerate(zip(pieces, values))]
            cells.set_cells(pieces, [f"{v:+.3f}" for v in values], share_colours(values), tips)
        x = np.arange(len(pieces), dtype=np.float64)
        self.grad_bars.setOpts(x=x - 0.2, height=np.asarray(r.gradient_x_input), width=0.38)
        self.ig_bars.setOpts(x=x + 0.2, height=np.asarray(r.integrated_gradients), width=0.38)
        plot = self.plot_widget.getPlotItem()
        plot.setXRange(-0.7, max(len(pieces), 1) - 0.3, padding=0)
        both = np.concatenate([r.gradient_x_input, r.integrated_gradients])
        low, high = min(float(both.min()), 0.0), max(float(both.max()), 0.0)
        pad = 0.08 * max(high - low, 1e-6)
        plot.setYRange(low - pad, high + pad, padding=0)
        self._ticks = pieces
        self._set_ticks()
        change = r.score - r.baseline_score
        fields = (sum(r.integrated_gradients), change, r.completeness_error, r.tolerance,
                  r.steps)
        if check_passed(r.completeness_error, r.tolerance):
            self._set_check(self.tr(
                "✓ Completeness holds — the integrated gradients add up to {0:.4f}, the score's "
                "change from the baseline is {1:.4f}: difference {2:.1e} (tolerance {3:.1e} "
                "at n = {4}).").format(*fields), "pass")
        else:
            self._set_check(self.tr(
                "✗ Completeness FAILS — the integrated gradients add up to {0:.4f}, the "
                "score's change from the baseline is {1:.4f}: difference {2:.1e} exceeds the "
                "tolerance {3:.1e} at n = {4}. More steps make it smaller.").format(*fields),
                "fail")

    def _set_check(self, text: str, kind: str) -> None:
        self.check_label.setText(text)
        self.check_label.setProperty("kind", kind)
        self.check_label.setStyleSheet(CHECK_STYLE[kind])

    def _set_ticks(self) -> None:
        plot = self.plot_widget.getPlotItem()
        width = plot.getViewBox().width() or self.plot_widget.width()
        plot.getAxis("bottom").setTicks([tick_labels(self._ticks, width)])

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._set_ticks()
