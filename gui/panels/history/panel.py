"""The Training history dock: the scrubber, compare mode and the sample of the shown snapshot.

Moving the slider loads that snapshot's weights into the panel's own copy of the model off the
GUI thread, traces the current context and sets the session's trace, so every other panel
(attention, embeddings, walkthrough) shows the model of that step. All work goes through one
`gui.latest.Latest`: only the newest request of each kind counts, live before scrub before
compare (what the user looks at first), and a newer request of the same kind stops the running
one at its next yield, so nothing stale ever reaches the session.
"""
from __future__ import annotations

import copy
import time
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QCoreApplication, QTimer, Signal, Slot
from PySide6.QtWidgets import QVBoxLayout, QWidget

from engine.training.snapshots import SnapshotStore
from engine.model.trace import Trace, run_trace
from gui.latest import Latest
from gui.panels.history.compare_view import CompareView
from gui.panels.history.sample_view import SampleView
from gui.panels.history.scrubber import Scrubber
from gui.panels.history.snapshots import (
    Compared,
    Loader,
    Sample,
    Shown,
    SnapshotCache,
    compare_job,
    measured_losses,
    scrub_job,
)
from gui.pieces import first_line
from gui.session import Session
from gui.widgets import EmptyState
from gui.widgets.language import Translated

REREAD_MS = 500  # training adds snapshots in bursts: re-read the store once they settle


class HistoryPanel(Translated, QWidget):
    """A slider over the training snapshots, Live, compare mode and a sample per snapshot."""

    snapshot_shown = Signal(int)  # the step whose trace was just set on the session
    compare_shown = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._store: SnapshotStore | None = None
        self._cache: SnapshotCache | None = None
        self._loader: Loader | None = None  # made on first use from the session's model
        self._jobs: Latest | None = None  # made on first use, ended by shutdown()
        self._applied: Trace | None = None  # the trace this panel set on the session
        self._mode = "live"  # "live" or "snapshot"
        self._shown_step: int | None = None
        self.last_timing_ms: float | None = None  # request -> trace set, for the last scrub
        self._scrub_asked_at: float | None = None

        self.scrubber = Scrubber()
        self.scrubber.scrubbed.connect(self._request_scrub)
        self.scrubber.live_button.clicked.connect(self.go_live)
        self.compare = CompareView()
        self.compare.pair_changed.connect(self._request_compare)
        self.sample = SampleView()
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scrubber)
        layout.addWidget(self.compare, 1)
        layout.addWidget(self.sample)
        layout.addStretch(0)
        self.empty = EmptyState.fill(self, content, self._empty_message())

        self._reread_timer = QTimer(self)
        self._reread_timer.setSingleShot(True)
        self._reread_timer.setInterval(REREAD_MS)
        self._reread_timer.timeout.connect(self.reload_steps)

        session.model_changed.connect(self._on_model_changed)
        session.trace_changed.connect(self._on_trace_changed)
        session.history_changed.connect(self._reread_timer.start)
        session.snapshots_changed.connect(self._on_store_changed)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._on_model_changed()

    # -- public API ---------------------------------------------------------------------------
    def steps(self) -> list[int]:
        """Snapshot steps the slider runs over, oldest first."""
        return self.scrubber.steps()

    def set_step(self, step: int) -> None:
        """Move the slider to `step` (must be a snapshot step); the trace follows."""
        self.scrubber.set_step(step)

    def current_step(self) -> int | None:
        """The snapshot whose trace is on the session, or None when live."""
        return self._shown_step if self._mode == "snapshot" else None

    def is_busy(self) -> bool:
        """A job is running or waiting."""
        return (self._jobs is not None and self._jobs.pending) or self.scrubber.moving()

    @Slot()
    def go_live(self) -> None:
        """Trace the context through the current model again and show that."""
        s = self.session
        self._mode = "live"
        self._cancel("scrub")
        self.scrubber.stop()
        if s.model is None:
            return
        ids = self._ids()
        if ids is not None:
            # The session's model is never changed, so it is traced as it is.
            self._submit("live", run_trace, s.model, ids)
        self._update_title()

    def set_compare(self, a: int, b: int, layer: int = 0, head: int = 0) -> None:
        """Compare mode on, with snapshots a and b and the given head."""
        self.compare.setChecked(True)
        steps = self.steps()
        self.compare.set_pair(steps.index(a), steps.index(b), layer, head)
        self._request_compare()

    def sample_text(self) -> str:
        """The sample generated at the shown snapshot (prompt excluded; '' while it starts)."""
        return self.sample.text()

    def cache(self) -> SnapshotCache | None:
        """The caches of the current snapshot store (None without one)."""
        return self._cache

    def shutdown(self) -> None:
        """Drop waiting requests, stop the running job and wait for its thread."""
        self._stop()
        if self._jobs is not None:
            self._jobs.shutdown()
            self._jobs = None

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.shutdown()
        super().closeEvent(event)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.reload_steps()

    def _retranslate(self) -> None:
        """Words drawn in the interface language (also on every language switch)."""
        if self.empty.is_empty():
            self.empty.show_empty(self._empty_text())
        self._update_title()

    # -- snapshots ----------------------------------------------------------------------------
    def _empty_text(self) -> str:
        """Why there is nothing to scrub: no model, or no snapshots of it."""
        if self.session.model is None:
            return self.tr("No model yet: open or train a model first.")
        return self._empty_message()

    def _empty_message(self) -> str:
        return self.tr(
            "No training snapshots yet. Train a model: its weights are saved every evaluation, "
            "and here you can scrub back through them and watch the same text through the model "
            "as it learned.")

    @Slot()
    def _on_store_changed(self) -> None:
        store = self.session.snapshots
        if store is not self._store:
            self._stop()
            self._store = store
            self._cache = SnapshotCache(store) if store is not None else None
            self._loader = None  # its loaded step named a snapshot of the old store
            self.scrubber.set_steps([])
            self.sample.clear()  # written by a snapshot of the old store
        self.reload_steps()

    @Slot()
    def reload_steps(self) -> None:
        """Re-read the store's steps (training adds and thins snapshots)."""
        store = self.session.snapshots
        if store is not self._store:
            self._on_store_changed()
            return
        try:
            steps = store.steps() if store is not None else []
        except OSError:
            steps = []
        if self.session.model is None or not steps:
            self.scrubber.set_steps([])
            self.empty.show_empty(self._empty_text())
            return
        self.empty.show_content()
        if steps == self.steps():
            return
        self.scrubber.set_steps(steps)
        self.compare.set_steps(steps)
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

    def _request_scrub(self) -> None:
        step = self.scrubber.step()
        if step is None or self.session.model is None:
            return
        ids = self._ids()
        if ids is None:
            self.scrubber.set_note(self.tr("Type a context first: the snapshot traces it."))
            return
        self._mode = "snapshot"
        prompt = first_line(self.session.context_text) or "\n"
        if self._submit("scrub", scrub_job, self._the_loader(), self._cache, step, ids, prompt,
                        self.session.tokenizer):
            self._scrub_asked_at = time.perf_counter()

    def _request_compare(self) -> None:
        steps = self.steps()
        if not self.compare.isChecked() or not steps or self.session.model is None:
            return
        ids = self._ids()
        a, b = self.compare.pair()
        if ids is None or a < 0 or b < 0:
            return
        self._submit("compare", compare_job, self._the_loader(), self._cache, steps[a], steps[b],
                     ids)

    def _the_loader(self) -> Loader | None:
        if self._loader is None and self.session.model is not None:
            # Its weights are swapped per snapshot, so it must never be the session's model.
            self._loader = Loader(copy.deepcopy(self.session.model))
        return self._loader

    def _submit(self, key: str, func: Callable[..., Any], *args: Any) -> bool:
        """Ask for `func(*args)` as the newest request of `key`; False without snapshots."""
        if self._cache is None or self.session.model is None:
            return False
        if self._jobs is None:
            self._jobs = Latest("history", supersede=True, priorities=("live", "scrub", "compare"),
                                parent=self)
            self._jobs.yielded.connect(self._on_yielded)
            self._jobs.done.connect(self._on_done)
            self._jobs.failed.connect(self._on_failed)
        self._jobs.submit(func, *args, key=key)
        return True

    def _cancel(self, key: str) -> None:
        """Nothing of `key` asked so far is shown (a waiting request never runs, a running
        one stops at its next yield)."""
        if self._jobs is not None:
            self._jobs.cancel(key)

    def _stop(self) -> None:
        """Forget every request (a running job stops at its next yield)."""
        if self._jobs is not None:
            self._jobs.reset()
        self.scrubber.stop()

    # -- results (GUI thread) -------------------------------------------------------------------
    @Slot(str, object)
    def _on_yielded(self, _key: str, item: Shown | Sample) -> None:
        if isinstance(item, Shown):
            self._shown_step = item.step
            self._mode = "snapshot"
            self._set_trace(item.trace)
            if self._scrub_asked_at is not None:
                self.last_timing_ms = (time.perf_counter() - self._scrub_asked_at) * 1000
                self._scrub_asked_at = None
            self._update_title(item.metrics)
            self.sample.start(item.step, first_line(self.session.context_text))
            self.snapshot_shown.emit(item.step)
        else:
            self.sample.show_sample(item.text, item.done)

    @Slot(str, object)
    def _on_done(self, key: str, result: Trace | Compared | None) -> None:
        if key == "live":
            self._shown_step = None
            self._set_trace(result)
            self._update_title()
        elif key == "compare" and isinstance(result, Compared):
            self.compare.show_compared(result, self.session.tokenizer)
            self.compare_shown.emit()

    @Slot(str, object)
    def _on_failed(self, _key: str, exc: BaseException) -> None:
        msg = str(exc)
        if "size mismatch" in msg or "Missing key" in msg or "Unexpected key" in msg:
            msg = self.tr("this snapshot does not fit the current model (it was saved from a "
                          "model of another shape)")
        self.scrubber.set_note(self.tr("Could not load the snapshot: {0}").format(msg), error=True)

    def _set_trace(self, trace: Trace) -> None:
        self._applied = trace
        self.session.set_trace(trace)

    # -- session ------------------------------------------------------------------------------
    @Slot()
    def _on_model_changed(self) -> None:
        self._stop()
        self._loader = None
        self._mode = "live"
        self._shown_step = None
        if self._cache is not None:
            self._cache = self._cache.without_traces()
        model = self.session.model
        self.compare.set_shape(model.config.n_layer if model else 0,
                               model.config.n_head if model else 0)
        self._on_store_changed()
        self._update_title()

    @Slot()
    def _on_trace_changed(self) -> None:
        if self.session.trace is self._applied:
            return
        # Someone else traced (context edited, new weights, ablation): that is the live model.
        self._applied = None
        if self._mode == "snapshot":
            self._mode = "live"
            self._cancel("scrub")
            self._update_title()
        compared = self.compare.compared()
        if self.compare.isChecked() and compared is not None:
            ids = self._ids()
            if ids is not None and not np.array_equal(ids, compared.ids):
                self._request_compare()

    # -- drawing ------------------------------------------------------------------------------
    def _metrics_title(self, step: int, m: dict) -> str:
        """'Showing snapshot: step 50 · val loss 2.5000 · train loss 2.4000' (what was
        measured of it)."""
        val, train = measured_losses(m)
        if val is not None and train is not None:
            return self.tr("Showing snapshot: step {0} · val loss {1:.4f} · train loss {2:.4f}"
                           ).format(step, val, train)
        if val is not None:
            return self.tr("Showing snapshot: step {0} · val loss {1:.4f}").format(step, val)
        if train is not None:
            return self.tr("Showing snapshot: step {0} · val loss not measured · train loss "
                           "{1:.4f}").format(step, train)
        return self.tr("Showing snapshot: step {0} · val loss not measured").format(step)

    def _update_title(self, metrics: dict | None = None) -> None:
        if self._mode == "snapshot" and self._shown_step is not None:
            m = metrics if metrics is not None else (
                self._cache.metrics(self._shown_step) if self._cache is not None else {})
            self.scrubber.show_state(
                self._metrics_title(self._shown_step, m),
                self.tr("Every panel shows the model as it was at this step. Press Live to "
                        "return to the current model."), snapshot=True)
        else:
            n = len(self.steps())
            self.scrubber.show_state(
                self.tr("Showing the live model"),
                self.tr("{0} snapshots saved during training. Move the slider to see the context "
                        "through the model at that step.").format(n) if n else "",
                snapshot=self._mode == "snapshot")
