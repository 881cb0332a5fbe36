"""Every message between a training run and its viewer, one frozen dataclass each.

A run (`engine.training.job.training_job`) yields the progress messages; the viewer answers with the
requests; the training process wraps each yield and the run's end in an envelope
(`engine.training.job.serve`). Receivers dispatch on the class (`match message: case Records(rows): ...`),
never on a position in a tuple or a string kind, so each message reads itself and a new field
cannot shift the meaning of the others. Everything here pickles: it crosses a process boundary.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

from engine.config import ModelConfig, TrainConfig
from engine.text.corpus import Corpus
from engine.text.tokenizers import Tokenizer

# -- what a run reports (training process -> viewer) ----------------------------------------


@dataclass(frozen=True)
class Status:
    """A line for the viewer to show, e.g. "Tokenizing book.txt with char…". `kind` and
    `args` say what it is ("tokenizing": path, tokenizer), so a viewer can word it in its
    own language; `text` is the English."""

    text: str
    kind: str = ""
    args: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Tokenizing:
    """Progress of tokenizing the text before the run starts (units of the tokenizer's)."""

    done: int
    total: int


@dataclass(frozen=True)
class Started:
    """The trainer exists: what the viewer needs to show the run's model from now on."""

    model_config: ModelConfig  # vocab_size is the corpus's
    tokenizer: Tokenizer
    step: int  # where the run starts: 0, or the continued model's step
    history: list[dict]  # StepRecord.to_dict() rows of the earlier runs, when continuing
    corpus: Corpus | None  # the text tokenized anew by this run; None: the viewer's was reused
    device: str
    params: int
    train_config: TrainConfig
    weights: dict  # name -> CPU tensor: the initial weights


@dataclass(frozen=True)
class Records:
    """StepRecord.to_dict() rows since the last batch (about five batches a second)."""

    rows: list[dict]


@dataclass(frozen=True)
class Weights:
    """The newest weights. `show`: the viewer should redraw from them (at most every refresh
    interval, and when pausing); reason "eval": sent at every evaluation, e.g. for a sample."""

    step: int
    state: dict  # name -> CPU tensor
    reason: Literal["refresh", "eval"]
    show: bool


@dataclass(frozen=True)
class SnapshotWritten:
    """A snapshot of the weights was added to the SnapshotStore in `directory`."""

    directory: str


@dataclass(frozen=True)
class Paused:
    """The run holds after `step` until Resume or Stop."""

    step: int


JobMessage = Union[Status, Tokenizing, Started, Records, Weights, SnapshotWritten, Paused]


# -- what the viewer asks (viewer -> training process) --------------------------------------


@dataclass(frozen=True)
class Pause:
    """Hold after the current step."""


@dataclass(frozen=True)
class Resume:
    """Go on after a pause."""


@dataclass(frozen=True)
class Stop:
    """End after the current step; the run returns its weights so far."""


@dataclass(frozen=True)
class SetRefreshInterval:
    """Send weights to show at most every `seconds` (the viewer's measured redraw cost)."""

    seconds: float


Request = Union[Pause, Resume, Stop, SetRefreshInterval]


# -- how a run ends, and the process's envelope ---------------------------------------------


@dataclass(frozen=True)
class BestEvaluation:
    """The run's evaluation with the lowest validation loss, and the trainer as it was then.

    `state` is Trainer.state_dict(with_weights=True) at that step: weights, optimizer, random
    streams and the history up to it, so keeping these weights is an exact checkpoint of step
    `step` (it saves and continues like the last weights do).
    """

    step: int
    val_loss: float
    state: dict


@dataclass(frozen=True)
class TrainingResult:
    """How a run ended. `state` is Trainer.state_dict(with_weights=True), or None.

    `best`: the evaluation of this run with the lowest validation loss, when its weights are
    not the ones in `state` (None when the last evaluation was the best, or there was none).
    """

    outcome: Literal["done", "stopped", "diverged", "failed"]
    step: int = 0
    tokens: int = 0
    device: str = "cpu"
    train_config: TrainConfig | None = None
    state: dict | None = None  # weights ("model"), optimizer, RNG, history: enough to save
    error: BaseException | None = None
    best: BestEvaluation | None = None


@dataclass(frozen=True)
class Yielded:
    """One message the run yielded."""

    message: JobMessage


@dataclass(frozen=True)
class Returned:
    """The run's end; always the last envelope unless the process failed."""

    result: TrainingResult


@dataclass(frozen=True)
class Errored:
    """The process failed outside the run (e.g. the text could not be read); `error` carries
    its traceback text in `.details`."""

    error: BaseException


Envelope = Union[Yielded, Returned, Errored]
