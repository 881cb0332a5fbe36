"""Norms: the normalisation a block and the final path use, chosen once from the config.

LayerNorm today (`γ·(x−μ)/√(σ²+ε) + β`); RMSNorm and Gemma's (1 + w) join NORMS under the
names engine.model.components.norm_steps.norm_kind gives them, and the float64 check of their
steps reads the same name from the config.
"""
from __future__ import annotations

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


NORMS: dict[str, type[nn.Module]] = {"layernorm": LayerNorm}


def norm_class(cfg: ModelConfig) -> type[nn.Module]:
    """The norm module class of `cfg`."""
    return NORMS[norm_kind(cfg)]


def make_norm(cfg: ModelConfig) -> nn.Module:
    """A fresh norm over C, of the kind the config names."""
    return norm_class(cfg)(cfg)
