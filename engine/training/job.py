"""A training run for a viewer: a generator of messages, and the child process it runs in.

`training_job` tokenizes the text, trains, and reports what a viewer needs to follow along;
it knows nothing about Qt. The desktop app runs it in its own process through `serve`, so the
viewer's Python work (redraws, traces, samples) never holds the trainer's interpreter lock.

Measured on this 2-core machine, default config, 400 steps, window open (benchmarks/bench_gui):
the same job on a thread of the GUI process reached 0.67-0.81 of headless tokens/s, because
every redraw on the GUI thread kept the training thread waiting for the GIL between its many
small torch calls. In its own process, with the window held on the other core (engine.training.cores),
the median of 5 rounds was 1.10 (0.85-1.14 on this noisy machine). Starting a process costs
~1.8 s of imports, once per run.
"""
from __future__ import annotations

import pickle
import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Generator

from engine.training import cores
from engine.config import ModelConfig, TrainConfig
from engine.text.corpus import Corpus
from engine.training.job_messages import (
    Envelope,
    Errored,
    JobMessage,
    Pause,
    Paused,
    Records,
    Request,
    Resume,
    Returned,
    SetRefreshInterval,
    SnapshotWritten,
    Started,
    Status,
    Stop,
    Tokenizing,
    TrainingResult,
    Weights,
    Yielded,
)
from engine.text.tokenizers import Tokenizer


class Cancelled(Exception):
    """Raised inside a progress callback once the run was stopped."""


@dataclass
class StartFrom:
    """An existing model to keep training: its weights, and its trainer state when saved."""

    model_config: ModelConfig
    tokenizer: Tokenizer
    weights: dict  # name -> CPU tensor
    trainer_state: dict | None = None  # Trainer.state_dict(): an exact resume; None: new optimizer


@dataclass
class TrainingRequest:
    """Everything a training run needs, decided by the viewer before it starts."""

    model_config: ModelConfig  # vocab_size is replaced by the corpus's
    train_config: TrainConfig
    device: str
    corpus_path: str | None
    tokenizer: str
    encoding: str | None = None  # the user's choice for corpus_path; None: detect
    corpus: Corpus | None = None  # reused when it was made with the same tokenizer
    start_from: StartFrom | None = None  # continue this model instead of a new one
    # The run directory (engine.training.rundir) this run writes: configs, records, snapshots at step 0
    # and each evaluation (the history panel reads them), the final checkpoint. None: nothing.
    run_dir: str | None = None
    refresh_interval_s: float = 2.0  # newest weights sent to the viewer at most this often
    emit_interval_s: float = 0.2  # records are batched: ~5 deliveries per second
    # The viewer keeps one core (its redraws and traces); the model is too small for a second
    # training thread to pay anyway: headless 1 thread 3,538 tokens/s, 2 threads 3,284.
    torch_threads: int = field(default_factory=lambda: len(cores.split()[1]))


class TrainingControl:
    """Thread-safe requests to a running job: pause, resume, stop, refresh interval."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.paused = False
        self.stopped = False
        self.refresh_interval_s: float | None = None  # set by the viewer from its redraw cost
        self.trainer = None  # set by the job once the Trainer exists

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

    def wait(self, timeout: float) -> None:
        """Sleep until any request arrives (or `timeout` seconds pass)."""
        with self._cond:
            self._cond.wait(timeout)

    def apply(self, request: Request) -> None:
        """Carry out one of the viewer's requests (engine.training.job_messages)."""
        match request:
            case Pause():
                self.pause()
            case Resume():
                self.resume()
            case Stop():
                self.stop()
            case SetRefreshInterval(seconds=seconds):
                self.refresh_interval_s = float(seconds)
            case _:
                raise TypeError(f"not a training request: {request!r}")


# -- the job ------------------------------------------------------------------------------------


def _load_corpus_in_background(req: TrainingRequest, control: TrainingControl,
                               vocab_from: Tokenizer | None):
    """Tokenize on a helper thread, yielding Tokenizing(done, total) meanwhile."""
    from engine.text.corpus import load_corpus

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
                val_fraction=req.train_config.val_fraction, progress=progress,
                vocab_from=vocab_from, encoding=req.encoding)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the job's thread
            box["error"] = exc

    helper = threading.Thread(target=work, name="tokenize", daemon=True)
    helper.start()
    # At least one report, however fast the text was: the viewer's progress line always ends
    # on where tokenizing got to.
    while True:
        helper.join(0.1)
        yield Tokenizing(*box["progress"])
        if not helper.is_alive():
            break
    if "error" in box:
        raise box["error"]
    return box["corpus"]


def _reusable(corpus: Corpus | None, req: TrainingRequest) -> bool:
    """The viewer's corpus has the ids this run needs (same tokenizer, same vocabulary)."""
    if corpus is None or corpus.tokenizer.name != req.tokenizer:
        return False
    start = req.start_from
    return start is None or (
        len(start.tokenizer.vocab) == len(corpus.tokenizer.vocab)
        and bool((start.tokenizer.vocab == corpus.tokenizer.vocab).all()))


def training_job(req: TrainingRequest, control: TrainingControl
                 ) -> Generator[JobMessage, None, TrainingResult]:
    """Train; yields engine.training.job_messages for the viewer and returns a TrainingResult.

    In order: Status and Tokenizing while the text is tokenized (unless the viewer's corpus
    fits), Started, then Records in batches, Weights every refresh interval and at each
    evaluation, SnapshotWritten after each snapshot, and Paused while a pause lasts. The
    result carries the last weights and, when they differ, the best evaluation's (`best`).
    """
    import torch

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(req.torch_threads)
    try:
        return (yield from _train(req, control))
    finally:
        torch.set_num_threads(previous_threads)


def _train(req: TrainingRequest, control: TrainingControl
           ) -> Generator[JobMessage, None, TrainingResult]:
    from engine.training.driver import (Evaluated, RunDriver, RunFinished, RunOutputs,
                                        RunStarted, RunWarning, SnapshotSaved, StepDone)
    from engine.training.runclock import RunClock
    from engine.training.rundir import CHECKPOINT
    from engine.training.runs import build_trainer

    clock = RunClock()  # this run's seconds, from the request (the process is started once)
    start = req.start_from
    if start is not None:
        req = replace(req, tokenizer=start.tokenizer.name,
                      model_config=replace(start.model_config))
    corpus = req.corpus if _reusable(req.corpus, req) else None
    if corpus is None:
        yield Status(f"Tokenizing {req.corpus_path} with {req.tokenizer}…", "tokenizing",
                     {"path": req.corpus_path, "tokenizer": req.tokenizer})
        clock.switch("tokenizing")
        try:
            corpus = yield from _load_corpus_in_background(
                req, control, start.tokenizer if start else None)
        except Cancelled:
            return TrainingResult("stopped", train_config=req.train_config)
        clock.switch("startup")
    tokenizer = start.tokenizer if start is not None else corpus.tokenizer
    train_cfg = req.train_config
    # The one run set-up, shared with the CLI: seeded new model or the given weights, memory
    # and remaining-steps checks, the trainer state for an exact continuation.
    trainer = build_trainer(req.model_config, train_cfg, corpus, device=req.device,
                            weights=start.weights if start is not None else None,
                            trainer_state=start.trainer_state if start is not None else None)
    model = trainer.model
    control.trainer = trainer
    if control.stopped:  # Stop pressed while tokenizing
        trainer.request_stop()
    initial = trainer.weights_snapshot()
    yield Started(
        model_config=model.config, tokenizer=tokenizer, step=trainer.step,
        history=[r.to_dict() for r in trainer.history],  # the earlier runs', continuing
        corpus=None if corpus is req.corpus else corpus,
        device=str(trainer.device), params=model.num_params(),
        train_config=train_cfg, weights=initial)

    # The same run folder the CLI writes (File → Open run reads either), by the same driver.
    # A failed write stops the files, never the run (a full disk stops the run, its weights
    # saved); the window holds the weights and saves them with File → Save.
    run_dir = Path(req.run_dir) if req.run_dir else None
    outputs = RunOutputs(
        checkpoint=run_dir / CHECKPOINT if run_dir is not None else None, run_dir=run_dir,
        corpus_path=req.corpus_path, source="window", command=[],
        save_every_evaluation=False, best_file=False, copies=True, log_every=1,
        flush_interval_s=req.emit_interval_s)
    driver = RunDriver(trainer, outputs, clock=clock, first_weights=initial)
    pending: list[dict] = []
    last_emit = last_refresh = time.monotonic()
    end, show = None, False
    for event in driver.events():
        match event:
            case RunStarted(snapshot=path) if path is not None:
                yield SnapshotWritten(str(path.parent))
            case StepDone(record=rec):
                pending.append(rec.to_dict())
                now = time.monotonic()
                final = rec.event in ("done", "stopped")
                if rec.event == "eval" or final or now - last_emit >= req.emit_interval_s:
                    yield Records(pending)
                    pending, last_emit = [], now
                interval = control.refresh_interval_s or req.refresh_interval_s
                show = not final and (now - last_refresh >= interval or control.paused)
                if show:
                    last_refresh = now
                if rec.event == "step":
                    if show:
                        yield Weights(rec.step, trainer.weights_snapshot(), "refresh", True)
                    yield from _hold_while_paused(control, rec.step)
            case Evaluated(record=rec, weights=state):
                yield Weights(rec.step, state, "eval", show)
                yield from _hold_while_paused(control, rec.step)
            case SnapshotSaved(path=path):
                yield SnapshotWritten(str(path.parent))
            case RunWarning(kind="run_dir_failed", text=text, args=args):
                yield Status(text[:1].upper() + text[1:] + ".", "run_dir_failed", args)
            case RunFinished():
                end = event
    if pending:
        yield Records(pending)
    error = end.error
    if error is not None and not end.explained:
        error.details = "".join(traceback.format_exception(error))  # type: ignore[attr-defined]
    try:
        state = trainer.state_dict(with_weights=True)
    except Exception:  # noqa: BLE001 - the viewer keeps the last weights it was sent
        state = None
    return TrainingResult(end.outcome, step=trainer.step, tokens=trainer.tokens,
                          device=str(trainer.device), train_config=train_cfg, state=state,
                          error=error, best=end.best)


def _hold_while_paused(control: TrainingControl, step: int
                       ) -> Generator[JobMessage, None, None]:
    """Paused(step), then wait while the viewer holds the run (the run's "other" time)."""
    if control.paused:
        yield Paused(step)
        while control.paused and not control.stopped:
            control.wait(0.2)


# -- the child process --------------------------------------------------------------------------


def portable(exc: BaseException) -> BaseException:
    """`exc` if it survives pickling, else a RuntimeError with its message and traceback."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any exception type may fail to rebuild
        plain = RuntimeError(f"{type(exc).__name__}: {exc}")
        plain.details = getattr(exc, "details", None)  # type: ignore[attr-defined]
        return plain


def _listen(conn: Any, control: TrainingControl) -> None:
    """Apply the viewer's requests; a closed pipe (the viewer is gone) stops the run."""
    while True:
        try:
            control.apply(receive(conn))
        except (EOFError, OSError):
            control.stop()
            return


def send(conn: Any, message: Envelope | Request) -> None:
    """Send with plain pickle: tensors travel as bytes. (multiprocessing's pickler, as torch
    extends it, would pass shared-memory handles that die with this process, often first.)"""
    conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def receive(conn: Any) -> Any:
    """The next message `send` wrote; EOFError once the sender is gone."""
    return pickle.loads(conn.recv_bytes())


def serve(req: TrainingRequest, out: Any, requests: Any) -> None:
    """Entry point of the training process: run the job, sending every message through `out`.

    `out` gets Yielded(message) for each message, then Returned(TrainingResult) or
    Errored(exception with `.details`), written by `send`. `requests` delivers the viewer's
    requests (Pause, Resume, Stop, SetRefreshInterval), read by `receive`.
    """
    control = TrainingControl()
    threading.Thread(target=_listen, args=(requests, control), daemon=True).start()
    try:
        job = training_job(req, control)
        while True:
            try:
                message = next(job)
            except StopIteration as stop:
                result = stop.value
                if result.error is not None:
                    result = replace(result, error=portable(result.error))
                send(out, Returned(result))
                return
            send(out, Yielded(message))
    except Exception as exc:  # noqa: BLE001 - shown by the viewer
        exc.details = traceback.format_exc()  # type: ignore[attr-defined]
        send(out, Errored(portable(exc)))
    finally:
        out.close()
