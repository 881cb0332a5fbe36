"""Norms: the normalisation a block and the final path use, chosen once from the config.

LayerNorm today (`γ·(x−μ)/√(σ²+ε) + β`); RMSNorm and Gemma's (1 + w) join NORMS under the
names engine.model.components.norm_steps.norm_kind gives them, and the float64 check of their
steps reads the same name from the config.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from engine.config import ModelConfig
from engine.model.components.norm_steps import norm_kind


class LayerNorm(nn.LayerNorm):
    """A LayerNorm over C with the config's epsilon, and β only when the model has biases."""

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg.d_model, eps=cfg.ln_eps, bias=cfg.bias)

    @staticmethod
    def n_params(cfg: ModelConfig) -> int:
        """γ, and β when the model has biases."""
        return (2 if cfg.bias else 1) * cfg.d_model


class RMSNorm(nn.Module):
    """x / √(mean(x²) + ε) · (offset + γ): no mean taken away, no β (Llama, Qwen, Mistral);
    Gemma's offset 1 makes γ = 0 the identity scale. Computed in float32 as transformers does."""

    def __init__(self, cfg: ModelConfig, dim: int | None = None):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim or cfg.d_model))  # γ (C,) or (hs,)
        self.eps, self.offset = cfg.ln_eps, cfg.norm_offset
        if self.offset:
            nn.init.zeros_(self.weight)  # (1 + γ) starts at 1

    @staticmethod
    def n_params(cfg: ModelConfig) -> int:
        """γ only."""
        return cfg.d_model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x32 = x.float()
        y = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)  # (..., C)
        return (y * (self.offset + self.weight.float())).to(x.dtype)


NORMS: dict[str, type[nn.Module]] = {"layernorm": LayerNorm, "rmsnorm": RMSNorm}


def norm_class(cfg: ModelConfig) -> type[nn.Module]:
    """The norm module class of `cfg`."""
    return NORMS[norm_kind(cfg)]


def make_norm(cfg: ModelConfig) -> nn.Module:
    """A fresh norm over C, of the kind the config names."""
    return norm_class(cfg)(cfg)
