"""The head-ablation tab: tick heads to zero their weighted values.

The whole app then shows the ablated model: a tick re-traces the context with `ablate=` off the
GUI thread and sets the session's trace. The tab also draws the next-token distribution before
and after, and on request measures the validation loss with and without the heads.
"""
from __future__ import annotations

import weakref
from typing import Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from gui.latest import Latest
from gui.pieces import piece
from gui.session import Session
from gui.widgets import LazyPanel, static_plot
from gui.workers import FunctionWorker, PanelThreads
from gui.widgets.language import Translated

from .jobs import SHIFT_TOP_K, Heads, ShiftResult, measure_job, shift_job
from .readings import AFTER_COLOUR, BEFORE_COLOUR, head_name, head_names, shift_bars, trace_ids


class AblationView(Translated, LazyPanel):
    """A layer × head grid of checkboxes; ticked heads are zeroed in the session's trace."""

    measured = Signal(dict)  # the ablation_effect result shown last

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._boxes: dict[tuple[int, int], QCheckBox] = {}
        # Re-trace and shift: only the newest tick counts, and a trace set by someone else
        # makes whatever is still on its way stale (reset()).
        self._jobs = Latest("ablation-shift", supersede=True)
        self._jobs.done.connect(self._on_shift_done)
        self._jobs.failed.connect(self._on_shift_failed)
        self._worker: FunctionWorker | None = None  # measuring the validation loss
        self._threads = PanelThreads()
        self._measuring_heads: Heads = []
        self._shift: dict | None = None
        # A weak reference to the session trace `_shift` belongs to, or None: a strong one kept
        # a replaced trace (~130 MB at GPT-2 size) alive while the view was hidden.
        self._shift_trace: weakref.ref | None = None
        self._result: dict | None = None
        self._applying = False  # setting our own ablated trace on the session
        self._block_labels: list[QLabel] = []  # "block 0" … at the start of each grid row
        # What the result line says, so a language switch can say it again: ("result",),
        # ("measuring", heads), ("no corpus",), ("failed", exc) or None.
        self._result_state: tuple | None = None

        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.grid_box = QWidget()
        self.grid = QGridLayout(self.grid_box)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(10)
        grid_scroll = QScrollArea()
        grid_scroll.setWidgetResizable(True)
        grid_scroll.setFrameShape(QFrame.Shape.NoFrame)
        grid_scroll.setWidget(self.grid_box)
        grid_scroll.setMaximumHeight(220)

        self.note = QLabel()
        self.note.setWordWrap(True)
        self.reset_button = QPushButton()
        self.reset_button.clicked.connect(self.reset)
        note_row = QHBoxLayout()
        note_row.addWidget(self.note, 1)
        note_row.addWidget(self.reset_button)

        self.measure_button = QPushButton()
        self.measure_button.clicked.connect(self.measure)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # indeterminate: a busy indicator
        self.busy.setMaximumWidth(140)
        self.busy.hide()
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        measure_row = QHBoxLayout()
        measure_row.addWidget(self.measure_button)
        measure_row.addWidget(self.busy)
        measure_row.addWidget(self.result_label, 1)

        self.shift_caption = QLabel()
        self.shift_caption.setWordWrap(True)
        self.plot_widget = static_plot(self.tr("probability"), tick_pt=10.0)
        plot = self.plot_widget.getPlotItem()
        self.legend = legend = plot.addLegend(offset=(-10, 10))
        self.before_bars = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.38,
                                           brush=pg.mkBrush(*BEFORE_COLOUR))
        self.after_bars = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.38,
                                          brush=pg.mkBrush(*AFTER_COLOUR))
        plot.addItem(self.before_bars)
        plot.addItem(self.after_bars)
        legend.addItem(self.before_bars, self.tr("intact"))
        legend.addItem(self.after_bars, self.tr("heads ablated"))

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(grid_scroll)
        layout.addLayout(note_row)
        layout.addLayout(measure_row)
        layout.addWidget(self.shift_caption)
        layout.addWidget(self.plot_widget, 1)
        self._retranslate()

    def _retranslate(self) -> None:
        """Every text of the tab in the current language (the shift is re-drawn when shown)."""
        self.intro.setText(self.tr(
            "Tick heads to switch them off: their weighted values (softmax·V) become zero before "
            "the heads are concatenated. Every panel then shows the ablated model."))
        self.reset_button.setText(self.tr("Reset"))
        self.reset_button.setToolTip(self.tr("Switch every head back on"))
        self.measure_button.setText(self.tr("Measure validation loss"))
        plot = self.plot_widget.getPlotItem()
        plot.setLabel("left", self.tr("probability"))
        for bars, text in ((self.before_bars, self.tr("intact")),
                           (self.after_bars, self.tr("heads ablated"))):
            label = self.legend.getLabel(bars)
            if label is not None:
                label.setText(text)
        self.legend.updateSize()
        for layer, label in enumerate(self._block_labels):
            label.setText(self.tr("block {0}").format(layer))
        for (layer, h), box in self._boxes.items():
            box.setToolTip(self.tr("Switch off head {0} of block {1} ({2})").format(
                h, layer, head_name(layer, h)))
        self._update_note()
        self._show_result()
        self._redraw()

    # -- public -------------------------------------------------------------------------------
    def heads(self) -> Heads:
        """(layer, head) pairs ticked, sorted."""
        return sorted(k for k, b in self._boxes.items() if b.isChecked())

    def set_heads(self, heads: Iterable[Sequence[int]]) -> None:
        """Tick exactly these heads and apply the ablation: re-traced on a worker, the trace is
        set on the session when it arrives (see is_updating)."""
        self._tick_only({tuple(h) for h in heads})
        self._apply()

    def checkbox(self, layer: int, head: int) -> QCheckBox:
        return self._boxes[(layer, head)]

    @Slot()
    def reset(self) -> None:
        """Switch every head back on."""
        self.set_heads([])

    def shift(self) -> dict | None:
        """engine.model.lens.next_token_shift of the ticked heads: {'before': [(id, p)], 'after': ...}."""
        self._flush()
        return self._shift

    def result(self) -> dict | None:
        """The last ablation_effect result (with the heads it was measured for)."""
        return self._result

    def is_measuring(self) -> bool:
        return self._worker is not None

    def is_updating(self) -> bool:
        """A re-trace or shift computation is running or waiting."""
        return self._jobs.pending

    @Slot()
    def measure(self) -> None:
        """ablation_effect of the ticked heads on the validation set, on a worker thread."""
        s = self.session
        corpus = getattr(s, "corpus", None)
        if s.model is None or self.is_measuring():
            return
        if corpus is None:
            self._show_result(("no corpus",))
            return
        heads = self.heads()
        worker = FunctionWorker(measure_job, s.model, corpus, heads)
        self._measuring_heads = heads
        # Bound methods (not lambdas): the view is the receiver, so results arrive on its thread.
        worker.returned.connect(self._on_measured, Qt.ConnectionType.QueuedConnection)
        worker.errored.connect(self._on_measure_failed, Qt.ConnectionType.QueuedConnection)
        worker.finished.connect(self._on_measure_finished, Qt.ConnectionType.QueuedConnection)
        self._worker = worker
        self.busy.show()
        self.measure_button.setEnabled(False)
        self._show_result(("measuring", heads))
        self._threads.start(worker, "ablation-measure")

    def shutdown(self) -> None:
        """Abort a measurement, drop the shift jobs, and wait for every thread."""
        self._stop_measuring()
        self._jobs.shutdown()

    # -- following the session ----------------------------------------------------------------
    def on_model_changed(self) -> None:
        """A new model (other heads, maybe): rebuild the grid, forget the old model's answers."""
        self._jobs.reset()
        self._stop_measuring()
        while self.grid.count():
            w = self.grid.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self._boxes = {}
        self._shift = None
        self._shift_trace = None
        self._result = None
        self._show_result(None)
        model = self.session.model
        if model is not None:
            self._build_grid(model.config.n_layer, model.config.n_head)
        self.on_trace_changed()

    def on_trace_changed(self) -> None:
        """Show the truth: the boxes follow the ablation of whatever trace is current."""
        if self._applying:
            return  # our own trace: its shift was drawn with it
        # Someone else's trace: a tick or shift still on its way was made from the old one.
        self._jobs.reset()
        trace = self.session.trace
        self._tick_only(set(trace.ablated) if trace is not None else set())
        self._update_note()
        self._redraw()

    # -- grid ---------------------------------------------------------------------------------
    def _build_grid(self, n_layer: int, n_head: int) -> None:
        self._block_labels = []
        for h in range(n_head):
            label = QLabel(f"H{h}")
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.grid.addWidget(label, 0, h + 1)
        for layer in range(n_layer):
            label = QLabel(self.tr("block {0}").format(layer))
            self._block_labels.append(label)
            self.grid.addWidget(label, layer + 1, 0)
            for h in range(n_head):
                box = QCheckBox()
                box.setToolTip(self.tr("Switch off head {0} of block {1} ({2})").format(
                    h, layer, head_name(layer, h)))
                box.toggled.connect(self._on_toggled)
                self.grid.addWidget(box, layer + 1, h + 1, Qt.AlignmentFlag.AlignCenter)
                self._boxes[(layer, h)] = box
        self.grid.setColumnStretch(n_head + 1, 1)

    def _tick_only(self, heads: set) -> None:
        """Tick exactly `heads` without applying anything."""
        for key, box in self._boxes.items():
            box.blockSignals(True)
            box.setChecked(key in heads)
            box.blockSignals(False)

    def _on_toggled(self, _checked: bool) -> None:
        self._apply()

    def _apply(self) -> None:
        s = self.session
        ids = trace_ids(s)
        self._update_note()
        if s.model is not None and ids.shape[1] > 0:
            self._jobs.submit(shift_job, s.model, ids, self.heads(), True)

    def _names(self, heads: Heads) -> str:
        return head_names(heads) or self.tr("no heads")

    def _update_note(self) -> None:
        heads = self.heads()
        if heads:
            self.note.setText(self.tr("<b>ablated: {0}</b> — every panel now shows the model "
                                      "without these heads.").format(self._names(heads)))
            self.note.setStyleSheet("color: #a04000; background: #fff3e0; padding: 3px;")
        else:
            self.note.setText(self.tr("No head ablated: the panels show the intact model."))
            self.note.setStyleSheet("color: #444; padding: 3px;")
        self.reset_button.setEnabled(bool(heads))
        self.measure_button.setEnabled(bool(heads) and not self.is_measuring())

    # -- the next-token shift -----------------------------------------------------------------
    def _rebuild(self) -> None:
        """Next-token guesses with and without the ticked heads, for the session's trace."""
        s = self.session
        ids = trace_ids(s)
        if s.model is None or ids.shape[1] == 0 or s.tokenizer is None:
            self._shift = self._shift_trace = None
            self._draw_shift()
            return
        if (self._shift is not None and s.trace is not None and self._shift_trace is not None
                and self._shift_trace() is s.trace):
            self._draw_shift()  # computed together with this (our own ablated) trace
            return
        self._jobs.submit(shift_job, s.model, ids, self.heads(), False)

    @Slot(str, object)
    def _on_shift_done(self, _key: str, result: ShiftResult) -> None:
        self._shift = result.shift
        trace = result.trace if result.trace is not None else self.session.trace
        self._shift_trace = weakref.ref(trace) if trace is not None else None
        if result.trace is not None:
            self._applying = True
            try:
                self.session.set_trace(result.trace)
            finally:
                self._applying = False
            self._update_note()
        self._draw_shift()

    @Slot(str, object)
    def _on_shift_failed(self, _key: str, exc: BaseException) -> None:
        self.shift_caption.setText(self.tr("Could not apply the ablation: {0}").format(exc))

    def _draw_shift(self) -> None:
        plot = self.plot_widget.getPlotItem()
        tok = self.session.tokenizer
        if self._shift is None or tok is None:
            for bars in (self.before_bars, self.after_bars):
                bars.setOpts(x=np.zeros(0), height=np.zeros(0))
            plot.getAxis("bottom").setTicks([[]])
            self.shift_caption.clear()
            return
        bars = shift_bars(self._shift)
        self.before_bars.setOpts(x=bars.before_x, height=bars.before_height, width=0.38)
        self.after_bars.setOpts(x=bars.after_x, height=bars.after_height, width=0.38)
        plot.getAxis("bottom").setTicks(
            [[(float(i), piece(tok, t)) for i, t in enumerate(bars.order)]])
        plot.setXRange(-0.7, max(len(bars.order), 1) - 0.3, padding=0)
        plot.setYRange(0, max(bars.top * 1.15, 0.05), padding=0)
        last = self.session.trace.ids.shape[1] - 1 if self.session.trace is not None else 0
        self.shift_caption.setText(self.tr(
            "<b>Next-token guesses after the last position ({0})</b>: intact model (blue) vs. "
            "with {1} switched off (orange); top {2} of each.").format(
            last, self._names(self.heads()), SHIFT_TOP_K))

    # -- measuring ----------------------------------------------------------------------------
    def _stop_measuring(self) -> None:
        self._threads.stop(self._worker)
        self._worker = None
        self.busy.hide()

    def _on_measured(self, result: dict) -> None:
        if self.sender() is not self._worker:
            return  # a measurement stopped by a new model, answering late
        self._result = dict(result, heads=list(self._measuring_heads))
        self._show_result(("result",))
        self.measured.emit(self._result)

    def _on_measure_failed(self, exc: BaseException) -> None:
        if self.sender() is not self._worker:
            return
        self._show_result(("failed", exc))

    def _show_result(self, state: tuple | None | bool = False) -> None:
        """Say `state` on the result line (False: say the current one again, in the current
        language)."""
        if state is not False:
            self._result_state = state
        state = self._result_state
        if state is None:
            self.result_label.clear()
        elif state[0] == "no corpus":
            self.result_label.setText(self.tr(
                "No tokenized corpus yet: open a text (or start training) so there is a "
                "validation set to measure on."))
        elif state[0] == "measuring":
            self.result_label.setText(self.tr(
                "Measuring the validation loss with and without {0}…").format(
                self._names(state[1])))
        elif state[0] == "failed":
            self.result_label.setText(self.tr("Could not measure: {0}").format(state[1]))
        elif self._result is not None:
            r = self._result
            base, abl = r["base_val_loss"], r["ablated_val_loss"]
            change = abl - base
            rel = change / base * 100 if base else float("nan")
            colour = "#b00020" if change > 0 else "#1b5e20"
            self.result_label.setText(self.tr(
                "Validation loss (10 batches × 8 windows, seed 0): intact <b>{0:.4f}</b> → "
                "without {1} <b>{2:.4f}</b>, change <b style='color:{3}'>{4:+.4f}</b> "
                "({5:+.1f}%)").format(base, self._names(r["heads"]), abl, colour, change, rel))

    def _on_measure_finished(self) -> None:
        if self.sender() is not self._worker:
            return
        self._worker = None
        self.busy.hide()
        self._update_note()
