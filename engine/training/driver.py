"""The one run driver: trains a Trainer to its end, writes its run, and yields what happened.

The CLI (engine.cli.train) prints these events and the window's training process
(engine.training.job) turns them into its job messages; neither drives `Trainer.run` itself.
So the rules of a run live here once:

- the run folder: locked for this writer, started, fed records in batches and a snapshot at
  every evaluation, ended by end.json naming the newest good checkpoint (whatever happened);
- the checkpoint: saved at every evaluation (when asked), at the end, after a divergence, and
  the best evaluation's beside it (engine.training.saves); never silently lost;
- the best weights: the trainer's whole state at the evaluation with the lowest validation
  loss, taken when it improves;
- failures: a divergence or out-of-memory error ends the run with its weights saved; a full
  disk stops training with its weights rescued; Ctrl+C saves and says it was interrupted; any
  other error (a lost rank, a bug) still writes end.json, and the caller re-raises it;
- time: every second of the run counted in one part (engine.training.runclock).

Only the main process (rank 0 under torchrun) writes; the other ranks train in step through
the same loop with nothing to write.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Union

from engine.storage.checkpoint import SaveError
from engine.training.diskwrites import no_room
from engine.training.records import StepRecord, TrainingDiverged, TrainingError
from engine.training.runclock import RunClock, RunSeconds
from engine.training.saves import BestEvaluation, OutOfRoom, RunSaves

if TYPE_CHECKING:
    from engine.training.runlock import RunLock
    from engine.training.trainer import Trainer

__all__ = ["RunOutputs", "RunDriver", "RunStarted", "StepDone", "Evaluated", "SnapshotSaved",
           "CheckpointSaved", "RunWarning", "RunFinished", "RunEvent", "BestEvaluation"]


@dataclass(frozen=True)
class RunOutputs:
    """Where a run's results go, and how often (decided before it starts)."""

    checkpoint: Path | None  # the run's model file; None: nothing is saved (a rank > 0)
    run_dir: Path | None  # its run folder (engine.training.rundir); None: none written
    corpus_path: str | None = None
    source: str = "cli"  # who started it, in run.json: "cli" or "window"
    command: list[str] | None = None  # run.json's command line (None: sys.argv)
    world_size: int = 1
    start: tuple[Path, int] | None = None  # a checkpoint this run continues in place, its step
    save_every_evaluation: bool = True  # a crash then loses at most one interval
    best_file: bool = True  # <name>.best.safetensors when the best evaluation is not the last
    bundle: bool = False  # weights only, no optimizer state
    copies: bool = False  # events carry copies of the weights (they outlive the step)
    log_every: int = 10  # a record every this many steps
    flush_interval_s: float = 1.0  # records reach records.jsonl in batches this far apart


# -- the events ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunStarted:
    """The run has begun at `step` of `target`; `snapshot`: the first weights' file."""

    step: int
    target: int
    snapshot: Path | None


@dataclass(frozen=True)
class StepDone:
    """One record of the trainer (a logged step, an evaluation, or "done"/"stopped")."""

    record: StepRecord


@dataclass(frozen=True)
class SnapshotSaved:
    """A snapshot of the weights was added to the run folder's snapshots."""

    path: Path


@dataclass(frozen=True)
class Evaluated:
    """An evaluation's weights (CPU tensors); `best`: its validation loss is the run's lowest."""

    record: StepRecord
    weights: dict
    best: bool


@dataclass(frozen=True)
class CheckpointSaved:
    """A checkpoint was written. kind: "periodic", "final", "best" or "diverged"; `failure`:
    the save to the intended path failed and these weights went to `path` instead."""

    path: Path
    step: int
    kind: str
    failure: str | None = None


@dataclass(frozen=True)
class RunWarning:
    """Something failed that the run goes on without: kind "run_dir_failed" (path, reason) or
    "save_failed" (path, step). `text` is the English line."""

    kind: str
    text: str
    args: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RunFinished:
    """How the run ended. Always the last event.

    outcome: "done", "stopped" (asked to, or `interrupted` by Ctrl+C), "diverged" or
    "failed". `error`: why it did not finish; `explained` says its message is the one line to
    show (a divergence, out of memory, a full disk, a failed save); otherwise it is an
    unexpected error (a lost rank, a bug) for the caller to raise. `checkpoint`: the newest
    good checkpoint, also named by end.json; `best`: the best evaluation when its weights
    are not the last ones.
    """

    outcome: str
    step: int
    seconds: RunSeconds
    tokens: int  # training tokens of this run
    tokens_per_s: float  # those tokens over the training part's seconds
    last: StepRecord | None = None  # the latest record with numbers
    checkpoint: Path | None = None
    checkpoint_step: int | None = None
    rescued_from: str | None = None  # the final save's first failure, when it was rescued
    periodic: tuple[Path, int] | None = None  # the last evaluation's checkpoint and its step
    best: BestEvaluation | None = None
    best_file: Path | None = None
    error: BaseException | None = None
    explained: bool = True
    interrupted: bool = False


RunEvent = Union[RunStarted, StepDone, SnapshotSaved, Evaluated, CheckpointSaved, RunWarning,
                 RunFinished]


# -- the driver ----------------------------------------------------------------------------------


class RunDriver:
    """Drives one run of `trainer` to its end: iterate `events()`.

    `main`: this process writes (rank 0); `clock`: the run's clock, already counting its
    start-up and tokenizing; `lock`: the run folder's lock, when the caller took it up front
    (else it is taken here); `first_weights`: the weights of the first snapshot (default:
    the model's).
    """

    def __init__(self, trainer: Trainer, outputs: RunOutputs, *, main: bool = True,
                 clock: RunClock | None = None, lock: RunLock | None = None,
                 first_weights: dict | None = None):
        self.trainer, self.outputs, self.main = trainer, outputs, main
        self.clock = clock or RunClock()
        self._lock, self._first = lock, first_weights
        self._writer: Any = None
        self._notes: list[RunEvent] = []  # warnings from the writer's callback, yielded next
        self._room: str | None = None  # the write that found the disk full, in words
        self.best: BestEvaluation | None = None
        self.saves = None
        if main and outputs.checkpoint is not None:
            self.saves = RunSaves(trainer, Path(outputs.checkpoint), corpus=outputs.corpus_path,
                                  bundle=outputs.bundle, start=outputs.start)

    def request_stop(self) -> None:
        """End after the current step, saving as at the end (thread-safe)."""
        self.trainer.request_stop()

    # -- writing failures --------------------------------------------------------------------

    def _out_of_room(self, what: str) -> None:
        if self._room is None:
            self._room = f"{what} at step {self.trainer.step}"
            self.trainer.request_stop()  # going on would only lose more

    def _write_failed(self, exc: OSError) -> None:
        reason = exc.strerror or str(exc)
        folder = self._writer.directory
        if no_room(exc):
            self._out_of_room(f"writing the run folder {folder} failed ({reason})")
            return
        self._notes.append(RunWarning(
            "run_dir_failed", f"writing the run folder {folder} failed ({reason}); training "
            "goes on without it", {"path": str(folder), "reason": reason}))

    def _take_notes(self) -> list[RunEvent]:
        notes, self._notes = self._notes, []
        return notes

    # -- the run -----------------------------------------------------------------------------

    def _begin(self) -> Path | None:
        from engine.training.rundir import RunWriter
        from engine.training.runlock import RunLock, RunLocked

        out = self.outputs
        if not self.main or out.run_dir is None:
            return None
        if self._lock is None:
            try:
                self._lock = RunLock(out.run_dir).acquire()
            except (RunLocked, OSError) as exc:  # the run goes on without its folder
                self._notes.append(RunWarning(
                    "run_dir_failed", f"{exc}; training goes on without the run folder",
                    {"path": str(out.run_dir), "reason": str(exc)}))
                return None
        self._writer = RunWriter(out.run_dir, on_error=self._write_failed)
        with self.clock.part_of("snapshots"):
            return self._writer.begin(self.trainer, out.corpus_path, source=out.source,
                                      world_size=out.world_size, command=out.command,
                                      weights=self._first)

    def events(self) -> Iterator[RunEvent]:
        """Train to the end, yielding what happens; RunFinished last."""
        t, clock, out = self.trainer, self.clock, self.outputs
        start_tokens = t.tokens
        first = self._begin()
        yield from self._take_notes()
        yield RunStarted(t.step, t.cfg.steps, first)
        pending: list[StepRecord] = []
        flushed = time.monotonic()
        last = error = None
        outcome, interrupted = "done", False
        elapsed, tokens = t.elapsed, t.tokens  # to tell evaluation from training seconds
        steps = t.run(log_every=out.log_every)
        try:
            while True:
                clock.switch("training")
                try:
                    rec = next(steps)
                except StopIteration:
                    break
                if rec.event == "eval" and rec.tokens_per_s > 0:
                    train_s = (rec.tokens - tokens) / rec.tokens_per_s
                    clock.move(rec.elapsed - elapsed - train_s, "training", "evaluation")
                elapsed, tokens = rec.elapsed, rec.tokens
                clock.switch("other")
                if rec.event in ("done", "stopped"):
                    # The run's seconds so far on its last record (the history a checkpoint
                    # keeps, and records.jsonl), its tokens/s those of the training part.
                    outcome = rec.event
                    seconds = clock.seconds()
                    if seconds.training > 0:
                        rec.tokens_per_s = (t.tokens - start_tokens) / seconds.training
                    rec.seconds = seconds.to_dict()
                    self._records([*pending, rec])
                    pending = []
                    yield StepDone(rec)
                    continue
                last = rec
                pending.append(rec)
                now = time.monotonic()
                if rec.event == "eval" or now - flushed >= out.flush_interval_s:
                    self._records(pending)
                    pending, flushed = [], now
                yield StepDone(rec)
                if rec.event == "eval":
                    yield from self._evaluation(rec)
                yield from self._take_notes()
        except GeneratorExit:  # the caller let go: the folder is free for the next run
            self._release()
            raise
        except KeyboardInterrupt:  # Ctrl+C inside a step: save what there is, say so
            outcome, interrupted = "stopped", True
        except TrainingDiverged as exc:
            outcome, error = "diverged", exc
        except TrainingError as exc:  # out of memory: the weights of the last step are intact
            outcome, error = "failed", exc
        except BaseException as exc:  # noqa: BLE001 - a lost rank, a bug: the caller raises it
            outcome, error = "failed", exc
        self._records(pending)
        yield from self._finish(outcome, error, interrupted, last, start_tokens)

    def _records(self, rows: list) -> None:
        if self._writer is not None and rows:
            self._writer.records(rows)

    def _evaluation(self, rec: StepRecord) -> Iterator[RunEvent]:
        """The best weights, the evaluation's snapshot and its checkpoint."""
        t, out = self.trainer, self.outputs
        with self.clock.part_of("snapshots"):
            improved = self.main and (self.best is None or rec.val_loss < self.best.val_loss)
            if improved:
                # The trainer as it is now, so these weights can be kept exactly (saved,
                # continued); a few ms for the default model, only when validation improves.
                full = t.state_dict(with_weights=True)
                self.best = BestEvaluation(rec.step, rec.val_loss, full)
                weights = full["model"]
            else:
                weights = t.weights_snapshot() if out.copies else t.model.state_dict()
            path = None
            if self._writer is not None:
                # ~3 MB per evaluation for the default model; the store thins itself to at
                # most 40 files, so a long run stays bounded on disk.
                path = self._writer.evaluation(rec, weights)
        if path is not None:
            yield SnapshotSaved(path)
        yield Evaluated(rec, weights, bool(improved))
        if self.saves is not None and out.save_every_evaluation and rec.step < t.cfg.steps \
                and self._room is None:  # the last one is the final save
            with self.clock.part_of("saves"):
                try:
                    saved = self.saves.periodic()
                except SaveError as exc:
                    saved = exc
            if not isinstance(saved, SaveError):
                yield CheckpointSaved(saved, rec.step, "periodic")
            elif no_room(saved):
                self._out_of_room(str(saved))
            elif not self.saves.warned:
                self.saves.warned = True
                yield RunWarning("save_failed", f"{saved} (at step {rec.step}; training goes on, "
                                 "the final save will try again)",
                                 {"path": str(self.saves.path), "step": rec.step})

    def _finish(self, outcome: str, error: BaseException | None, interrupted: bool,
                last: StepRecord | None, start_tokens: int) -> Iterator[RunEvent]:
        t, clock, saves = self.trainer, self.clock, self.saves
        explained = error is None or isinstance(error, TrainingError)
        rescued_from = None
        clock.switch("saves")
        if self._room is not None:
            outcome = "failed"
        if saves is not None:
            try:
                if outcome == "diverged":
                    path = saves.diverged(error)
                    yield CheckpointSaved(path, saves.saved_step, "diverged")
                elif explained and t.step > 0:  # done, stopped, out of memory or room
                    path, failure = saves.final()
                    rescued_from = None if failure is None else str(failure)
                    yield CheckpointSaved(path, t.step, "final", rescued_from)
            except SaveError as exc:  # nowhere would take the weights: that is the news
                if self._room is None:
                    outcome, error, explained = "failed", exc, True
                else:
                    self._room += f"; {exc}"
        if self._room is not None:
            where = ""
            if rescued_from is not None:
                where = f", and its weights were saved to {saves.saved} instead"
            elif saves is not None and saves.saved_step == t.step:
                where = f"; its weights are in {saves.saved}"
            error = OutOfRoom(f"{self._room}; training stopped at step {t.step}{where}")
            explained = True
        best = self.best if self.best is not None and self.best.step != t.step else None
        best_file = None
        if best is not None and saves is not None and self.outputs.best_file \
                and outcome in ("done", "stopped"):
            try:
                best_file = saves.best(best)
                yield CheckpointSaved(best_file, best.step, "best")
            except SaveError as exc:
                outcome, error, explained = "failed", exc, True
        clock.switch("other")
        run_tokens = t.tokens - start_tokens
        seconds = clock.seconds()
        rate = run_tokens / seconds.training if seconds.training > 0 else 0.0
        ended = dict(seconds=seconds.to_dict(), tokens=run_tokens, tokens_per_s=round(rate, 1))
        if self._writer is not None:
            if self._room is not None:
                self._writer.write = True  # space may be back (a failed write's temporary
                # file is gone), and end.json is small: try it
            self._writer.final(outcome, t.step, saves.saved if saves else None,
                               checkpoint_step=saves.saved_step if saves else None, **ended)
        self._release()
        seconds = clock.seconds()
        yield RunFinished(
            outcome, t.step, seconds, run_tokens,
            run_tokens / seconds.training if seconds.training > 0 else 0.0,
            last=last or (t.history[-1] if t.history else None),
            checkpoint=saves.saved if saves else None,
            checkpoint_step=saves.saved_step if saves else None,
            rescued_from=rescued_from,
            periodic=None if saves is None or saves.periodic_step is None else (
                saves.path, saves.periodic_step), best=best,
            best_file=best_file, error=error, explained=explained, interrupted=interrupted)

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
