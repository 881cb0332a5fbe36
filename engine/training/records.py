"""What training reports: one StepRecord per logged step, evaluation and ending, and the
errors that end a run early.

Records are the trainer's only output (minGPT's callbacks as data): the CLI prints them, the
window plots them, checkpoints store them as the run's history.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class StepRecord:
    step: int  # optimizer steps done
    tokens: int  # training tokens seen (steps x batch x context)
    train_loss: float  # mean batch loss since the previous record
    lr: float  # learning rate of the latest step
    grad_norm: float  # global gradient norm of the latest step, before clipping
    tokens_per_s: float  # training throughput since the previous record (run average on
    # "done"/"stopped"); excludes evaluation, pauses and the caller's time between records
    elapsed: float  # seconds of training and evaluation so far, over all runs
    val_loss: float | None = None  # mean loss on the validation windows ("eval" records)
    eval_train_loss: float | None = None  # the same measurement on training windows
    event: str = "step"  # "step" | "eval" | "done" | "stopped"
    message: str = ""
    # On the last record of a run ("done"/"stopped"): where its seconds went so far, by part
    # (engine.training.runclock.RunSeconds.to_dict; end.json adds the final save's).
    seconds: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (saved in checkpoints)."""
        data = asdict(self)
        if data["seconds"] is None:  # only the last record has them
            del data["seconds"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "StepRecord":
        """Rebuild a record saved by to_dict, ignoring unknown keys."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


class TrainingError(RuntimeError):
    """Training cannot continue (e.g. out of memory); the weights are kept. One-line message
    (a Said, engine.wording, where the engine words it: the window shows it in Chinese too)."""


class TrainingDiverged(TrainingError):
    """The loss or the gradient became NaN/inf; the model holds the last finite weights.

    `step` is the step that went wrong; `kept_step` the step the weights now in the model are
    from; `resumable` says the trainer's state (optimizer, step, history) belongs to those
    weights, so they can be saved as a resumable checkpoint. It is False when the weights were
    restored from an older copy.
    """

    def __init__(self, message: str, step: int = 0, kept_step: int = 0,
                 resumable: bool = False):
        super().__init__(message)
        self.step, self.kept_step, self.resumable = step, kept_step, resumable

    def __reduce__(self) -> tuple:  # survives pickling to the viewer process
        # args[0], not str(self): a Said (engine.wording) keeps its Chinese across the pipe.
        return (type(self), (self.args[0], self.step, self.kept_step, self.resumable))
