"""Long work off the GUI thread: generator/function workers on QThreads, and the registry of
every QThread the app starts. ("Only the newest request counts" is gui.latest; the training
process is gui.run.process.)

In the style of superqt's `thread_worker`: the work is a plain generator (or function) that knows
nothing about Qt; every `yield` becomes a queued `yielded` signal delivered on the GUI thread, and
abort is checked between yields. Only the GUI thread touches widgets.

Every QThread started here is registered, so the window can stop them all on close and tests can
assert that none is left running (`running_threads()`).
"""
from __future__ import annotations

import atexit
import threading
import traceback
from typing import Any, Callable, Generator

from PySide6.QtCore import QObject, QThread, Signal, Slot

from engine.training.job import Cancelled

_threads: set[QThread] = set()
# The worker each thread runs, kept alive until that thread has finished: a panel may drop its
# reference to a worker it replaced (e.g. an abandoned sample) while the work is still ending,
# and a QObject deleted under its running thread crashes the process (seen in the test suite).
_workers: dict[QThread, QObject] = {}


def _stop_all_threads() -> None:
    """At interpreter exit: a QThread destroyed while running aborts the process."""
    for thread in list(_threads):
        if thread.isRunning():
            thread.quit()
            thread.wait(5000)


atexit.register(_stop_all_threads)


def register_thread(thread: QThread) -> None:
    """Count a long-lived QThread started elsewhere (e.g. gui.latest) in `running_threads()`."""
    _threads.add(thread)


def unregister_thread(thread: QThread) -> None:
    _threads.discard(thread)


def running_threads() -> list[QThread]:
    """QThreads started by this module that have not finished yet."""
    return [t for t in list(_threads) if t.isRunning()]


class Worker(QObject):
    """Shared plumbing: signals, abort flag, and error capture (also of gui.run.ProcessWorker)."""

    started = Signal()
    returned = Signal(object)  # the function's / generator's return value
    errored = Signal(object)  # the exception; its traceback text is in `.details`
    finished = Signal()  # always last, after returned or errored

    def __init__(self) -> None:
        super().__init__()
        self._abort = threading.Event()
        self.thread_: QThread | None = None

    def quit(self) -> None:
        """Ask the work to stop at its next yield / progress report (thread-safe)."""
        self._abort.set()

    @property
    def abort_requested(self) -> bool:
        return self._abort.is_set()

    def _end(self) -> None:
        self.finished.emit()
        # Quit from inside: a `finished -> thread.quit` connection would be queued to the
        # GUI thread, which may be blocked waiting for this very thread (closing the app).
        self.thread().quit()

    def _fail(self, exc: BaseException) -> None:
        exc.details = traceback.format_exc()  # type: ignore[attr-defined]
        self.errored.emit(exc)




class GeneratorWorker(Worker):
    """Runs `func(*args, **kwargs)`, a generator; each yielded value is emitted as `yielded`."""

    yielded = Signal(object)

    def __init__(self, func: Callable[..., Generator], *args: Any, **kwargs: Any):
        super().__init__()
        self._func, self._args, self._kwargs = func, args, kwargs

    @Slot()
    def run(self) -> None:
        self.started.emit()
        try:
            gen = self._func(*self._args, **self._kwargs)
            while True:
                if self._abort.is_set():
                    gen.close()  # runs the generator's `finally`, e.g. to release a device
                    break
                try:
                    item = next(gen)
                except StopIteration as stop:
                    self.returned.emit(stop.value)
                    break
                self.yielded.emit(item)
        except Exception as exc:  # noqa: BLE001 - handed to the GUI thread to show
            self._fail(exc)
        finally:
            self._end()


class FunctionWorker(Worker):
    """Runs `func(report, *args, **kwargs)`; `report(done, total)` emits `progress`.

    `report` raises `Cancelled` once `quit()` was called, so long loops that report progress
    (such as tokenizing a big file) stop promptly; cancellation ends with `errored(Cancelled)`.
    """

    progress = Signal(int, int)

    def __init__(self, func: Callable[..., Any], *args: Any, **kwargs: Any):
        super().__init__()
        self._func, self._args, self._kwargs = func, args, kwargs

    def report(self, done: int, total: int) -> None:
        if self._abort.is_set():
            raise Cancelled()
        self.progress.emit(int(done), int(total))

    @Slot()
    def run(self) -> None:
        self.started.emit()
        try:
            result = self._func(self.report, *self._args, **self._kwargs)
            if self._abort.is_set():
                raise Cancelled()
            self.returned.emit(result)
        except Exception as exc:  # noqa: BLE001 - handed to the GUI thread to show
            self._fail(exc)
        finally:
            self._end()


def start_worker(worker: Worker, name: str = "worker") -> QThread:
    """Move `worker` to a new QThread and start it; the thread quits when the work ends."""
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    worker.thread_ = thread
    thread.started.connect(worker.run)
    # The registry keeps the QThread alive until it has really stopped (deleting a running
    # QThread aborts the process); finished ones are pruned here.
    for old in [t for t in _threads if t.isFinished()]:
        _threads.discard(old)
        _workers.pop(old, None)
    _threads.add(thread)
    _workers[thread] = worker
    thread.start()
    return thread


def stop_worker(worker: Worker | None, timeout_ms: int = 10_000, abort: bool = True) -> bool:
    """Ask a worker to quit (unless `abort` is False) and wait for its thread; True if it ended.

    Without abort the work must end by itself (e.g. after its own stop request), so that a
    generator still returns its result instead of being closed.
    """
    if worker is None or worker.thread_ is None:
        return True
    if abort:
        worker.quit()
    thread = worker.thread_
    ok = thread.wait(timeout_ms) if thread.isRunning() else True
    if ok:
        _threads.discard(thread)
        _workers.pop(thread, None)
    return ok


class PanelThreads:
    """The QThreads one panel started: abort their work and wait for every one on shutdown.

    A finished worker's thread is still running until its queued quit() is processed on the GUI
    thread, so a panel cannot just forget a thread when its work ends.
    """

    def __init__(self) -> None:
        self._threads: list[QThread] = []

    def start(self, worker: GeneratorWorker | FunctionWorker, name: str) -> None:
        self._threads = [t for t in self._threads if not t.isFinished()]
        self._threads.append(start_worker(worker, name))

    def running(self) -> list[QThread]:
        return [t for t in self._threads if t.isRunning()]

    def stop(self, worker: GeneratorWorker | FunctionWorker | None = None,
             timeout_ms: int = 10_000) -> None:
        """Abort `worker` (if given) and wait until every thread of the panel has ended."""
        if worker is not None:
            worker.quit()
        for thread in self._threads:
            # quit() directly: the queued one would wait for the GUI thread we are blocking.
            thread.quit()
            thread.wait(timeout_ms)
        self._threads = [t for t in self._threads if not t.isFinished()]
