"""Models built from the training process's weights, on the relay thread (~12 ms each).

The process sends plain tensors; the window needs models. Building them on the GUI thread would
cost every refresh a stall, so `ModelBuilder` runs on the ProcessWorker's thread and turns
Started and Weights into the messages below. Weights nobody will use are not built. Models are
never changed after they are built: a trace and a sample may read the same one at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine.config import ModelConfig
from engine.training.job_messages import JobMessage, Started, Weights
from engine.model.decoder import GPT


@dataclass(frozen=True)
class StartedModel:
    """Started, with its initial weights built into the run's model."""

    info: Started
    model: GPT


@dataclass(frozen=True)
class WeightsModel:
    """Weights, built into a model when they are to be shown or sampled from (else None)."""

    step: int
    model: GPT | None
    reason: Literal["refresh", "eval"]
    show: bool


def model_from_weights(config: ModelConfig, weights: dict) -> GPT:
    """A model of `config` holding `weights` (name -> tensor), in eval mode."""
    model = GPT(config)
    model.load_state_dict(weights)
    return model.eval()


class ModelBuilder:
    """The ProcessWorker's `prepare`: Started -> StartedModel, Weights -> WeightsModel; any
    other message passes through unchanged."""

    def __init__(self) -> None:
        self.config: ModelConfig | None = None  # the run's, from its Started

    def __call__(self, message: JobMessage) -> JobMessage | StartedModel | WeightsModel:
        match message:
            case Started():
                self.config = message.model_config
                return StartedModel(message, model_from_weights(self.config, message.weights))
            case Weights(step=step, state=state, reason=reason, show=show):
                # An evaluation's weights feed its sample even when they are not shown.
                needed = show or reason == "eval"
                model = model_from_weights(self.config, state) if needed else None
                return WeightsModel(step, model, reason, show)
        return message
