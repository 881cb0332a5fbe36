"""How much memory one training step needs, against what the device has free.

An impossible setting (`--batch 100000` on a laptop) is refused before training, naming the
field, instead of growing until the machine swaps or the allocator fails. The estimate counts
what a step must hold at once, in fp32: weights, gradients, AdamW's two moments, and the
activations autograd keeps for the backward pass. It is a floor, not a bound (allocator slack
and temporaries come on top), so only settings that cannot fit at all are refused.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.config import ConfigError, ModelConfig, TrainConfig
from engine.devices import free_memory
from engine.model.decoder import param_count as model_param_count

_F32 = 4  # bytes per element; autocast halves some activations, but not the master copies


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes one training step holds at once, by what holds them."""

    weights: int
    gradients: int
    optimizer: int  # AdamW: exp_avg and exp_avg_sq
    activations: int  # saved for backward: per block, plus embedding and logits

    @property
    def fixed(self) -> int:
        """What does not grow with the batch."""
        return self.weights + self.gradients + self.optimizer

    @property
    def total(self) -> int:
        return self.fixed + self.activations


def param_count(cfg: ModelConfig) -> int:
    """Parameters of GPT(cfg), counted from the config by each of its components (a test holds
    it equal to the model's)."""
    return model_param_count(cfg)


def activation_elements(cfg: ModelConfig, batch_size: int) -> int:
    """Elements autograd saves for one step's backward pass (B windows of T tokens)."""
    B, T, C, nh = batch_size, cfg.context_length, cfg.d_model, cfg.n_head
    # Per block: q, k, v, attention output, projection, two residuals and two norms (~12 x C
    # per token), the FFN's hidden layer before/after the activation and its dropout (3 x d_ff),
    # and the attention pattern with its dropout (2 x nh x T per token).
    per_block = B * T * (12 * C + 3 * cfg.d_ff) + 2 * B * nh * T * T
    # Embedding sum and final stream (3 x C); logits, their log-softmax and gradient (3 x V).
    ends = B * T * (3 * C + 3 * cfg.vocab_size)
    return cfg.n_layer * per_block + ends


def estimate_step(model_cfg: ModelConfig, train_cfg: TrainConfig) -> MemoryEstimate:
    """The memory floor of one training step of `model_cfg` with `train_cfg`'s batch."""
    n = param_count(model_cfg)
    return MemoryEstimate(
        weights=_F32 * n,
        gradients=_F32 * n,
        optimizer=2 * _F32 * n,
        activations=_F32 * activation_elements(model_cfg, train_cfg.batch_size),
    )


def _gb(n: int) -> str:
    return f"{n / 1e9:,.1f} GB" if n >= 1e8 else f"{n / 1e6:,.0f} MB"


def check_memory(
    model_cfg: ModelConfig, train_cfg: TrainConfig, device: torch.device,
    free: int | None = None,
) -> MemoryEstimate:
    """Raise ConfigError naming the field when a step cannot fit in `device`'s free memory.

    `free` (bytes) overrides the measurement (tests). Devices whose free memory is unknown
    (MPS) are not checked.
    """
    est = estimate_step(model_cfg, train_cfg)
    free = free_memory(device) if free is None else free
    if free is None or est.total <= free:
        return est
    where = f"only {_gb(free)} of memory are free on {device}"
    if est.fixed > free:
        raise ConfigError(
            "d_model",
            f"the model's {est.weights // _F32:,} parameters need {_gb(est.fixed)} for "
            f"weights, gradients and AdamW, but {where}; choose a smaller d_model, n_layer "
            "or d_ff",
        )
    per_window = max(1, est.activations // train_cfg.batch_size)
    fits = (free - est.fixed) // per_window
    advice = (f"the largest batch that fits is about {fits:,}" if fits >= 1 else
              "even one window does not fit; choose a smaller context_length or model")
    raise ConfigError(
        "batch_size",
        f"{train_cfg.batch_size:,} windows of {model_cfg.context_length} tokens need about "
        f"{_gb(est.total)} for one training step (activations {_gb(est.activations)}), but "
        f"{where}; {advice}",
    )
