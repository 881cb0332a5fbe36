"""Long work off the GUI thread: generator/function workers on QThreads, and the trace service.

In the style of superqt's `thread_worker`: the work is a plain generator (or function) that knows
nothing about Qt; every `yield` becomes a queued `yielded` signal delivered on the GUI thread, and
abort is checked between yields. Only the GUI thread touches widgets.

Every QThread started here is registered, so the window can stop them all on close and tests can
assert that none is left running (`running_threads()`).
"""
from __future__ import annotations

import atexit
import os
import threading
import traceback
from typing import Any, Callable, Generator, Iterable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

_threads: set[QThread] = set()


def _stop_all_threads() -> None:
    """At interpreter exit: a QThread destroyed while running aborts the process."""
    for thread in list(_threads):
        if thread.isRunning():
            thread.quit()
            thread.wait(5000)


atexit.register(_stop_all_threads)


def running_threads() -> list[QThread]:
    """QThreads started by this module that have not finished yet."""
    return [t for t in list(_threads) if t.isRunning()]


class Cancelled(Exception):
    """Raised inside a worker's progress callback once the user cancelled."""


class _Worker(QObject):
    """Shared plumbing: signals, abort flag, and error capture."""

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


class GeneratorWorker(_Worker):
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


class FunctionWorker(_Worker):
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


def start_worker(worker: _Worker, name: str = "worker") -> QThread:
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
    _threads.add(thread)
    thread.start()
    return thread


def stop_worker(worker: _Worker | None, timeout_ms: int = 10_000, abort: bool = True) -> bool:
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
    return ok


# -- tracing ----------------------------------------------------------------------------------

class _TraceJob(QObject):
    """Lives on the trace thread; always works on the newest request and drops older ones."""

    done = Signal(int, object)  # generation, Trace
    failed = Signal(int, object)  # generation, exception

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._pending: tuple | None = None

    def post(self, generation: int, model, ids, ablate: Iterable[tuple[int, int]]) -> None:
        with self._lock:
            self._pending = (generation, model, ids, tuple(ablate))

    @Slot()
    def process(self) -> None:
        from engine.trace import run_trace  # torch import stays off the launch path

        with self._lock:
            job, self._pending = self._pending, None
        if job is None:  # a newer request already took this wake-up's work
            return
        generation, model, ids, ablate = job
        try:
            trace = run_trace(model, ids, ablate=ablate)
        except Exception as exc:  # noqa: BLE001 - reported to the GUI thread
            exc.details = traceback.format_exc()  # type: ignore[attr-defined]
            self.failed.emit(generation, exc)
            return
        self.done.emit(generation, trace)


class TraceService(QObject):
    """One traced forward at a time on its own thread; results of stale requests are dropped.

    `request()` returns at once; `traced(trace)` arrives on the GUI thread for the newest
    request that finished (never for one older than what is already shown).
    """

    traced = Signal(object)  # Trace
    failed = Signal(object)  # exception
    _wake = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._generation = 0
        self._shown = 0
        self._job = _TraceJob()
        self._thread = QThread()
        self._thread.setObjectName("trace")
        self._job.moveToThread(self._thread)
        queued = Qt.ConnectionType.QueuedConnection
        self._wake.connect(self._job.process, queued)  # runs on the trace thread
        self._job.done.connect(self._on_done, queued)  # back on the GUI thread
        self._job.failed.connect(self._on_failed, queued)
        _threads.add(self._thread)
        self._thread.start()

    @property
    def pending(self) -> bool:
        """A request has not been answered yet."""
        return self._shown < self._generation

    def request(self, model, ids, ablate: Iterable[tuple[int, int]] = ()) -> int:
        """Trace `ids` through `model` in the background; returns the request's generation."""
        self._generation += 1
        self._job.post(self._generation, model, ids, ablate)
        self._wake.emit()
        return self._generation

    def _on_done(self, generation: int, trace) -> None:
        if generation > self._shown:
            self._shown = generation
            self.traced.emit(trace)

    def _on_failed(self, generation: int, exc: BaseException) -> None:
        if generation > self._shown:
            self._shown = generation
            self.failed.emit(exc)

    def shutdown(self) -> None:
        """Stop the thread (after the running trace, if any, finishes)."""
        if self._thread.isRunning():
            self._thread.quit()
            self._thread.wait()
        _threads.discard(self._thread)


# -- training ---------------------------------------------------------------------------------
#
# Where the live refresh trace runs, by measurement (this 2-core machine, default config:
# d_model 64, 8 layers, context 16, batch 4, vocab 3,771):
#   training step alone ................................ 19.7 ms
#   training step while another thread traces in a loop  64.3 ms  (3.3x slower)
#   training step + one in-thread trace every 20 steps . 17.9 ms  (no measurable cost)
#   weights snapshot 1.9 ms, load into the view copy 1.6 ms, trace of 16 tokens 6.3 ms (1 thread)
# Two torch thread pools on two cores fight (OpenMP barriers spin), so the refresh trace never
# runs on another thread while training: the training thread itself, between steps, copies the
# weights into a CPU "view" copy, traces the context and hands (weights, trace) to the GUI.
# The same thread serves context edits while training, so GUI-side tracing stays idle.
#
# Torch threads of the training thread, by measurement (default config, 200-400 steps):
#   headless, idle machine: 1 thread 3,538 tokens/s, 2 threads 3,284 (the model is too small
#   for a second thread to pay); in the app with 2 threads 1,140 tokens/s, with 1 thread 2,400+
#   (the GUI thread's redraws then have the other core). So training keeps cores - 1 threads.


SAMPLE_BUDGET = 0.05  # share of training time the evaluation samples may take


class TrainingControl:
    """Thread-safe requests from the GUI to a running training job."""

    def __init__(self, context_text: str = "") -> None:
        self._cond = threading.Condition()
        self.paused = False
        self.stopped = False
        self.context_text = context_text
        self.refresh_requested = False
        self.trainer = None  # set by the job once the Trainer exists
        self.refresh_interval_s: float | None = None  # set by the GUI from its redraw cost

    def pause(self) -> None:
        with self._cond:
            self.paused = True
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self.paused = False
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self.stopped = True
            self.paused = False
            trainer = self.trainer
            self._cond.notify_all()
        if trainer is not None:
            trainer.request_stop()

    def set_context(self, text: str) -> None:
        """New context text: the job re-traces it at its next step boundary."""
        with self._cond:
            self.context_text = text
            self.refresh_requested = True
            self._cond.notify_all()

    def wait(self, timeout: float) -> None:
        """Sleep until any request arrives (or `timeout` seconds pass)."""
        with self._cond:
            self._cond.wait(timeout)

    def take_refresh(self) -> bool:
        with self._cond:
            requested, self.refresh_requested = self.refresh_requested, False
            return requested


class TrainingRequest:
    """Everything a training job needs, decided on the GUI thread before it starts."""

    def __init__(self, model_config, train_config, device: str, corpus_path: str | None,
                 tokenizer: str, corpus=None, refresh_interval_s: float = 2.0,
                 emit_interval_s: float = 0.2, sample_tokens: int = 48,
                 torch_threads: int | None = None, snapshot_dir: str | None = None) -> None:
        self.model_config = model_config  # vocab_size is replaced by the corpus's
        self.train_config = train_config
        self.device = device
        self.corpus_path = corpus_path
        self.tokenizer = tokenizer
        self.corpus = corpus  # reused when it was made with the same tokenizer
        self.refresh_interval_s = refresh_interval_s  # live trace of the panels while training
        # Weights saved at step 0 and at every evaluation, for the Training history panel.
        self.snapshot_dir = snapshot_dir
        self.emit_interval_s = emit_interval_s  # records are batched: ~5 deliveries per second
        self.sample_tokens = sample_tokens  # generated at each evaluation (0: no samples)
        # One core stays with the GUI thread (see the measurements above training_job).
        self.torch_threads = torch_threads or max(1, (os.cpu_count() or 2) - 1)


class TrainingResult:
    """How a training job ended, with the model it leaves (CPU, eval mode)."""

    def __init__(self, outcome: str, model, tokenizer, corpus, trainer, train_config,
                 history: list[dict], error: BaseException | None = None) -> None:
        self.outcome = outcome  # "done", "stopped", "diverged", "failed"
        self.model = model
        self.tokenizer = tokenizer
        self.corpus = corpus
        self.trainer = trainer
        self.train_config = train_config
        self.history = history
        self.error = error
        self.gui_work: dict[str, float] = {}


def _load_corpus_in_background(req: TrainingRequest, control: TrainingControl):
    """Tokenize the corpus on a helper thread, yielding ("progress", done, total) meanwhile."""
    from engine.corpus import load_corpus

    box: dict[str, Any] = {"progress": (0, 0)}

    def progress(done: int, total: int) -> None:
        if control.stopped:
            raise Cancelled()
        box["progress"] = (done, total)

    def work() -> None:
        try:
            box["corpus"] = load_corpus(
                req.corpus_path, tokenizer=req.tokenizer,
                context_length=req.model_config.context_length,
                val_fraction=req.train_config.val_fraction, progress=progress)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the job's thread
            box["error"] = exc

    helper = threading.Thread(target=work, name="tokenize", daemon=True)
    helper.start()
    while helper.is_alive():
        helper.join(0.1)
        yield ("progress",) + box["progress"]
    if "error" in box:
        raise box["error"]
    return box["corpus"]


def training_job(req: TrainingRequest, control: TrainingControl):
    """Train a new model; yields ("kind", ...) messages for the GUI and returns a TrainingResult.

    Messages: ("status", text), ("progress", done, total), ("started", info dict),
    ("records", [row dicts]), ("snapshot", state_dict, trace | None),
    ("sample", step, text), ("paused", step), ("snapshots", SnapshotStore).
    """
    import torch

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(req.torch_threads)
    try:
        return (yield from _train(req, control))
    finally:
        torch.set_num_threads(previous_threads)


def _train(req: TrainingRequest, control: TrainingControl):
    import copy
    import time
    from dataclasses import replace

    import torch

    from engine.model import GPT
    from engine.train import Trainer, TrainingDiverged, TrainingError
    from engine.trace import run_trace

    corpus = req.corpus
    if corpus is None or corpus.tokenizer.name != req.tokenizer:
        yield ("status", f"Tokenizing {req.corpus_path} with {req.tokenizer}…")
        try:
            corpus = yield from _load_corpus_in_background(req, control)
        except Cancelled:
            return TrainingResult("stopped", None, None, None, None, req.train_config, [])
    tokenizer = corpus.tokenizer
    model_cfg = replace(req.model_config, vocab_size=tokenizer.vocab_size).validate()
    train_cfg = req.train_config
    torch.manual_seed(train_cfg.seed)  # the same seed gives the same initial weights
    model = GPT(model_cfg)
    # The view copy stays on the CPU in eval mode: traces and samples are read from it, so the
    # training model's device, mode and RNG are never disturbed.
    view = copy.deepcopy(model).eval()
    trainer = Trainer(model, corpus, train_cfg, device=req.device)
    control.trainer = trainer
    if control.stopped:  # Stop pressed while tokenizing
        trainer.request_stop()
    yield ("started", {
        "model": copy.deepcopy(view), "tokenizer": tokenizer, "corpus": corpus,
        "device": str(trainer.device), "params": model.num_params(),
        "train_config": train_cfg,
    })

    history: list[dict] = []
    pending: list[dict] = []
    last_emit = last_refresh = time.monotonic()

    gui_work = {"refresh_s": 0.0, "refreshes": 0, "sample_s": 0.0, "samples": 0}
    per_token, last_sample = [0.0], [time.perf_counter()]

    def refresh():
        """Newest weights into the view copy, and a trace of the context through them."""
        t0 = time.perf_counter()
        state = trainer.weights_snapshot()
        view.load_state_dict(state)
        ids = tokenizer.encode(control.context_text)[: model_cfg.context_length]
        trace = run_trace(view, ids) if len(ids) else None
        gui_work["refresh_s"] += time.perf_counter() - t0
        gui_work["refreshes"] += 1
        return state, trace

    def sample() -> str:
        """Text generated from the context by the newest weights (prompt excluded)."""
        from engine.sample import generate

        t0 = time.perf_counter()
        # Measured: a 48-token sample of the default model took ~0.3 s, 11 % of a run with an
        # evaluation every 100 steps. Samples get at most SAMPLE_BUDGET of the training time
        # since the last one (at least 8 tokens), from the measured cost per token.
        budget = SAMPLE_BUDGET * (t0 - last_sample[0])
        n = req.sample_tokens
        if per_token[0] > 0:
            n = max(8, min(n, int(budget / per_token[0])))
        prompt = control.context_text or "\n"
        text = ""
        for step in generate(view, tokenizer, prompt, max_new_tokens=n,
                             temperature=0.8, top_k=40, seed=train_cfg.seed, top_n=0):
            text = step.text
        spent = time.perf_counter() - t0
        per_token[0] = spent / max(1, n)
        last_sample[0] = time.perf_counter()
        gui_work["sample_s"] += spent
        gui_work["samples"] += 1
        return text

    store = None
    if req.snapshot_dir:
        from engine.snapshots import SnapshotStore

        store = SnapshotStore(req.snapshot_dir)
        store.add(0, trainer.weights_snapshot(), {"step": 0})  # the untrained starting point
        yield ("snapshots", store)

    outcome, error = "done", None
    try:
        for rec in trainer.run():
            row = rec.to_dict()
            pending.append(row)
            now = time.monotonic()
            final = rec.event in ("done", "stopped")
            if rec.event == "eval" or final or now - last_emit >= req.emit_interval_s:
                history.extend(pending)
                yield ("records", pending)
                pending, last_emit = [], now
            # Every refresh costs the GUI thread a redraw of all panels (~0.2 s measured, most
            # of it the embeddings map), so evaluations do not add refreshes of their own.
            interval = control.refresh_interval_s or req.refresh_interval_s
            refresh_due = now - last_refresh >= interval
            if control.take_refresh() or refresh_due or final or control.paused:
                yield ("snapshot",) + refresh()
                last_refresh = time.monotonic()
            if rec.event == "eval" and store is not None:
                # ~3 MB written per evaluation for the default model; the store thins itself
                # to at most 40 files, so a long run stays bounded on disk.
                store.add(rec.step, trainer.weights_snapshot(), {
                    "step": rec.step, "val_loss": rec.val_loss,
                    "train_loss": rec.eval_train_loss})
                yield ("snapshots", store)
            if rec.event == "eval" and req.sample_tokens > 0:
                view.load_state_dict(trainer.weights_snapshot())
                yield ("sample", rec.step, sample())
            if rec.event == "stopped":
                outcome = "stopped"
            if control.paused and not final:
                yield ("paused", rec.step)
                # Between steps, so the trainer is idle; context edits are still traced here.
                while control.paused and not control.stopped:
                    control.wait(0.2)
                    if control.take_refresh():
                        yield ("snapshot",) + refresh()
    except (TrainingDiverged, TrainingError) as exc:
        # The trainer restored the last good weights; show them and say what happened.
        outcome, error = "diverged" if isinstance(exc, TrainingDiverged) else "failed", exc
    except Cancelled:
        outcome = "stopped"
    except Exception as exc:  # noqa: BLE001 - training must never take the window down
        exc.details = traceback.format_exc()  # type: ignore[attr-defined]
        outcome, error = "failed", exc
    if pending:
        history.extend(pending)
        yield ("records", pending)
    try:
        state, trace = refresh()
        yield ("snapshot", state, trace)
    except Exception:  # noqa: BLE001 - the weights in `view` are the last good ones we have
        pass
    result = TrainingResult(outcome, view, tokenizer, corpus, trainer, train_cfg, history, error)
    result.gui_work = gui_work  # seconds the training thread spent on the GUI's behalf
    return result


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
