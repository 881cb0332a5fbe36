"""`ProcessWorker`: a training run in a spawned child process, relayed by a QThread.

The child (`engine.training.job.serve`) sends its envelopes (Yielded, then Returned or Errored) through a
pipe; this worker's thread receives them and emits the same signals a GeneratorWorker has, so
the run controller treats the process like any other worker. The child never shares this
process's interpreter lock, which is what keeps training at headless speed while the window
redraws.
"""
from __future__ import annotations

import multiprocessing
import threading
import time
from typing import Any, Callable

from PySide6.QtCore import Signal, Slot

from engine.training.cores import pin_thread
from engine.training.job import receive, send
from engine.training.job_messages import Errored, Request, Returned, Stop, Yielded
from gui.runtime import lower_thread_priority
from gui.workers import Worker


class ProcessWorker(Worker):
    """Runs `target(*args, out, requests)` in a spawned child process (engine.training.job.serve).

    `yielded` carries each message the run yielded (after `prepare`, if given), `returned` its
    TrainingResult, `errored` an exception. `send()` delivers a request (engine.training.job_messages)
    to the child; `quit()` sends Stop and, if the child has not ended KILL_AFTER_S later,
    terminates it. A child that dies without a word ends with `errored`.
    """

    yielded = Signal(object)
    KILL_AFTER_S = 10.0

    def __init__(self, target: Callable[..., None], *args: Any,
                 prepare: Callable[[Any], Any] | None = None,
                 child_cores: set[int] | None = None):
        super().__init__()
        # The child runs on these cores from its first instruction (its ~2 s of imports too).
        self._child_cores = child_cores
        # Called on this worker's thread with each yielded message before it is emitted: work
        # such as building a model from weights then never holds the GUI thread.
        self._prepare = prepare
        # "spawn": a forked copy of a process running Qt threads is not safe to use.
        self._ctx = multiprocessing.get_context("spawn")
        self._target, self._args = target, args
        self._requests_r, self._requests = self._ctx.Pipe(duplex=False)
        self._send_lock = threading.Lock()
        self.pid: int | None = None

    def send(self, request: Request) -> None:
        """A request to the child (thread-safe); ignored once the child is gone."""
        with self._send_lock:
            try:
                send(self._requests, request)
            except (OSError, ValueError):  # closed pipe: the run has ended
                pass

    @Slot()
    def run(self) -> None:
        # Relaying (and preparing) messages can wait for the event loop's redraws.
        lower_thread_priority()
        self.started.emit()
        out_r, out_w = self._ctx.Pipe(duplex=False)
        proc = self._ctx.Process(target=self._target,
                                 args=(*self._args, out_w, self._requests_r),
                                 name="transformer-explorer-training", daemon=True)
        ended, stop_sent = False, None
        try:
            # A child inherits the affinity of the thread that starts it.
            previous = pin_thread(self._child_cores) if self._child_cores else None
            try:
                proc.start()
            finally:
                if previous is not None:
                    pin_thread(previous)
            self.pid = proc.pid
            out_w.close()  # the child holds the only writer: its exit gives EOF here
            self._requests_r.close()
            while True:
                if self._abort.is_set():
                    if stop_sent is None:
                        self.send(Stop())
                        stop_sent = time.monotonic()
                    elif time.monotonic() - stop_sent > self.KILL_AFTER_S and proc.is_alive():
                        proc.terminate()
                if not out_r.poll(0.1):
                    continue
                try:
                    envelope = receive(out_r)
                except (EOFError, OSError):
                    break
                match envelope:
                    case Yielded(message=message):
                        self.yielded.emit(self._prepare(message) if self._prepare else message)
                    case Returned(result=result):
                        ended = True
                        self.returned.emit(result)
                    case Errored(error=error):
                        ended = True
                        self.errored.emit(error)
        except Exception as exc:  # noqa: BLE001 - e.g. the process could not start
            ended = True
            self._fail(exc)
        finally:
            out_r.close()
            with self._send_lock:
                self._requests.close()
            if proc.pid is not None:
                proc.join(5)
                if proc.is_alive():
                    proc.kill()
                    proc.join()
            if not ended:
                self.errored.emit(RuntimeError(self.tr(
                    "The training process ended unexpectedly (exit code {code}); the weights "
                    "shown are the last ones it sent.").format(code=proc.exitcode)))
            self._end()
