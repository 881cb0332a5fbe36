"""The position-wise feed-forward network: act(x·W1 + b1)·W2 + b2.

A gated form (act(x·Wg) ⊙ x·Wu, then ·Wd: SwiGLU, GeGLU) is a second class beside this one,
chosen by the config as ACTIVATIONS chooses the non-linearity; its steps are declared in
engine.model.components.feedforward_steps.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn as nn

from engine.config import ModelConfig
from engine.model.components.layers import Linear
from engine.model.hooks import HookPoint

# The FFN non-linearity of ModelConfig.activation.
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,  # exact: x·Φ(x)
    "gelu_tanh": lambda: nn.GELU(approximate="tanh"),  # GPT-2's: 0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))
    "silu": nn.SiLU,  # x·σ(x): Llama's, Qwen's and Mistral's SwiGLU
}


class FeedForward(nn.Module):
    """Position-wise two-layer network: act(x·W1 + b1)·W2 + b2."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.fc1 = Linear(cfg.d_model, cfg.d_ff, bias=cfg.bias)  # W1: C -> d_ff
        self.fc2 = Linear(cfg.d_ff, cfg.d_model, bias=cfg.bias)  # W2: d_ff -> C
        self.act_fn = ACTIVATIONS[cfg.activation]()
        self.drop = nn.Dropout(cfg.dropout)
        self.hidden = HookPoint()
        self.act = HookPoint()
        self.out = HookPoint()

    @staticmethod
    def n_params(cfg: ModelConfig) -> int:
        C, F = cfg.d_model, cfg.d_ff
        return 2 * C * F + ((F + C) if cfg.bias else 0)

    def activate(self, h: torch.Tensor) -> torch.Tensor:
        """The non-linearity alone (engine.model.ondemand recomputes a dropped step with it)."""
        return self.act_fn(h)  # (B, T, d_ff)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.hidden(self.fc1(x))  # (B, T, d_ff)
        a = self.act(self.act_fn(h))  # (B, T, d_ff)
        return self.out(self.drop(self.fc2(a)))  # (B, T, C)


class GatedFeedForward(nn.Module):
    """The gated form (SwiGLU, GeGLU): down(act(x·Wg) ⊙ x·Wu). The gate decides, per hidden
    unit, how much of the up projection passes."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.gate = Linear(cfg.d_model, cfg.d_ff, bias=cfg.bias)  # Wg: C -> d_ff
        self.up = Linear(cfg.d_model, cfg.d_ff, bias=cfg.bias)  # Wu: C -> d_ff
        self.down = Linear(cfg.d_ff, cfg.d_model, bias=cfg.bias)  # Wd: d_ff -> C
        self.act_fn = ACTIVATIONS[cfg.activation]()
        self.drop = nn.Dropout(cfg.dropout)
        self.gated_in = HookPoint()  # x·Wg
        self.up_in = HookPoint()  # x·Wu
        self.act = HookPoint()  # act(x·Wg)
        self.product = HookPoint()  # act(x·Wg) ⊙ x·Wu
        self.out = HookPoint()

    @staticmethod
    def n_params(cfg: ModelConfig) -> int:
        C, F = cfg.d_model, cfg.d_ff
        return 3 * C * F + ((2 * F + C) if cfg.bias else 0)

    def activate(self, h: torch.Tensor) -> torch.Tensor:
        """The non-linearity alone (engine.model.ondemand recomputes a dropped step with it)."""
        return self.act_fn(h)  # (B, T, d_ff)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = self.gated_in(self.gate(x))  # (B, T, d_ff)
        u = self.up_in(self.up(x))  # (B, T, d_ff)
        a = self.act(self.act_fn(g))  # (B, T, d_ff)
        h = self.product(a * u)  # (B, T, d_ff)
        return self.out(self.drop(self.down(h)))  # (B, T, C)


def make_feedforward(cfg: ModelConfig) -> nn.Module:
    """The feed-forward network the config names."""
    return GatedFeedForward(cfg) if cfg.gated else FeedForward(cfg)


def feedforward_class(cfg: ModelConfig) -> type[nn.Module]:
    """Its class (for counting parameters)."""
    return GatedFeedForward if cfg.gated else FeedForward
