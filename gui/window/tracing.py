"""The context traced through the model: debounced requests, one trace at a time off the GUI
thread, and only the newest one shown (gui.latest)."""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from gui.latest import Latest
from gui.session import Session

DEBOUNCE_MS = 150  # context edits closer together than this are traced once


def _trace(model, ids: np.ndarray):
    from engine.model.trace import run_trace  # torch stays off the launch path

    return run_trace(model, ids)


class TraceService(QObject):
    """Traces the session's context after every edit, new model or new weights.

    Leading edge: the first request after a quiet spell is traced at once; a burst (typing,
    weights streaming in while training) is then traced at most every DEBOUNCE_MS, and a trace
    still running is never abandoned, so the panels keep moving.
    """

    counted = Signal(int, int, int)  # tokens in the context, tokens the model reads, unknown
    failed = Signal(object)  # the exception of the newest trace that failed
    traced = Signal(float)  # seconds the session took to show the newest trace

    def __init__(self, session: Session, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self._last_request = 0.0
        self._latest = Latest("trace", supersede=False, parent=self)
        self._latest.done.connect(self._on_done)
        self._latest.failed.connect(lambda _key, exc: self.failed.emit(exc))
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._request)

    @property
    def pending(self) -> bool:
        """A trace was asked for and its answer has not been shown yet."""
        return self._latest.pending or self._timer.isActive()

    def schedule(self, now: bool = False) -> None:
        """Trace the context soon: at once after a quiet spell (or when `now`), else debounced."""
        quiet = (time.monotonic() - self._last_request) * 1000 > DEBOUNCE_MS
        self._timer.start(0 if now or (quiet and not self._latest.pending) else DEBOUNCE_MS)

    def _request(self) -> None:
        self._last_request = time.monotonic()
        s = self.session
        if s.model is None or s.tokenizer is None:
            return
        all_ids = s.tokenizer.encode(s.context_text)
        ids = all_ids[: s.model.config.context_length]
        # Counted here from the one encoding of the edit (the context box does not encode again).
        self.counted.emit(len(all_ids), len(ids), int((ids == s.tokenizer.unk_id).sum()))
        if len(ids):
            self._latest.submit(_trace, s.model, ids)

    def _on_done(self, _key: str, trace) -> None:
        t0 = time.perf_counter()
        self.session.set_trace(trace)
        self.traced.emit(time.perf_counter() - t0)

    def shutdown(self) -> None:
        self._timer.stop()
        self._latest.shutdown()
