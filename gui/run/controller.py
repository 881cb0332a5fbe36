"""`RunController`: the one owner of a training run in the window (a QObject, no widgets).

It starts the training process (`engine.training.job.serve` in a `ProcessWorker`), sends it the typed
requests, and turns its typed messages into Session updates and Qt signals that the Training
panel and the window connect to. The run's state (idle / preparing / running / paused /
stopping), the steps it goes to, whether the session's model can keep training (`resumable`)
and the last run's result live here and nowhere else; "training is active" is published as
`Session.training`.

The process keeps its own core and this process keeps the other (gui.runtime); the objects
alive at the start are frozen out of the cyclic collector; models are built from weights on
the relay thread (gui.run.relay); the child paces the weights to show by the window's measured
redraw cost (`note_redraw_cost`); each evaluation's sample is written off the GUI thread, and
only the newest one counts (gui.latest.Latest).
"""
from __future__ import annotations

import time
from dataclasses import replace
from enum import Enum

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal

from engine.config import ModelConfig, TrainConfig
from engine.training.job import StartFrom, TrainingRequest, serve
from engine.training.job_messages import (
    BestEvaluation,
    Pause,
    Paused,
    Records,
    Resume,
    SetRefreshInterval,
    SnapshotWritten,
    Status,
    Stop,
    Tokenizing,
    TrainingResult,
)
from gui import runtime
from gui.latest import Latest
from gui.run import rundirs
from gui.run.follow import RunFollower
from gui.run.pacing import refresh_interval, sample_tokens
from gui.run.process import ProcessWorker
from gui.run.relay import ModelBuilder, StartedModel, WeightsModel, model_from_weights
from gui.run.sample import Sample, sample_text
from gui.session import Session
from gui.workers import start_worker, stop_worker


class RunState(str, Enum):
    """Where a run is; compares equal to its value ("idle", ...)."""

    IDLE = "idle"
    PREPARING = "preparing"  # the process is starting or tokenizing
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"  # Stop was sent; the run ends at a step boundary


def describe(result: TrainingResult) -> str:
    """The sentences that tell how a run ended (the status bar's and the panel's), in the
    installed language."""
    steps = f"{result.step:,}"
    translate = QCoreApplication.translate  # lupdate reads the literal calls below
    text = {
        "done": translate("RunController", "Training finished after {steps} steps."),
        "stopped": translate(
            "RunController", "Training stopped at step {steps}; the weights so far are kept."),
        "diverged": translate(
            "RunController", "Training diverged at step {steps}; the last good weights are kept."),
        "failed": translate(
            "RunController", "Training failed at step {steps}; the last good weights are kept."),
    }[result.outcome].format(steps=steps)
    if result.best is not None:
        text += " " + translate(
            "RunController", "Validation loss was lowest at step {step} ({loss}): you can keep "
            "those weights instead.").format(step=f"{result.best.step:,}",
                                             loss=f"{result.best.val_loss:.3f}")
    if result.state is not None:
        text += " " + translate("RunController", "Save it with File → Save model (Ctrl+S).")
    return text


def describe_kept(kept: str, result: TrainingResult) -> str:
    """The sentence that says which of a run's weights the session holds now."""
    translate = QCoreApplication.translate
    if kept == "best":
        return translate(
            "RunController", "Kept the best weights (step {step}, validation loss {loss}); Save "
            "saves these.").format(step=f"{result.step:,}", loss=f"{_val_loss(result):.3f}")
    return translate("RunController", "Kept the last weights (step {step}); Save saves these."
                     ).format(step=f"{result.step:,}")


def _val_loss(result: TrainingResult) -> float:
    """The validation loss of the last evaluation in a result's state."""
    rows = (result.state or {}).get("history", [])
    losses = [r["val_loss"] for r in rows if r.get("val_loss") is not None]
    return losses[-1] if losses else float("nan")


class RunController(QObject):
    """Start, pause, resume and stop training runs of the session's model; see the module doc."""

    state_changed = Signal(str)  # a RunState value
    started = Signal(object)  # engine.training.job_messages.Started; its model is the session's now
    tokenizing = Signal(int, int)  # done, total
    job_status = Signal(str)  # a line from the training process, e.g. "Tokenizing …"
    progress = Signal(object)  # the newest record (a row already in session.history)
    pause_requested = Signal()  # the run will pause after its current step
    paused = Signal(int)  # the step it holds at
    sample_ready = Signal(object)  # gui.run.sample.Sample of the newest evaluation
    sample_failed = Signal(object)  # the exception
    finished = Signal(object)  # TrainingResult; None when the process ended without one
    failed = Signal(object, bool)  # the process's exception, and whether the run had started
    status_message = Signal(str)  # a line for the window's status bar
    resumable_changed = Signal()
    # The last run's best weights became available, were kept or given back, or were
    # forgotten: read `best` and `kept`.
    choice_changed = Signal()
    # A followed run directory started, stopped, or has news: read `follower`.
    follow_changed = Signal()

    def __init__(self, session: Session, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self._worker: ProcessWorker | None = None
        self._thread = None  # the last run's QThread: it ends a moment after its worker does
        self._state = RunState.IDLE
        self._total_steps = 0
        # The session's model with its trainer state, when it can keep training exactly: the
        # last run's result, or a model opened from a file saved with its optimizer state.
        self._resumable: StartFrom | None = None
        self._last_result: TrainingResult | None = None  # as kept: the last or best weights
        self._run_result: TrainingResult | None = None  # the run's result as it ended
        self._kept = "last"  # which of the last run's weights the session holds
        self._failure: BaseException | None = None  # the process ended without a result
        self._had_started = False  # Started arrived: the session shows this run's model
        self._shown_step = -1  # step of the weights the session holds
        self._run_dir: str | None = None  # the current (or last) run's directory
        # A run directory written elsewhere, shown instead of a run of this window's own.
        self._follower: RunFollower | None = None
        self._sample_s_per_token = 0.0  # measured on the last sample
        self._last_sample = 0.0
        # Low priority: it shares this process's core with the panels' redraws.
        self._samples = Latest("training-sample", supersede=True, low_priority=True,
                               parent=self)
        self._samples.done.connect(self._on_sample)
        self._samples.failed.connect(self._on_sample_failed)

    # -- what the window and the panel read ----------------------------------------------------

    @property
    def state(self) -> RunState:
        return self._state

    @property
    def is_active(self) -> bool:
        """A run is starting, running, paused or stopping."""
        return self._state is not RunState.IDLE

    @property
    def total_steps(self) -> int:
        """The step the current (or last) run trains to."""
        return self._total_steps

    @property
    def last_result(self) -> TrainingResult | None:
        """How the last run ended (its state can be saved); None before, or after clear_result."""
        return self._last_result

    @property
    def resumable(self) -> StartFrom | None:
        """What "continue training" starts from, or None when the model cannot continue."""
        return self._resumable

    @property
    def process_id(self) -> int | None:
        """The training process's pid while a run lasts."""
        return None if self._worker is None else self._worker.pid

    @property
    def run_dir(self) -> str | None:
        """The run directory (engine.training.rundir) of the current (or last) run of this window."""
        return self._run_dir

    @property
    def follower(self) -> RunFollower | None:
        """The run directory being followed (File → Open run), or None."""
        return self._follower

    def set_resumable(self, start: StartFrom | None) -> None:
        """The session's model can (or, with None, can no longer) continue training."""
        self._resumable = start
        self.resumable_changed.emit()

    @property
    def run_result(self) -> TrainingResult | None:
        """How the last run ended, with its last weights (whichever ones are kept)."""
        return self._run_result

    @property
    def best(self) -> BestEvaluation | None:
        """The last run's best evaluation when its weights are not the last ones (the user may
        keep either); None otherwise, or once the result is forgotten."""
        return None if self._run_result is None else self._run_result.best

    @property
    def kept(self) -> str:
        """Which of the last run's weights the session holds: "last" or "best"."""
        return self._kept

    def keep(self, which: str) -> bool:
        """Put the last run's "best" or "last" weights in the session. From then on they are
        the run's result: `last_result.state` is their trainer state (their step, and the
        history up to it), so Save writes an exact checkpoint of that step and Continue
        starts from it. False when there is no such choice (or a run is active)."""
        run, session = self._run_result, self.session
        if (self.is_active or run is None or run.best is None or session.model is None
                or which not in ("best", "last") or (which == "last" and run.state is None)):
            return False
        if which == self._kept:
            return True
        result = run if which == "last" else replace(run, step=run.best.step,
                                                     state=run.best.state, best=None)
        self._last_result, self._kept = result, which
        weights = result.state["model"]
        session.set_weights(model_from_weights(session.model.config, weights))
        session.mark_trained(run.train_config)  # other weights: unsaved again
        self.set_resumable(StartFrom(session.model.config, session.tokenizer, weights,
                                     result.state))
        self.status_message.emit(describe_kept(which, result))
        self.choice_changed.emit()
        return True

    def clear_result(self) -> None:
        """Forget the last run's result (the session shows another model now)."""
        self._last_result = self._run_result = None
        self._kept = "last"
        self.choice_changed.emit()

    # -- control -------------------------------------------------------------------------------

    def start(self, model_config: ModelConfig, train_config: TrainConfig, tokenizer: str,
              continuing: bool = False) -> bool:
        """Train on the session's text on `train_config.device`: a new model of `model_config`,
        or, `continuing`, the resumable one for `train_config.steps` more steps. False if a run
        is active."""
        if self._state is not RunState.IDLE:
            return False
        self.stop_following()  # this run's model replaces the followed one
        session = self.session
        start_from = self._resumable if continuing else None
        if start_from is not None:  # the form's steps are more steps from where it stopped
            state = start_from.trainer_state  # None: an imported model fine-tunes from step 0
            done = int(state["step"]) if state is not None else 0
            train_config = replace(train_config, steps=train_config.steps + done)
        request = TrainingRequest(
            model_config=model_config, train_config=train_config, device=train_config.device,
            corpus_path=session.corpus_path, encoding=session.corpus_encoding,
            tokenizer=tokenizer, corpus=session.corpus,
            start_from=start_from, run_dir=self._new_run_dir())
        # This process (redraws, traces, samples) keeps to its core while the run lasts.
        training_cores = runtime.split_cores_for_training()
        runtime.freeze_garbage_collector()  # what exists now (e.g. the opened model) stays
        self._total_steps = train_config.steps
        self._shown_step = -1
        self._had_started = False
        self._failure = None
        self._last_result = self._run_result = None
        self._kept = "last"
        self.choice_changed.emit()
        worker = ProcessWorker(serve, request, prepare=ModelBuilder(), child_cores=training_cores)
        # Explicitly queued: these run on the GUI thread whatever PySide6 infers from the slot.
        queued = Qt.ConnectionType.QueuedConnection
        worker.yielded.connect(self._on_message, queued)
        worker.returned.connect(self._on_returned, queued)
        worker.errored.connect(self._on_errored, queued)
        worker.finished.connect(self._on_worker_finished, queued)
        self._worker = worker
        self._set_state(RunState.PREPARING)
        session.set_training(True)
        self._thread = start_worker(worker, "training")
        return True

    def pause(self) -> None:
        """Hold the run after its current step."""
        if self._worker is not None and self._state is RunState.RUNNING:
            self._worker.send(Pause())
            self.pause_requested.emit()

    def resume(self) -> None:
        if self._worker is not None and self._state is RunState.PAUSED:
            self._worker.send(Resume())
            self._set_state(RunState.RUNNING)

    def toggle_pause(self) -> None:
        """Pause a running run, resume a paused one."""
        if self._state is RunState.RUNNING:
            self.pause()
        elif self._state is RunState.PAUSED:
            self.resume()

    def stop(self) -> None:
        """Stop after the current step; the run ends with its weights so far."""
        if self._worker is not None and self._state in (
                RunState.PREPARING, RunState.RUNNING, RunState.PAUSED):
            self._worker.send(Stop())
            self._set_state(RunState.STOPPING)

    def note_redraw_cost(self, seconds: float) -> None:
        """The window redrew every panel from new weights in `seconds`: pace the next ones."""
        if self._worker is not None:
            self._worker.send(SetRefreshInterval(refresh_interval(seconds)))

    def wait_finished(self, timeout_ms: int = 30_000) -> bool:
        """Block until the training process and its thread have ended (used when quitting)."""
        self._samples.reset()
        if self._worker is None:
            # The finished worker's thread runs until its own quit is processed (a moment).
            thread = self._thread
            return thread is None or not thread.isRunning() or thread.wait(timeout_ms)
        # No abort: after a stop request the job ends at a step boundary and returns its result.
        return stop_worker(self._worker, timeout_ms, abort=False)

    def shutdown(self) -> None:
        """Stop the run (if any), the follower and the sample thread (window closing). The run
        directories stay: File → Open run opens them again."""
        if self._worker is not None:
            self._worker.send(Stop())
        self.wait_finished()
        self.stop_following()
        self._samples.shutdown()

    # -- following a run directory written elsewhere (File → Open run) ------------------------

    def follow(self, directory: str) -> RunFollower:
        """Show the run written in `directory` as it grows (engine.training.rundir.NotARun if it is not
        a run). Its records, snapshots and newest weights arrive through the same paths as a
        run of this window's (`deliver`). The caller must not be training."""
        self.stop_following()
        follower = RunFollower(self.session, self.deliver, self)
        try:
            follower.start(directory)
        except ValueError:  # NotARun: checked before anything changed
            follower.stop()
            follower.deleteLater()
            raise
        self._follower = follower
        follower.changed.connect(self.follow_changed)
        self.clear_result()
        self.set_resumable(None)  # snapshots carry weights only, no optimizer state
        self.follow_changed.emit()
        return follower

    def stop_following(self) -> None:
        """Stop following a run directory (another model or run is opened)."""
        if self._follower is not None:
            follower, self._follower = self._follower, None
            follower.stop()
            follower.deleteLater()
            self.follow_changed.emit()

    def deliver(self, message: object) -> None:
        """A run's message as if the training process sent it: Records, WeightsModel (from
        gui.run.relay) or SnapshotWritten."""
        self._on_message(message)

    # -- messages from the training process (GUI thread) ---------------------------------------

    def _on_message(self, message: object) -> None:
        session = self.session
        match message:
            case Records(rows=rows):
                session.append_history(rows)
                self.progress.emit(rows[-1])
            case WeightsModel(step=step, model=model, reason=reason, show=show):
                if show and model is not None:
                    self._shown_step = step
                    session.set_weights(model)  # the window re-traces the context through them
                if reason == "eval" and model is not None:
                    self._write_sample(step, model)
            case SnapshotWritten(directory=directory):
                from engine.training.snapshots import SnapshotStore

                store = session.snapshots
                if store is None or str(store.directory) != directory:
                    store = SnapshotStore(directory)  # a new run; later ones only add files
                session.set_snapshots(store)
            case Paused(step=step):
                if self._state is RunState.RUNNING:  # not once Stop was sent
                    self._set_state(RunState.PAUSED)
                    self.paused.emit(step)
                    self.status_message.emit(self.tr("Training paused at step {step}").format(
                        step=f"{step:,}"))
            case Tokenizing(done=done, total=total):
                self.tokenizing.emit(done, total)
            case Status():
                text = self._status_text(message)
                self.job_status.emit(text)
                self.status_message.emit(text)
            case StartedModel(info=info, model=model):
                if info.corpus is not None:  # same file, now tokenized with the form's tokenizer
                    session.set_tokenized_corpus(info.corpus)
                session.mark_trained(info.train_config)
                session.set_model(model, info.tokenizer, history=info.history)
                self._had_started = True
                if self._state is RunState.PREPARING:
                    self._set_state(RunState.RUNNING)
                self.status_message.emit(self.tr("Training on {device}").format(
                    device=info.device))
                self.started.emit(info)

    def _on_returned(self, result: TrainingResult) -> None:
        self._last_result = self._run_result = result
        session = self.session
        if result.state is not None and session.model is not None:
            session.mark_trained(result.train_config)
            self.set_resumable(StartFrom(session.model.config, session.tokenizer,
                                         result.state["model"], result.state))
            # A finished run's last weights are usually its last evaluation's, shown already;
            # a failed one may have gone back to earlier weights.
            if result.outcome not in ("done", "stopped") or self._shown_step != result.step:
                session.set_weights(model_from_weights(session.model.config,
                                                       result.state["model"]))

    def _on_errored(self, exc: BaseException) -> None:
        self._failure = exc

    def _on_worker_finished(self) -> None:
        self._worker = None
        runtime.release_cores()
        if self._state is RunState.IDLE:
            return
        self._set_state(RunState.IDLE)
        self.session.set_training(False)
        result, failure = self._last_result, self._failure
        self._failure = None
        if result is not None:
            self.status_message.emit(describe(result))
        self.finished.emit(result)
        self.choice_changed.emit()
        if failure is not None:
            self.failed.emit(failure, self._had_started)

    def _status_text(self, status: Status) -> str:
        """A line of the training process, worded here in the installed language."""
        if status.kind == "tokenizing":
            return self.tr("Tokenizing {path} with {tokenizer}…").format(**status.args)
        if status.kind == "run_dir_failed":
            return self.tr("Writing the run folder {path} failed ({reason}); training goes on "
                           "without it.").format(**status.args)
        return status.text

    def _set_state(self, state: RunState) -> None:
        self._state = state
        self.state_changed.emit(state.value)

    # -- the sample at each evaluation ---------------------------------------------------------

    def _write_sample(self, step: int, model) -> None:
        """Text generated from the context by the weights of evaluation `step`, off this
        thread; a sample still being written is abandoned for the newer one."""
        session = self.session
        now = time.monotonic()
        n = sample_tokens(self._sample_s_per_token, now - self._last_sample)
        self._last_sample = now
        seed = session.train_config.seed if session.train_config else 0
        self._samples.submit(sample_text, model, session.tokenizer,
                             session.context_text or "\n", n, seed, step)

    def _on_sample(self, _key: str, sample: Sample) -> None:
        self._sample_s_per_token = sample.s_per_token
        self.sample_ready.emit(sample)

    def _on_sample_failed(self, _key: str, exc: BaseException) -> None:
        self.sample_failed.emit(exc)

    # -- the run directory ---------------------------------------------------------------------

    def _new_run_dir(self) -> str | None:
        """A fresh run directory for this run (gui.run.rundirs keeps the newest ones); None,
        and a status line saying so, when the runs folder cannot be written: the run goes on,
        only without its files."""
        try:
            self._run_dir = rundirs.new_run_dir(self.session.corpus_path)
        except OSError as exc:
            self._run_dir = None
            self.status_message.emit(self.tr(
                "This run is not written to disk ({reason}); File → Open run cannot open it "
                "later.").format(reason=exc.strerror or exc))
        return self._run_dir
