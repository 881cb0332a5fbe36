"""`Latest`: run work off the GUI thread where only the newest request counts.

A context edit, a new training snapshot, a slider drag or a ticked head each ask for work whose
answer is worthless once a newer request exists. `Latest` is the one helper for that idea:

- one thread of its own, one job at a time; a request waiting to start is replaced by a newer
  one with the same key, so a burst of edits costs one job, not one per edit;
- with `supersede=False` (a trace while training) a running job finishes and its answer is
  shown unless a newer one was shown already, so a stream of requests still shows progress;
  with `supersede=True` (a scrub, a sample) a newer request stops the running job at its next
  `yield`, and nothing of the old job reaches the GUI;
- work functions know nothing about Qt: a plain function's return value arrives as `done`, a
  generator's items as `yielded`, then its return value as `done`;
- `reset()` forgets everything asked so far (e.g. the model was replaced).

Keys let one helper serve requests of several kinds that must not run at the same time (they
share a model whose weights are swapped), in the order of `priorities`.
"""
from __future__ import annotations

import inspect
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Qt, Signal, Slot

from gui.workers import register_thread, unregister_thread


@dataclass
class _Request:
    ticket: int
    key: str
    func: Callable[..., Any]
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


class _Runner(QObject):
    """Lives on the helper's thread: takes the most urgent waiting request and runs it."""

    item = Signal(int, str, str, object)  # ticket, key, "yielded" / "done" / "failed", payload

    def __init__(self, owner: "Latest"):
        super().__init__()
        self._owner = owner

    @Slot()
    def process(self) -> None:
        owner = self._owner
        while (req := owner._take()) is not None:
            self._run(req)

    def _run(self, req: _Request) -> None:
        owner = self._owner
        try:
            result = req.func(*req.args, **req.kwargs)
            if inspect.isgenerator(result):
                gen = result
                while True:
                    if owner._stale(req):
                        gen.close()  # runs the generator's `finally`
                        return
                    try:
                        value = next(gen)
                    except StopIteration as stop:
                        result = stop.value
                        break
                    self.item.emit(req.ticket, req.key, "yielded", value)
            self.item.emit(req.ticket, req.key, "done", result)
        except Exception as exc:  # noqa: BLE001 - handed to the GUI thread to show
            exc.details = traceback.format_exc()  # type: ignore[attr-defined]
            self.item.emit(req.ticket, req.key, "failed", exc)
        finally:
            owner._finished(req)


class Latest(QObject):
    """Background work where only the newest request (per key) counts; see the module doc."""

    yielded = Signal(str, object)  # key, an item a generator yielded
    done = Signal(str, object)  # key, the work's return value
    failed = Signal(str, object)  # key, the exception (its traceback text in `.details`)
    _wake = Signal()

    def __init__(self, name: str, supersede: bool = False, priorities: tuple[str, ...] = ("",),
                 low_priority: bool = False, parent: QObject | None = None):
        super().__init__(parent)
        self._supersede = supersede
        self._priorities = priorities
        self._low_priority = low_priority
        self._lock = threading.Lock()
        self._ticket = 0
        self._epoch = 0  # tickets at or below this were asked before the last reset()
        self._waiting: dict[str, _Request] = {}
        self._running: _Request | None = None
        self._newest: dict[str, int] = {}  # key -> newest ticket asked
        self._shown: dict[str, int] = {}  # key -> newest ticket whose answer was delivered
        self._runner = _Runner(self)
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._runner.moveToThread(self._thread)
        queued = Qt.ConnectionType.QueuedConnection
        self._wake.connect(self._runner.process, queued)  # runs on the helper's thread
        self._runner.item.connect(self._deliver, queued)  # back on the GUI thread
        if low_priority:
            self._thread.started.connect(self._lower_priority, Qt.ConnectionType.DirectConnection)
        register_thread(self._thread)
        self._thread.start()

    # -- GUI thread ------------------------------------------------------------------------------
    def submit(self, func: Callable[..., Any], *args: Any, key: str = "", **kwargs: Any) -> int:
        """Ask for `func(*args, **kwargs)` off the GUI thread; returns the request's ticket."""
        if key not in self._priorities:
            raise ValueError(f"unknown request key {key!r}; expected one of {self._priorities}")
        with self._lock:
            self._ticket += 1
            self._waiting[key] = _Request(self._ticket, key, func, args, kwargs)
            self._newest[key] = self._ticket
            ticket = self._ticket
        self._wake.emit()
        return ticket

    @property
    def pending(self) -> bool:
        """Some key's newest request has not had its answer delivered yet."""
        return any(t > max(self._shown.get(k, 0), self._epoch) for k, t in self._newest.items())

    def is_current(self, ticket: int, key: str = "") -> bool:
        """No newer request of `key` was asked after `ticket` (and none was reset)."""
        return ticket > self._epoch and self._newest.get(key, 0) == ticket

    def cancel(self, key: str = "") -> None:
        """Forget `key`'s requests: a waiting one never runs, a running one is dropped (and a
        generator stopped at its next yield when superseding)."""
        with self._lock:
            self._waiting.pop(key, None)
            self._ticket += 1
            self._newest[key] = self._shown[key] = self._ticket

    def reset(self) -> None:
        """Forget every request asked so far: waiting ones never run, running ones are dropped."""
        with self._lock:
            self._waiting.clear()
            self._epoch = self._ticket

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Drop what waits, let the running job stop at its next yield, and end the thread."""
        self.reset()
        if self._thread.isRunning():
            self._thread.quit()
            self._thread.wait(timeout_ms)
        if self._thread.isFinished():
            unregister_thread(self._thread)

    @Slot(int, str, str, object)
    def _deliver(self, ticket: int, key: str, kind: str, payload: Any) -> None:
        if ticket <= self._epoch:
            return
        if self._supersede:
            if not self.is_current(ticket, key):
                return
        elif ticket < self._shown.get(key, 0):
            return  # an answer to a newer request is on screen already
        if kind == "yielded":
            self.yielded.emit(key, payload)
            return
        self._shown[key] = ticket
        if kind == "done":
            self.done.emit(key, payload)
        else:
            self.failed.emit(key, payload)

    # -- helper thread ---------------------------------------------------------------------------
    def _take(self) -> _Request | None:
        with self._lock:
            for key in self._priorities:  # what the user is looking at comes first
                req = self._waiting.pop(key, None)
                if req is not None:
                    self._running = req
                    return req
            return None

    def _finished(self, req: _Request) -> None:
        with self._lock:
            if self._running is req:
                self._running = None

    def _stale(self, req: _Request) -> bool:
        """The running job's answer can no longer be shown: stop it at its next yield."""
        if req.ticket <= self._epoch:
            return True
        if self._newest.get(req.key, 0) != req.ticket and req.ticket < self._shown.get(req.key, 0):
            return True  # cancelled: an answer newer than it already counts as shown
        return self._supersede and self._newest.get(req.key, 0) != req.ticket

    @Slot()
    def _lower_priority(self) -> None:
        from gui.runtime import lower_thread_priority

        lower_thread_priority()


# Work on a model this large (parameters) runs off the GUI thread even where it is instant for
# the articles' model (0.65 M): a check of the logits of GPT-2 small (124 M) takes seconds.
BACKGROUND_PARAMS = 2_000_000


def worth_a_thread(model: Any) -> bool:
    """Whether per-view work on `model` (a check, the logit lens, a loss reading) belongs off
    the GUI thread; small models answer at once, in the same event-loop turn."""
    if model is None:
        return False
    from engine.model.decoder import param_count

    # From the config, a formula: counting the tensors took 15 ms at 0.5B, on every step.
    cfg = getattr(model, "config", None)
    return (param_count(cfg) if cfg is not None else model.num_params()) >= BACKGROUND_PARAMS
