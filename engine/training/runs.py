"""Setting up a training run: the one place where a model, its corpus and a Trainer meet.

The CLI (`train`) and the window's training process (engine.training.job) both start runs here, so the
rules live once: the model's vocabulary comes from the corpus, a new model is seeded from the
training config, an impossible step is refused before anything is allocated, and a resumed
run must have steps left to do.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch

from engine.config import ConfigError, ModelConfig, TrainConfig
from engine.text.corpus import Corpus
from engine.devices import resolve_device
from engine.training.distributed import Shard, per_process
from engine.training.memory import check_memory
from engine.model.decoder import new_model
from engine.training.trainer import Trainer
from engine.wording import say


def check_more_steps(done: int, steps: int) -> None:
    """ConfigError when a resumed run (`done` steps so far) has no steps left to reach `steps`."""
    if steps <= done:
        raise ConfigError("steps", say("config.no_steps_left", done=done, double=2 * done))


def build_trainer(
    model_config: ModelConfig,
    train_config: TrainConfig,
    corpus: Corpus,
    *,
    device: str | torch.device = "auto",
    weights: dict[str, torch.Tensor] | None = None,
    trainer_state: dict[str, Any] | None = None,
    compile: bool = False,
    shard: Shard | None = None,
) -> Trainer:
    """A Trainer ready to run: a new seeded model (or `weights`), on `device`, with its state.

    Without `weights`, the model is `new_model(model_config with the corpus's vocabulary,
    train_config.seed)`. With `weights` (a state dict), model_config must be the one they were
    trained with. `trainer_state` (Trainer.state_dict()) continues exactly; its step must be
    below train_config.steps. `device` "auto" defers to train_config.device. Raises
    ConfigError naming the field when the step cannot fit in the device's free memory, or
    when the global batch does not split into `shard`'s ranks x grad_accum micro-batches.
    `compile` trains through torch.compile; `shard` (engine.training.distributed) is this rank's share.
    """
    train_config = train_config.validate()
    if weights is None:
        config = replace(model_config, vocab_size=corpus.tokenizer.vocab_size).validate()
    else:
        config = replace(model_config).validate()
    if isinstance(device, str) and device.strip().lower() == "auto":
        device = train_config.device
    device = resolve_device(device)
    if trainer_state is not None:
        check_more_steps(int(trainer_state["step"]), train_config.steps)
    # One process holds one micro-batch's activations at a time.
    world = shard.world_size if shard is not None else 1
    check_memory(config, per_process(train_config, world), device)
    model = new_model(config, train_config.seed)
    if weights is not None:
        model.load_state_dict(weights)
    trainer = Trainer(model, corpus, train_config, device=device, compile=compile, shard=shard)
    if trainer_state is not None:
        trainer.load_state_dict(trainer_state)
    return trainer
