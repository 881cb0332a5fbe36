"""Training history: scrub through the weight snapshots taken during training and watch the same
context through the model as it was at each step.

Moving the slider loads that snapshot's weights into the panel's own copy of the model on a worker
thread, traces the current context and sets the session's trace, so every other panel (attention,
embeddings, walkthrough) shows the model of that step. A compare mode puts one head's attention
pattern at two steps side by side, with their difference; a short sample (fixed seed) shows what
the model wrote at that step.

Scrubbing stays snappy: slider moves are throttled, loaded state dicts and traces are kept in
small LRU caches, jobs run one at a time and only the newest request of each kind is run and
applied (an older result that still arrives is dropped).
"""
from __future__ import annotations

import copy
import html
import threading
import time
from collections import OrderedDict
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engine.model import GPT
from engine.sample import generate
from engine.trace import Trace, run_trace
from gui.panels.generation import first_line
from gui.workers import PanelThreads
from gui.session import Session
from gui.widgets import PATTERN_CMAP, SIGNED_CMAP, EmptyState, Heatmap
from gui.workers import GeneratorWorker

THROTTLE_MS = 60  # while dragging, at most one load request per this many ms
STATE_CACHE = 4  # loaded snapshot state dicts kept in memory
TRACE_CACHE = 12  # traces kept, keyed by (step, context ids)
SAMPLE_TOKENS = 48
SAMPLE_SEED = 0
SAMPLE_TEMPERATURE = 0.8
SAMPLE_TOP_K = 40


class SnapshotCache:
    """LRU caches of snapshot state dicts, metrics, traces and samples of one SnapshotStore.

    Used from the worker thread (jobs run one at a time) and cleared from the GUI thread, so
    every access takes the lock.
    """

    def __init__(self, store, max_states: int = STATE_CACHE, max_traces: int = TRACE_CACHE):
        self.store = store
        self.max_states, self.max_traces = max_states, max_traces
        self._lock = threading.Lock()
        self._states: OrderedDict[int, dict] = OrderedDict()
        self._traces: OrderedDict[tuple, Trace] = OrderedDict()
        self._metrics: dict[int, dict] = {}
        self.samples: dict[int, str] = {}
        self.loads = 0  # snapshot files read from disk (for tests and timing)

    def state(self, step: int) -> dict:
        with self._lock:
            if step in self._states:
                self._states.move_to_end(step)
                return self._states[step]
        state = self.store.load(step)
        with self._lock:
            self.loads += 1
            self._states[step] = state
            while len(self._states) > self.max_states:
                self._states.popitem(last=False)
        return state

    def metrics(self, step: int) -> dict:
        with self._lock:
            if step in self._metrics:
                return self._metrics[step]
        try:
            m = self.store.metrics(step)
        except (KeyError, OSError, ValueError):
            m = {}
        with self._lock:
            self._metrics[step] = m
        return m

    def cached_trace(self, key: tuple) -> Trace | None:
        with self._lock:
            if key in self._traces:
                self._traces.move_to_end(key)
                return self._traces[key]
        return None

    def keep_trace(self, key: tuple, trace: Trace) -> None:
        with self._lock:
            self._traces[key] = trace
            while len(self._traces) > self.max_traces:
                self._traces.popitem(last=False)

    def clear_traces(self) -> None:
        with self._lock:
            self._traces.clear()
            self.samples.clear()


class _Loader:
    """The worker-side model: one private copy whose weights are swapped per snapshot."""

    def __init__(self, model: GPT):
        self.model = model
        self.loaded: Any = None  # the step whose weights are in `model` ("live", or None)

    def load(self, cache: SnapshotCache, step: int) -> GPT:
        if self.loaded != step:
            self.loaded = None  # a failed load leaves unknown weights
            self.model.load_state_dict(cache.state(step))
            self.loaded = step
        return self.model

    def trace(self, cache: SnapshotCache, step: int, ids: np.ndarray) -> Trace:
        key = (step, ids.shape, ids.tobytes())
        trace = cache.cached_trace(key)
        if trace is None:
            trace = run_trace(self.load(cache, step), ids)
            cache.keep_trace(key, trace)
        return trace


def _history_job(kind: str, req: int, loader: _Loader, cache: SnapshotCache, args: dict):
    """Worker side of every request. Yields (kind, req, payload) tuples."""
    if kind == "scrub":
        step, ids = args["step"], args["ids"]
        trace = loader.trace(cache, step, ids)
        yield ("trace", req, {"step": step, "trace": trace, "metrics": cache.metrics(step)})
        if args["prompt"] is None:
            return
        if step in cache.samples:
            yield ("sample", req, {"step": step, "text": cache.samples[step], "done": True})
            return
        model = loader.load(cache, step)
        text = ""
        for s in generate(model, args["tokenizer"], args["prompt"], SAMPLE_TOKENS,
                          temperature=SAMPLE_TEMPERATURE, top_k=SAMPLE_TOP_K, seed=SAMPLE_SEED):
            text = s.text
            yield ("sample", req, {"step": step, "text": text, "done": False})
        cache.samples[step] = text
        yield ("sample", req, {"step": step, "text": text, "done": True})
    elif kind == "live":
        loader.loaded = None
        loader.model.load_state_dict(args["state"])
        loader.loaded = "live"
        yield ("live", req, {"trace": run_trace(loader.model, args["ids"])})
    elif kind == "compare":
        a, b, ids = args["a"], args["b"], args["ids"]
        ta = loader.trace(cache, a, ids)
        tb = loader.trace(cache, b, ids)
        yield ("compare", req, {"a": a, "b": b, "ids": ids, "trace_a": ta, "trace_b": tb})


def _metrics_text(step: int, m: dict) -> str:
    parts = [f"step {step}"]
    val = m.get("val_loss")
    parts.append(f"val loss {val:.4f}" if isinstance(val, (int, float)) else "val loss not measured")
    train = m.get("train_loss", m.get("loss"))
    if isinstance(train, (int, float)):
        parts.append(f"train loss {train:.4f}")
    return " · ".join(parts)


class HistoryPanel(QWidget):
    """A slider over the training snapshots, Live, compare mode and a sample per snapshot."""

    snapshot_shown = Signal(int)  # the step whose trace was just set on the session
    compare_shown = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._store = None
        self._cache: SnapshotCache | None = None
        self._loader: _Loader | None = None
        self._steps: list[int] = []
        self._worker: GeneratorWorker | None = None
        self._threads = PanelThreads()
        self._running: tuple | None = None  # (kind, req) of the running job
        self._pending: dict[str, tuple] = {}  # kind -> (req, args): newest waiting request
        self._latest: dict[str, int] = {}  # kind -> newest request id (older results dropped)
        self._req = 0
        self._applied: Trace | None = None  # the trace this panel set on the session
        self._mode = "live"  # "live" or "snapshot"
        self._shown_step: int | None = None
        self._compare: dict | None = None
        self.last_timing_ms: float | None = None  # request -> trace set, for the last scrub
        self._requested_at: dict[int, float] = {}
        self._sample_prompt = ""
        self._sample_text = ""

        # -- scrubbing ----------------------------------------------------------------------
        self.title = QLabel()
        title_font = QFont()
        title_font.setPointSizeF(12.0)
        title_font.setBold(True)
        self.title.setFont(title_font)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setPageStep(1)
        self.slider.valueChanged.connect(self._on_slider)
        self.first_label = QLabel()
        self.last_label = QLabel()
        self.step_label = QLabel()
        self.step_label.setMinimumWidth(90)
        self.live_button = QPushButton(self.tr("Live"))
        self.live_button.setToolTip(self.tr("Back to the current model"))
        self.live_button.clicked.connect(self.go_live)
        slider_row = QHBoxLayout()
        slider_row.addWidget(QLabel(self.tr("Snapshot:")))
        slider_row.addWidget(self.first_label)
        slider_row.addWidget(self.slider, 1)
        slider_row.addWidget(self.last_label)
        slider_row.addWidget(self.step_label)
        slider_row.addWidget(self.live_button)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #444;")

        # -- compare --------------------------------------------------------------------------
        self.compare_box = QGroupBox(self.tr("Compare two snapshots"))
        self.compare_box.setCheckable(True)
        self.compare_box.setChecked(False)
        self.compare_box.toggled.connect(self._on_compare_toggled)
        self.a_combo, self.b_combo = QComboBox(), QComboBox()
        self.layer_combo, self.head_combo = QComboBox(), QComboBox()
        for combo in (self.a_combo, self.b_combo):
            combo.currentIndexChanged.connect(self._request_compare)
        for combo in (self.layer_combo, self.head_combo):
            combo.currentIndexChanged.connect(self._draw_compare)
        pick = QHBoxLayout()
        for text, w in ((self.tr("A:"), self.a_combo), (self.tr("B:"), self.b_combo),
                        (self.tr("Block:"), self.layer_combo), (self.tr("Head:"), self.head_combo)):
            pick.addWidget(QLabel(text))
            pick.addWidget(w)
            pick.addSpacing(8)
        pick.addStretch(1)
        self.heatmap_a = Heatmap(row_title=self.tr("query"), col_title=self.tr("key"))
        self.heatmap_b = Heatmap(row_title=self.tr("query"), col_title=self.tr("key"))
        self.heatmap_diff = Heatmap(row_title=self.tr("query"), col_title=self.tr("key"))
        maps = QHBoxLayout()
        for h in (self.heatmap_a, self.heatmap_b, self.heatmap_diff):
            h.setMinimumSize(220, 220)
            maps.addWidget(h, 1)
        self.compare_caption = QLabel()
        self.compare_caption.setWordWrap(True)
        compare_body = QWidget()
        body_layout = QVBoxLayout(compare_body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addLayout(pick)
        body_layout.addWidget(self.compare_caption)
        body_layout.addLayout(maps, 1)
        self._compare_body = compare_body
        box_layout = QVBoxLayout(self.compare_box)
        box_layout.addWidget(compare_body)
        compare_body.setVisible(False)

        # -- sample ---------------------------------------------------------------------------
        self.sample_title = QLabel()
        self.sample_view = QTextBrowser()
        self.sample_view.setMaximumHeight(110)
        sample_font = QFont()
        sample_font.setPointSizeF(11.0)
        self.sample_view.setFont(sample_font)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(slider_row)
        layout.addWidget(self.note)
        layout.addWidget(self.compare_box, 1)
        layout.addWidget(self.sample_title)
        layout.addWidget(self.sample_view)
        layout.addStretch(0)
        self.empty = EmptyState.fill(self, content, self._empty_message())

        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.setInterval(THROTTLE_MS)
        self._throttle.timeout.connect(self._on_throttle)
        self._moved = False  # the slider moved while the throttle was closed
        self._reread_timer = QTimer(self)
        self._reread_timer.setSingleShot(True)
        self._reread_timer.setInterval(500)
        self._reread_timer.timeout.connect(self.reload_steps)

        session.model_changed.connect(self._on_model_changed)
        session.trace_changed.connect(self._on_trace_changed)
        session.history_changed.connect(self._reread_timer.start)
        changed = getattr(session, "snapshots_changed", None)
        if changed is not None:
            changed.connect(self._on_store_changed)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._on_model_changed()

    # -- public API ---------------------------------------------------------------------------
    def steps(self) -> list[int]:
        """Snapshot steps the slider runs over, oldest first."""
        return list(self._steps)

    def set_step(self, step: int) -> None:
        """Move the slider to `step` (must be a snapshot step); the trace follows."""
        self.slider.setValue(self._steps.index(step))

    def current_step(self) -> int | None:
        """The snapshot whose trace is on the session, or None when live."""
        return self._shown_step if self._mode == "snapshot" else None

    def is_busy(self) -> bool:
        """A job is running or waiting."""
        return self._worker is not None or bool(self._pending) or self._moved

    @Slot()
    def go_live(self) -> None:
        """Trace the context through the current model again and show that."""
        s = self.session
        self._mode = "live"
        self._latest.pop("scrub", None)
        self._pending.pop("scrub", None)
        self._throttle.stop()
        self._moved = False
        if s.model is None:
            return
        ids = self._ids()
        if ids is None:
            self._update_title()
            return
        state = {k: v.detach().clone() for k, v in s.model.state_dict().items()}
        self._submit("live", {"state": state, "ids": ids})
        self._update_title()

    def set_compare(self, a: int, b: int, layer: int = 0, head: int = 0) -> None:
        """Compare mode on, with snapshots a and b and the given head."""
        self.compare_box.setChecked(True)
        for combo in (self.a_combo, self.b_combo, self.layer_combo, self.head_combo):
            combo.blockSignals(True)
        self.a_combo.setCurrentIndex(self._steps.index(a))
        self.b_combo.setCurrentIndex(self._steps.index(b))
        self.layer_combo.setCurrentIndex(layer)
        self.head_combo.setCurrentIndex(head)
        for combo in (self.a_combo, self.b_combo, self.layer_combo, self.head_combo):
            combo.blockSignals(False)
        self._request_compare()

    def sample_text(self) -> str:
        """The sample generated at the shown snapshot (prompt excluded; '' while it starts)."""
        return self._sample_text

    def cache(self) -> SnapshotCache | None:
        return self._cache

    def shutdown(self) -> None:
        """Drop waiting requests, stop the worker and wait for its thread."""
        self._pending.clear()
        self._throttle.stop()
        self._moved = False
        self._threads.stop(self._worker)
        self._worker = None
        self._running = None

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.shutdown()
        super().closeEvent(event)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.reload_steps()

    # -- snapshots ----------------------------------------------------------------------------
    def _empty_message(self) -> str:
        return self.tr(
            "No training snapshots yet. Train a model: its weights are saved every evaluation, "
            "and here you can scrub back through them and watch the same text through the model "
            "as it learned.")

    @Slot()
    def _on_store_changed(self) -> None:
        store = getattr(self.session, "snapshots", None)
        if store is not self._store:
            self.shutdown()
            self._store = store
            self._cache = SnapshotCache(store) if store is not None else None
            self._steps = []
        self.reload_steps()

    @Slot()
    def reload_steps(self) -> None:
        """Re-read the store's steps (training adds and thins snapshots)."""
        store = getattr(self.session, "snapshots", None)
        if store is not self._store:
            self._on_store_changed()
            return
        try:
            steps = store.steps() if store is not None else []
        except OSError:
            steps = []
        if self.session.model is None or not steps:
            self._steps = []
            self.empty.show_empty(self._empty_message() if self.session.model is not None
                                  else self.tr("No model yet: open or train a model first."))
            return
        self.empty.show_content()
        if steps == self._steps:
            return
        keep = self._steps[self.slider.value()] if self._steps else None
        self._steps = steps
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(steps) - 1)
        if keep in steps:
            self.slider.setValue(steps.index(keep))
        else:
            self.slider.setValue(len(steps) - 1)
        self.slider.blockSignals(False)
        self.first_label.setText(str(steps[0]))
        self.last_label.setText(str(steps[-1]))
        self.step_label.setText(self.tr("step {0}").format(steps[self.slider.value()]))
        for combo, default in ((self.a_combo, 0), (self.b_combo, len(steps) - 1)):
            old = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([str(s) for s in steps])
            i = combo.findText(old)
            combo.setCurrentIndex(i if i >= 0 else default)
            combo.blockSignals(False)
        self._update_title()

    # -- requests -----------------------------------------------------------------------------
    def _ids(self) -> np.ndarray | None:
        s = self.session
        ids = s.context_ids()
        if len(ids):
            return np.asarray(ids, dtype=np.int64)[None]  # (1, T)
        if s.trace is not None:
            return s.trace.ids
        return None

    def _on_slider(self, index: int) -> None:
        if not self._steps:
            return
        self.step_label.setText(self.tr("step {0}").format(self._steps[index]))
        # Leading and trailing edge: a click loads at once; a drag loads every THROTTLE_MS and
        # once more where it stops.
        if self._throttle.isActive():
            self._moved = True
            return
        self._request_scrub()
        self._throttle.start()

    def _on_throttle(self) -> None:
        if self._moved:
            self._moved = False
            self._request_scrub()
            self._throttle.start()

    def _request_scrub(self) -> None:
        if not self._steps or self.session.model is None:
            return
        ids = self._ids()
        if ids is None:
            self.note.setText(self.tr("Type a context first: the snapshot traces it."))
            return
        step = self._steps[self.slider.value()]
        self._mode = "snapshot"
        prompt = first_line(self.session.context_text) or "\n"
        req = self._submit("scrub", {"step": step, "ids": ids, "prompt": prompt,
                                     "tokenizer": self.session.tokenizer})
        self._requested_at[req] = time.perf_counter()

    def _request_compare(self, *_args) -> None:
        if not self.compare_box.isChecked() or not self._steps or self.session.model is None:
            return
        ids = self._ids()
        a, b = self.a_combo.currentIndex(), self.b_combo.currentIndex()
        if ids is None or a < 0 or b < 0:
            return
        self._submit("compare", {"a": self._steps[a], "b": self._steps[b], "ids": ids})

    def _submit(self, kind: str, args: dict) -> int:
        self._req += 1
        req = self._req
        self._latest[kind] = req
        self._pending[kind] = (req, args)
        if self._worker is None:
            self._start_next()
        elif self._running is not None and self._running[0] == kind:
            self._worker.quit()  # its result is stale now: stop at its next yield
        return req

    def _start_next(self) -> None:
        for kind in ("live", "scrub", "compare"):  # what the user is looking at comes first
            if kind in self._pending:
                req, args = self._pending.pop(kind)
                break
        else:
            return
        if self._cache is None or self.session.model is None:
            self._pending.clear()
            return
        if self._loader is None:
            self._loader = _Loader(copy.deepcopy(self.session.model))  # its weights are swapped per snapshot
        worker = GeneratorWorker(_history_job, kind, req, self._loader, self._cache, args)
        worker.yielded.connect(self._on_item, Qt.ConnectionType.QueuedConnection)
        worker.errored.connect(self._on_error, Qt.ConnectionType.QueuedConnection)
        worker.finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        self._worker = worker
        self._running = (kind, req)
        self._threads.start(worker, f"history-{kind}")

    # -- results (GUI thread) -------------------------------------------------------------------
    @Slot(object)
    def _on_item(self, item) -> None:
        if self.sender() is not self._worker:
            return
        kind, req, data = item
        key = {"trace": "scrub", "sample": "scrub"}.get(kind, kind)
        if self._latest.get(key) != req:
            return  # a newer request of the same kind exists: drop this result
        if kind == "trace":
            self._shown_step = data["step"]
            self._mode = "snapshot"
            self._set_trace(data["trace"])
            started = self._requested_at.pop(req, None)
            if started is not None:
                self.last_timing_ms = (time.perf_counter() - started) * 1000
            self._update_title(data["metrics"])
            self.sample_title.setText(self.tr(
                "<b>Sample at step {0}</b> (seed {1}, temperature {2:g}, top-k {3}), after the "
                "context's first line:").format(data["step"], SAMPLE_SEED, SAMPLE_TEMPERATURE,
                                                SAMPLE_TOP_K))
            self._sample_prompt = first_line(self.session.context_text)
            self._show_sample("", False)
            self.snapshot_shown.emit(data["step"])
        elif kind == "sample":
            self._show_sample(data["text"], data["done"])
        elif kind == "live":
            self._shown_step = None
            self._set_trace(data["trace"])
            self._update_title()
        elif kind == "compare":
            self._compare = data
            self._draw_compare()
            self.compare_shown.emit()

    def _show_sample(self, text: str, done: bool) -> None:
        prompt = html.escape(self._sample_prompt[-200:])
        body = html.escape(text) + ("" if done else " …")
        self.sample_view.setHtml(
            f'<div style="white-space: pre-wrap;"><span style="color:#888;">{prompt}</span>'
            f'<span style="background-color:#fff3c4;">{body}</span></div>')
        self._sample_text = text

    def _set_trace(self, trace: Trace) -> None:
        self._applied = trace
        self.session.set_trace(trace)

    @Slot(object)
    def _on_error(self, exc: BaseException) -> None:
        if self.sender() is not self._worker:
            return
        msg = str(exc)
        if "size mismatch" in msg or "Missing key" in msg or "Unexpected key" in msg:
            msg = self.tr("this snapshot does not fit the current model (it was saved from a "
                          "model of another shape)")
        self.note.setText(self.tr("Could not load the snapshot: {0}").format(msg))
        self.note.setStyleSheet("color: #b00020;")

    @Slot()
    def _on_finished(self) -> None:
        if self.sender() is not self._worker:
            return  # a job stopped by shutdown() whose last signal arrives late
        self._worker = None
        self._running = None
        self._start_next()

    # -- session ------------------------------------------------------------------------------
    @Slot()
    def _on_model_changed(self) -> None:
        self.shutdown()
        self._loader = None
        self._mode = "live"
        self._shown_step = None
        self._compare = None
        if self._cache is not None:
            self._cache.clear_traces()
        model = self.session.model
        for combo, n in ((self.layer_combo, model.config.n_layer if model else 0),
                         (self.head_combo, model.config.n_head if model else 0)):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([str(i) for i in range(n)])
            combo.blockSignals(False)
        self._on_store_changed()
        self._update_title()

    @Slot()
    def _on_trace_changed(self) -> None:
        trace = self.session.trace
        if trace is self._applied:
            return
        # Someone else traced (context edited, new weights, ablation): that is the live model.
        self._applied = None
        if self._mode == "snapshot":
            self._mode = "live"
            self._latest.pop("scrub", None)
            self._update_title()
        if self.compare_box.isChecked() and self._compare is not None:
            ids = self._ids()
            if ids is not None and not np.array_equal(ids, self._compare["ids"]):
                self._request_compare()

    def _on_compare_toggled(self, on: bool) -> None:
        self._compare_body.setVisible(on)
        if on:
            self._request_compare()

    # -- drawing ------------------------------------------------------------------------------
    def _update_title(self, metrics: dict | None = None) -> None:
        self.note.setStyleSheet("color: #444;")
        if self._mode == "snapshot" and self._shown_step is not None:
            m = metrics if metrics is not None else (
                self._cache.metrics(self._shown_step) if self._cache is not None else {})
            self.title.setText(self.tr("Showing snapshot: {0}").format(
                _metrics_text(self._shown_step, m)))
            self.title.setStyleSheet("color: #a04000;")
            self.note.setText(self.tr(
                "Every panel shows the model as it was at this step. Press Live to return to the "
                "current model."))
        else:
            self.title.setText(self.tr("Showing the live model"))
            self.title.setStyleSheet("")
            n = len(self._steps)
            self.note.setText(self.tr(
                "{0} snapshots saved during training. Move the slider to see the context "
                "through the model at that step.").format(n) if n else "")
        self.live_button.setEnabled(self._mode == "snapshot")

    def _draw_compare(self, *_args) -> None:
        c = self._compare
        tok = self.session.tokenizer
        if c is None or tok is None:
            return
        layer, head = self.layer_combo.currentIndex(), self.head_combo.currentIndex()
        name = f"blocks.{layer}.attn.pattern"
        if layer < 0 or head < 0 or name not in c["trace_a"]:
            return
        pa = c["trace_a"].values(name)[0, head]  # (T, T)
        pb = c["trace_b"].values(name)[0, head]  # (T, T)
        diff = pb - pa  # (T, T) what changed between the two steps
        labels = [f"{t} {p}" for t, p in enumerate(tok.pieces(c["ids"][0]))]
        self.heatmap_a.set_matrix(pa, labels, labels, PATTERN_CMAP, levels=(0.0, 1.0),
                                  title=self.tr("step {0}").format(c["a"]))
        self.heatmap_b.set_matrix(pb, labels, labels, PATTERN_CMAP, levels=(0.0, 1.0),
                                  title=self.tr("step {0}").format(c["b"]))
        m = max(float(np.abs(diff).max()), 1e-6)
        self.heatmap_diff.set_matrix(diff, labels, labels, SIGNED_CMAP, levels=(-m, m),
                                     title=self.tr("B − A (step {0} − step {1})").format(c["b"], c["a"]))
        self.compare_caption.setText(self.tr(
            "Attention pattern (softmax) of block {0}, head {1} on the current context at step "
            "{2} (A) and step {3} (B); right: B − A, red where B attends more, blue where less "
            "(largest change {4:.3f}).").format(layer, head, c["a"], c["b"], m))
