"""Looking inside the predictions: the logit lens, head ablation and the loss of every token.

- Logit lens: the residual stream after the embedding and after each block, decoded through the
  model's own final path (engine.lens.logit_lens), so a prediction can be watched forming.
- Head ablation: tick heads to zero their weighted values; the whole app then shows the ablated
  model (the panel re-traces with `ablate=` and sets the session's trace), the next-token
  distribution before/after, and on request the validation loss with and without them.
- Per-token loss: each token of the context coloured by how surprised the model was to see it.

All numbers come from engine functions, run on private copies of the model so that nothing here
can interfere with a trace another thread is running on the session's model. The ablation's
re-trace, next-token shift and loss measurement run on worker threads; the GUI thread only
applies their results, and only the newest request's.
"""
from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QPointF,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from engine.lens import ablation_effect, logit_lens, next_token_shift, per_token_loss
from engine.model import GPT
from engine.trace import run_trace
from gui.workers import PanelThreads
from gui.session import Session
from gui.widgets import EmptyState, on_screen, static_plot
from gui.workers import FunctionWorker

LENS_CMAP = pg.ColorMap([0.0, 1.0], [(255, 255, 255), (33, 102, 172)])  # p = 0 white, 1 blue
LOSS_CMAP = pg.ColorMap([0.0, 0.35, 0.7, 1.0],
                        [(200, 240, 205), (255, 240, 160), (250, 150, 90), (205, 45, 45)])
BEFORE_COLOUR = (120, 150, 200)
AFTER_COLOUR = (235, 130, 40)
SHIFT_TOP_K = 8  # next-token guesses drawn per side in the ablation chart


def head_name(layer: int, head: int) -> str:
    """'L0H1': the short name of a head used in notes and tooltips."""
    return f"L{layer}H{head}"


class _ModelCopy:
    """The panel's private copy of session.model, refreshed lazily after the weights change."""

    def __init__(self, session: Session):
        self.session = session
        self._copy: GPT | None = None

    def invalidate(self) -> None:
        self._copy = None

    def get(self) -> GPT | None:
        if self.session.model is None:
            return None
        if self._copy is None:
            self._copy = self.session.model
        return self._copy


def _trace_ids(session: Session) -> np.ndarray:
    """The ids the session's trace was made from (B, T), else the context (1, T)."""
    if session.trace is not None:
        return session.trace.ids
    ids = session.context_ids()
    return ids[None] if len(ids) else np.zeros((1, 0), dtype=np.int64)


def _text_colour(c: QColor) -> QColor:
    lum = 0.299 * c.red() + 0.587 * c.green() + 0.114 * c.blue()
    return QColor(255, 255, 255) if lum < 140 else QColor(20, 20, 20)


# =============================================================================================
# Logit lens


class LensView(QWidget):
    """For one position: a table of depth (rows) × top-k guesses for the next token."""

    def __init__(self, session: Session, models: _ModelCopy, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._models = models
        self._rows = []
        self._ids: list[int] = []

        self.position_combo = QComboBox()
        self.position_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.position_combo.setMaxVisibleItems(20)
        self.position_combo.currentIndexChanged.connect(self.refresh)
        self.top_k_spin = QSpinBox()
        self.top_k_spin.setRange(1, 10)
        self.top_k_spin.setValue(5)
        self.top_k_spin.valueChanged.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Position:")))
        top.addWidget(self.position_combo)
        top.addSpacing(12)
        top.addWidget(QLabel(self.tr("Top-k:")))
        top.addWidget(self.top_k_spin)
        top.addStretch(1)

        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        font = QFont()
        font.setPointSizeF(10.5)
        self.table.setFont(font)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #444;")

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.caption)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)

    # -- public -------------------------------------------------------------------------------
    def position(self) -> int:
        return max(self.position_combo.currentIndex(), 0)

    def set_position(self, position: int) -> None:
        self.position_combo.setCurrentIndex(position)

    def rows(self):
        """The LensRows shown (label, top [(id, p)]), shallowest first."""
        return list(self._rows)

    def cell_text(self, row: int, col: int) -> str:
        item = self.table.item(row, col)
        return item.text() if item is not None else ""

    # -- drawing ------------------------------------------------------------------------------
    def on_trace_changed(self) -> None:
        s = self.session
        tok = s.tokenizer
        ids = [] if s.trace is None else s.trace.ids[0].tolist()
        if ids != self._ids:
            old = self.position_combo.currentIndex()
            at_end = old < 0 or old == len(self._ids) - 1
            self._ids = ids
            self.position_combo.blockSignals(True)
            self.position_combo.clear()
            pieces = tok.pieces(ids) if tok is not None else [str(i) for i in ids]
            self.position_combo.addItems([f"{t}  {p}" for t, p in enumerate(pieces)])
            if ids:
                self.position_combo.setCurrentIndex(len(ids) - 1 if at_end else min(old, len(ids) - 1))
            self.position_combo.blockSignals(False)
        self.refresh()

    def refresh(self, *_args) -> None:
        s = self.session
        model = self._models.get()
        if model is None or s.trace is None or not self._ids:
            self._rows = []
            self.table.setRowCount(0)
            self.caption.setText(self.tr("No trace yet: type a context to see the lens."))
            return
        tok = s.tokenizer
        pos = self.position()
        k = self.top_k_spin.value()
        try:
            self._rows = logit_lens(model, s.trace, pos, top_k=k)
        except (KeyError, IndexError, RuntimeError) as exc:
            self._rows = []
            self.table.setRowCount(0)
            self.caption.setText(self.tr("The lens cannot read this trace: {0}").format(exc))
            return
        actual = self._ids[pos + 1] if pos + 1 < len(self._ids) else None
        self.table.setRowCount(len(self._rows))
        self.table.setColumnCount(k)
        self.table.setHorizontalHeaderLabels([self.tr("guess {0}").format(i + 1) for i in range(k)])
        self.table.setVerticalHeaderLabels([r.label for r in self._rows])
        bold = QFont(self.table.font())
        bold.setBold(True)
        for r, row in enumerate(self._rows):
            for c in range(k):
                if c >= len(row.top):
                    self.table.setItem(r, c, QTableWidgetItem(""))
                    continue
                tid, p = row.top[c]
                piece = tok.piece(tid)
                mark = "  ✓" if tid == actual else ""
                item = QTableWidgetItem(f"{piece}   {p:.3f}{mark}")
                colour = LENS_CMAP.map(np.array([min(max(p, 0.0), 1.0)]), mode="qcolor")[0]
                item.setBackground(colour)
                item.setForeground(_text_colour(colour))
                if tid == actual:
                    item.setFont(bold)
                item.setToolTip(self.tr("{0}: id {1}, piece '{2}', p = {3:.6f}").format(
                    row.label, tid, piece, p))
                self.table.setItem(r, c, item)
        here = tok.piece(self._ids[pos])
        nxt = self.tr("the next token is '{0}' (✓)").format(tok.piece(actual)) if actual is not None \
            else self.tr("the last position: its guess is what generation would sample from")
        self.caption.setText(self.tr(
            "<b>What the model would predict after position {0} ('{1}')</b>, read from the "
            "residual stream after the embedding and after each block; <b>final</b> is the "
            "model's real prediction. Here {2}.").format(pos, html.escape(here), html.escape(nxt)))
        self.note.setText(self._consistency_note(pos))

    def _consistency_note(self, pos: int) -> str:
        """Warn when the trace was made by other weights than the model decoding it."""
        trace = self.session.trace
        if not self._rows or "probs" not in trace:
            return ""
        probs = trace.values("probs")[0, pos]  # (V,) the trace's own prediction
        final = self._rows[-1].top
        if all(abs(float(probs[i]) - p) < 1e-4 for i, p in final):
            note = self.tr("Cell colour: probability (white 0 → blue 1).")
            if trace.ablated:
                note += " " + self.tr("Heads ablated in this trace: {0}.").format(
                    ", ".join(head_name(*h) for h in trace.ablated))
            return note
        return self.tr("⚠ The trace comes from other weights than the current model (e.g. a "
                       "training snapshot); the lens decodes it with the current model's final "
                       "layer, so its rows are only approximate.")


# =============================================================================================
# Head ablation


def _shift_job(report, model: GPT, ids: np.ndarray, heads: list[tuple[int, int]],
               retrace: bool) -> dict:
    """Worker side of a tick: the ablated trace of `ids` (if asked) and the next-token shift."""
    report(0, 1)
    trace = run_trace(model, ids, ablate=heads) if retrace else None
    shift = next_token_shift(model, ids[0], heads, top_k=SHIFT_TOP_K)
    return {"trace": trace, "shift": shift}


def _measure_job(report, model: GPT, corpus, heads: list[tuple[int, int]]) -> dict:
    report(0, 1)
    result = ablation_effect(model, corpus, heads)
    report(1, 1)
    return result


class AblationView(QWidget):
    """A layer × head grid of checkboxes; ticked heads are zeroed in the session's trace."""

    measured = Signal(dict)  # the ablation_effect result shown last

    def __init__(self, session: Session, models: _ModelCopy, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._models = models  # used by one shift job at a time, on its worker thread only
        self._boxes: dict[tuple[int, int], QCheckBox] = {}
        self._worker: FunctionWorker | None = None  # measuring the validation loss
        self._threads = PanelThreads()
        self._shift_worker: FunctionWorker | None = None  # re-tracing / computing the shift
        self._shift_req = 0  # newest shift request; results of older ones are dropped
        self._shift_running: tuple | None = None  # (request, trace it was made from)
        self._shift_pending: tuple | None = None  # (request, trace, ids, heads, retrace)
        self._shift: dict | None = None
        self._shift_trace = None  # the session trace `_shift` belongs to
        self._result: dict | None = None
        self._applying = False
        self._measuring_heads: list[tuple[int, int]] = []

        intro = QLabel(self.tr(
            "Tick heads to switch them off: their weighted values (softmax·V) become zero before "
            "the heads are concatenated. Every panel then shows the ablated model."))
        intro.setWordWrap(True)
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
        self.reset_button = QPushButton(self.tr("Reset"))
        self.reset_button.setToolTip(self.tr("Switch every head back on"))
        self.reset_button.clicked.connect(self.reset)
        note_row = QHBoxLayout()
        note_row.addWidget(self.note, 1)
        note_row.addWidget(self.reset_button)

        self.measure_button = QPushButton(self.tr("Measure validation loss"))
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
        legend = plot.addLegend(offset=(-10, 10))
        self.before_bars = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.38,
                                           brush=pg.mkBrush(*BEFORE_COLOUR))
        self.after_bars = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.38,
                                          brush=pg.mkBrush(*AFTER_COLOUR))
        plot.addItem(self.before_bars)
        plot.addItem(self.after_bars)
        legend.addItem(self.before_bars, self.tr("intact"))
        legend.addItem(self.after_bars, self.tr("heads ablated"))

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(grid_scroll)
        layout.addLayout(note_row)
        layout.addLayout(measure_row)
        layout.addWidget(self.shift_caption)
        layout.addWidget(self.plot_widget, 1)

    # -- public -------------------------------------------------------------------------------
    def heads(self) -> list[tuple[int, int]]:
        """(layer, head) pairs ticked, sorted."""
        return sorted(k for k, b in self._boxes.items() if b.isChecked())

    def set_heads(self, heads) -> None:
        """Tick exactly these heads and apply the ablation: re-traced on a worker, the trace is
        set on the session when it arrives (see is_updating)."""
        wanted = {tuple(h) for h in heads}
        for key, box in self._boxes.items():
            box.blockSignals(True)
            box.setChecked(key in wanted)
            box.blockSignals(False)
        self._apply()

    def checkbox(self, layer: int, head: int) -> QCheckBox:
        return self._boxes[(layer, head)]

    @Slot()
    def reset(self) -> None:
        self.set_heads([])

    def shift(self) -> dict | None:
        """engine.lens.next_token_shift of the ticked heads: {'before': [(id, p)], 'after': ...}."""
        return self._shift

    def result(self) -> dict | None:
        """The last ablation_effect result (with the heads it was measured for)."""
        return self._result

    def is_measuring(self) -> bool:
        return self._worker is not None

    def is_updating(self) -> bool:
        """A re-trace or shift computation is running or waiting."""
        return self._shift_worker is not None or self._shift_pending is not None

    @Slot()
    def measure(self) -> None:
        """ablation_effect of the ticked heads on the validation set, on a worker thread."""
        s = self.session
        corpus = getattr(s, "corpus", None)
        if s.model is None or self.is_measuring():
            return
        if corpus is None:
            self.result_label.setText(self.tr(
                "No tokenized corpus yet: open a text (or start training) so there is a "
                "validation set to measure on."))
            return
        heads = self.heads()
        worker = FunctionWorker(_measure_job, s.model, corpus, heads)
        self._measuring_heads = heads
        # Bound methods (not lambdas): the panel is the receiver, so results arrive on its thread.
        worker.returned.connect(self._on_measured, Qt.ConnectionType.QueuedConnection)
        worker.errored.connect(self._on_measure_failed, Qt.ConnectionType.QueuedConnection)
        worker.finished.connect(self._on_measure_finished, Qt.ConnectionType.QueuedConnection)
        self._worker = worker
        self.busy.show()
        self.measure_button.setEnabled(False)
        self.result_label.setText(self.tr("Measuring the validation loss with and without {0}…"
                                          ).format(self._names(heads)))
        self._threads.start(worker, "ablation-measure")

    def shutdown(self) -> None:
        """Abort a measurement and a shift job, drop waiting requests, and wait for the threads."""
        self._shift_pending = None
        self._shift_req += 1  # whatever is still on its way is stale now
        if self._shift_worker is not None:
            self._shift_worker.quit()
        self._threads.stop(self._worker)
        self._worker = None
        self._shift_worker = None
        self._shift_running = None

    # -- grid ---------------------------------------------------------------------------------
    def on_model_changed(self) -> None:
        self.shutdown()
        while self.grid.count():
            w = self.grid.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self._boxes = {}
        self._shift = None
        self._shift_trace = None
        self._result = None
        self.result_label.clear()
        model = self.session.model
        if model is None:
            return
        L, H = model.config.n_layer, model.config.n_head
        for h in range(H):
            label = QLabel(f"H{h}")
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.grid.addWidget(label, 0, h + 1)
        for layer in range(L):
            self.grid.addWidget(QLabel(self.tr("block {0}").format(layer)), layer + 1, 0)
            for h in range(H):
                box = QCheckBox()
                box.setToolTip(self.tr("Switch off head {0} of block {1} ({2})").format(
                    h, layer, head_name(layer, h)))
                box.toggled.connect(self._on_toggled)
                self.grid.addWidget(box, layer + 1, h + 1, Qt.AlignmentFlag.AlignCenter)
                self._boxes[(layer, h)] = box
        self.grid.setColumnStretch(H + 1, 1)
        self.on_trace_changed()

    def on_trace_changed(self) -> None:
        """Show the truth: the boxes follow the ablation of whatever trace is current."""
        if self._applying:
            return
        # Someone else's trace: a tick or shift still on its way was made from the old one.
        self._shift_pending = None
        self._shift_req += 1
        trace = self.session.trace
        ablated = set(trace.ablated) if trace is not None else set()
        for key, box in self._boxes.items():
            box.blockSignals(True)
            box.setChecked(key in ablated)
            box.blockSignals(False)
        self._update_note()

    def _on_toggled(self, _checked: bool) -> None:
        self._apply()

    def _apply(self) -> None:
        s = self.session
        ids = _trace_ids(s)
        self._update_note()
        if s.model is not None and ids.shape[1] > 0:
            self._request_shift(ids, retrace=True)

    def _names(self, heads) -> str:
        return ", ".join(head_name(*h) for h in heads) if heads else self.tr("no heads")

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

    def update_shift(self) -> None:
        """Next-token guesses with and without the ticked heads, for the session's trace."""
        s = self.session
        ids = _trace_ids(s)
        if s.model is None or ids.shape[1] == 0 or s.tokenizer is None:
            self._shift = self._shift_trace = None
            self._draw_shift()
            return
        if self._shift is not None and s.trace is not None and self._shift_trace is s.trace:
            self._draw_shift()  # computed together with this (our own ablated) trace
            return
        self._request_shift(ids, retrace=False)

    # -- shift jobs ---------------------------------------------------------------------------
    def _request_shift(self, ids: np.ndarray, retrace: bool) -> None:
        """Queue a shift job (re-tracing with the ticked heads when `retrace`); the newest
        request replaces a waiting one and makes a running one's result stale."""
        self._shift_req += 1
        self._shift_pending = (self._shift_req, self.session.trace, ids, self.heads(), retrace)
        if self._shift_worker is None:
            self._start_shift()

    def _start_shift(self) -> None:
        job, self._shift_pending = self._shift_pending, None
        model = self._models.get()
        if job is None or model is None:
            return
        req, base, ids, heads, retrace = job
        worker = FunctionWorker(_shift_job, model, ids, heads, retrace)
        worker.returned.connect(self._on_shift_done, Qt.ConnectionType.QueuedConnection)
        worker.errored.connect(self._on_shift_failed, Qt.ConnectionType.QueuedConnection)
        worker.finished.connect(self._on_shift_finished, Qt.ConnectionType.QueuedConnection)
        self._shift_worker = worker
        self._shift_running = (req, base)
        self._threads.start(worker, "ablation-shift")

    def _shift_is_current(self) -> bool:
        """The running job is the newest request and its trace is still the session's."""
        if self.sender() is not self._shift_worker or self._shift_running is None:
            return False
        req, base = self._shift_running
        return req == self._shift_req and base is self.session.trace

    def _on_shift_done(self, result: dict) -> None:
        if not self._shift_is_current():
            return
        trace = result["trace"]
        self._shift = result["shift"]
        self._shift_trace = trace if trace is not None else self.session.trace
        if trace is not None:
            self._applying = True
            try:
                self.session.set_trace(trace)
            finally:
                self._applying = False
            self._update_note()
        self._draw_shift()

    def _on_shift_failed(self, exc: BaseException) -> None:
        if not self._shift_is_current():
            return
        self.shift_caption.setText(self.tr("Could not apply the ablation: {0}").format(exc))

    def _on_shift_finished(self) -> None:
        if self.sender() is not self._shift_worker:
            return  # a job stopped by shutdown() whose last signal arrives late
        self._shift_worker = None
        self._shift_running = None
        self._start_shift()

    def _draw_shift(self) -> None:
        plot = self.plot_widget.getPlotItem()
        tok = self.session.tokenizer
        if self._shift is None or tok is None:
            for bars in (self.before_bars, self.after_bars):
                bars.setOpts(x=np.zeros(0), height=np.zeros(0))
            plot.getAxis("bottom").setTicks([[]])
            self.shift_caption.clear()
            return
        before = dict(self._shift["before"])
        after = dict(self._shift["after"])
        # Tokens in the order of the intact model's guesses, then any that only ablation brings.
        order = [i for i, _ in self._shift["before"]]
        order += [i for i, _ in self._shift["after"] if i not in before]
        x = np.arange(len(order), dtype=np.float64)
        hb = np.array([before.get(i, np.nan) for i in order])
        ha = np.array([after.get(i, np.nan) for i in order])
        # A token outside one side's top-k has no bar there (its probability was not reported).
        self.before_bars.setOpts(x=x[~np.isnan(hb)] - 0.2, height=hb[~np.isnan(hb)], width=0.38)
        self.after_bars.setOpts(x=x[~np.isnan(ha)] + 0.2, height=ha[~np.isnan(ha)], width=0.38)
        plot.getAxis("bottom").setTicks([[(float(i), tok.piece(t)) for i, t in enumerate(order)]])
        top = np.nanmax(np.concatenate([hb, ha])) if len(order) else 1.0
        plot.setXRange(-0.7, max(len(order), 1) - 0.3, padding=0)
        plot.setYRange(0, max(float(top) * 1.15, 0.05), padding=0)
        last = self.session.trace.ids.shape[1] - 1 if self.session.trace is not None else 0
        self.shift_caption.setText(self.tr(
            "<b>Next-token guesses after the last position ({0})</b>: intact model (blue) vs. "
            "with {1} switched off (orange); top {2} of each.").format(
            last, self._names(self.heads()), SHIFT_TOP_K))

    # -- measuring ----------------------------------------------------------------------------
    def _on_measured(self, result: dict) -> None:
        if self.sender() is not self._worker:
            return
        heads = self._measuring_heads
        base, abl = result["base_val_loss"], result["ablated_val_loss"]
        self._result = dict(result, heads=list(heads))
        change = abl - base
        rel = change / base * 100 if base else float("nan")
        colour = "#b00020" if change > 0 else "#1b5e20"
        self.result_label.setText(self.tr(
            "Validation loss (10 batches × 8 windows, seed 0): intact <b>{0:.4f}</b> → without "
            "{1} <b>{2:.4f}</b>, change <b style='color:{3}'>{4:+.4f}</b> ({5:+.1f}%)").format(
            base, self._names(heads), abl, colour, change, rel))
        self.measured.emit(self._result)

    def _on_measure_failed(self, exc: BaseException) -> None:
        if self.sender() is not self._worker:
            return
        self.result_label.setText(self.tr("Could not measure: {0}").format(exc))

    def _on_measure_finished(self) -> None:
        if self.sender() is not self._worker:
            return
        self._worker = None
        self.busy.hide()
        self._update_note()


# =============================================================================================
# Per-token loss


class TokenLossStrip(QWidget):
    """The context as a flow of token boxes, each filled with the colour of its loss."""

    PAD_X, PAD_Y, GAP = 4.0, 3.0, 3.0

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        font = QFont()
        font.setPointSizeF(14.0)
        self.setFont(font)
        self._pieces: list[str] = []
        self._colours: list[QColor | None] = []
        self._tips: list[str] = []
        self._rects: list[QRectF] = []
        self._laid_out_width = -1
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_tokens(self, pieces: list[str], colours: list[QColor | None], tips: list[str]) -> None:
        self._pieces, self._colours, self._tips = pieces, colours, tips
        self._laid_out_width = -1
        self._layout(self.width())
        self.update()

    def tooltip_for(self, index: int) -> str:
        return self._tips[index]

    def token_at(self, pos: QPointF) -> int | None:
        for i, r in enumerate(self._rects):
            if r.contains(pos):
                return i
        return None

    def token_rect(self, index: int) -> QRectF:
        return QRectF(self._rects[index])

    def _layout(self, width: int) -> None:
        width = max(width, 80)
        if width == self._laid_out_width:
            return
        fm = QFontMetricsF(self.font())
        h = fm.height() + 2 * self.PAD_Y
        x = y = self.GAP
        rects = []
        for piece in self._pieces:
            w = fm.horizontalAdvance(piece) + 2 * self.PAD_X
            if x + w > width - self.GAP and x > self.GAP:
                x, y = self.GAP, y + h + self.GAP
            rects.append(QRectF(x, y, w, h))
            x += w + self.GAP
        self._rects = rects
        self._laid_out_width = width
        self.setMinimumHeight(int(y + h + self.GAP + 1) if rects else 0)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self._layout(event.size().width())
        super().resizeEvent(event)

    def sizeHint(self) -> QSize:
        return QSize(400, max(self.minimumHeight(), 60))

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        self._layout(self.width())
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        border = QPen(QColor(160, 160, 160))
        for piece, colour, rect in zip(self._pieces, self._colours, self._rects):
            fill = colour if colour is not None else QColor(235, 235, 235)
            p.setPen(border)
            p.setBrush(fill)
            p.drawRoundedRect(rect, 3, 3)
            p.setPen(_text_colour(fill) if colour is not None else QColor(120, 120, 120))
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, piece)
        p.end()

    def event(self, e) -> bool:
        if e.type() == QEvent.Type.ToolTip:
            i = self.token_at(QPointF(e.pos()))
            if i is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(e.globalPos(), self._tips[i], self)
            return True
        return super().event(e)


class LossScale(QWidget):
    """A horizontal colour bar from loss 0 to `high`, with ticks and the uniform-guess mark."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._high = 1.0
        self._uniform: float | None = None
        self.setMinimumHeight(44)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_scale(self, high: float, uniform: float | None) -> None:
        self._high, self._uniform = max(high, 1e-6), uniform
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        fm = p.fontMetrics()
        left, right = 10.0, self.width() - 10.0
        bar = QRectF(left, 4, right - left, 14)
        grad = QLinearGradient(bar.topLeft(), bar.topRight())
        for pos, colour in zip(LOSS_CMAP.pos, LOSS_CMAP.getColors(mode="qcolor")):
            grad.setColorAt(float(pos), colour)
        p.fillRect(bar, grad)
        p.setPen(QColor(120, 120, 120))
        p.drawRect(bar)
        p.setPen(QColor(30, 30, 30))
        step = _nice_step(self._high)
        v = 0.0
        while v <= self._high + 1e-9:
            x = left + (right - left) * v / self._high
            p.drawLine(QPointF(x, bar.bottom()), QPointF(x, bar.bottom() + 4))
            label = f"{v:g}"
            p.drawText(QPointF(x - fm.horizontalAdvance(label) / 2, bar.bottom() + 6 + fm.ascent()), label)
            v += step
        if self._uniform is not None and self._uniform <= self._high:
            x = left + (right - left) * self._uniform / self._high
            p.setPen(QPen(QColor(0, 0, 0), 2))
            p.drawLine(QPointF(x, bar.top() - 2), QPointF(x, bar.bottom() + 2))
        p.end()


def _nice_step(high: float) -> float:
    raw = high / 6
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 2.5, 5, 10):
        if m * mag >= raw:
            return m * mag
    return 10 * mag


class LossView(QWidget):
    """The context coloured by each token's loss (cross-entropy of predicting it)."""

    def __init__(self, session: Session, models: _ModelCopy, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._models = models
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

    def losses(self) -> np.ndarray:
        """Loss (T-1,) of token t+1 given tokens 0..t, as shown."""
        return self._loss.copy()

    def colours(self) -> list[QColor]:
        """One colour per predicted token (T-1 of them), in order."""
        return list(self._colours)

    def refresh(self) -> None:
        s = self.session
        tok = s.tokenizer
        model = self._models.get()
        ids = _trace_ids(s)[0] if s.model is not None else np.zeros(0, dtype=np.int64)
        if model is None or tok is None or len(ids) < 2:
            self._loss = np.zeros(0, dtype=np.float32)
            self._colours = []
            self.strip.set_tokens([], [], [])
            self.loss_bars.setOpts(x=np.zeros(0), height=np.zeros(0), brushes=[])
            self.caption.setText(self.tr("Per-token loss needs a context of at least 2 tokens."))
            self.summary.clear()
            return
        self._loss = per_token_loss(model, ids)
        uniform = math.log(tok.vocab_size)
        high = max(float(self._loss.max()), uniform)
        self._colours = list(LOSS_CMAP.map(np.clip(self._loss / high, 0, 1), mode="qcolor"))
        pieces = tok.pieces(ids)
        tips = [self.tr("position 0 '{0}': the first token, nothing predicts it").format(pieces[0])]
        for t, loss in enumerate(self._loss.tolist(), start=1):
            tips.append(self.tr(
                "position {0}: target '{1}' (id {2}) predicted from tokens 0–{3}\n"
                "loss = −ln p(target) = {4:.4f}   (p = {5:.4f})").format(
                t, pieces[t], int(ids[t]), t - 1, loss, math.exp(-loss)))
        self.strip.set_tokens(pieces, [None, *self._colours], tips)
        self.scale.set_scale(high, uniform)
        x = np.arange(1, len(ids), dtype=np.float64)
        self.loss_bars.setOpts(x=x, height=self._loss, width=0.8,
                               brushes=[pg.mkBrush(c) for c in self._colours])
        self.uniform_line.setPos(uniform)
        plot = self.plot_widget.getPlotItem()
        plot.setXRange(0.4, len(ids) - 0.4, padding=0)
        plot.setYRange(0, high * 1.08, padding=0)
        step = max(1, len(ids) // 40)
        plot.getAxis("bottom").setTicks(
            [[(float(t), f"{pieces[t]}\n{t}") for t in range(1, len(ids), step)]])
        self.caption.setText(self.tr(
            "<b>How surprised the current model is by each token of the context</b>: the loss "
            "of predicting it from the tokens before it (green: expected, red: surprising). "
            "Hover a token for its loss and target."))
        if s.trace is not None and s.trace.ablated:
            self.caption.setText(self.caption.text() + self.tr(
                " Computed with every head on (the ablation applies to the trace only)."))
        self.scale_label.setText(self.tr(
            "Colour scale: loss 0 → {0:.2f}. The black mark is ln(vocabulary) = {1:.2f}, the "
            "loss of a uniform guess over {2} tokens.").format(high, uniform, tok.vocab_size))
        worst = int(np.argmax(self._loss))
        self.summary.setText(self.tr(
            "Mean loss {0:.4f} over {1} predictions · most surprising: '{2}' at position {3} "
            "(loss {4:.3f})").format(float(self._loss.mean()), len(self._loss),
                                      pieces[worst + 1], worst + 1, float(self._loss[worst])))


# =============================================================================================


class InsightsPanel(QWidget):
    """Three tabs: Logit lens, Head ablation, Per-token loss."""

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._models = _ModelCopy(session)  # lens and loss, on the GUI thread
        self._job_models = _ModelCopy(session)  # ablation jobs, on their worker thread
        self._stale = {0: True, 1: True, 2: True}

        self.lens = LensView(session, self._models)
        self.ablation = AblationView(session, self._job_models)
        self.loss = LossView(session, self._models)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.lens, self.tr("Logit lens"))
        self.tabs.addTab(self.ablation, self.tr("Head ablation"))
        self.tabs.addTab(self.loss, self.tr("Per-token loss"))
        self.tabs.currentChanged.connect(self._refresh_current)
        self.empty = EmptyState(self.tabs, self.tr(
            "No model yet: open or train a model and type a context to look inside its "
            "predictions."))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.empty)

        session.model_changed.connect(self._on_model_changed)
        session.weights_changed.connect(self._on_weights_changed)
        session.trace_changed.connect(self._on_trace_changed)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._on_model_changed()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self._refresh_current()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().paintEvent(event)
        # Painted with a stale tab: the dock was brought to the front (Qt moves tabbed-away
        # docks out of the window instead of hiding them). Refreshed right after the paint.
        if self._stale.get(self.tabs.currentIndex(), False):
            QTimer.singleShot(0, self, self._refresh_current)

    def shutdown(self) -> None:
        """Stop the ablation's workers, if any, and wait for their threads."""
        self.ablation.shutdown()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.shutdown()
        super().closeEvent(event)

    @Slot()
    def _on_model_changed(self) -> None:
        self._models.invalidate()
        self._job_models.invalidate()
        s = self.session
        if s.model is None or s.tokenizer is None:
            self.empty.show_empty()
        else:
            self.empty.show_content()
        self.ablation.on_model_changed()
        self._on_trace_changed()

    @Slot()
    def _on_weights_changed(self) -> None:
        self._models.invalidate()
        self._job_models.invalidate()

    @Slot()
    def _on_trace_changed(self) -> None:
        # The ablation tab always follows (its boxes mirror the trace); the others only when seen.
        self.ablation.on_trace_changed()
        self._stale = {0: True, 1: True, 2: True}
        self._refresh_current()

    def _refresh_current(self, *_args) -> None:
        i = self.tabs.currentIndex()
        if not self._stale.get(i, False):
            return
        if self.isVisible() and not on_screen(self):
            # Its dock is behind another tab (measured ~85 ms per trace, mostly the model copy
            # and the lens): done when the panel is next painted. A panel outside any window
            # still refreshes at once, so its accessors always read the current trace.
            return
        self._stale[i] = False
        if i == 0:
            self.lens.on_trace_changed()
        elif i == 1:
            self.ablation.update_shift()
        elif i == 2:
            self.loss.refresh()
