"""Rotary positions: no table is added to the tokens; each head's q and k are turned by an angle
that grows with the position, so q·k depends on how far apart two tokens are.

`Rotary` lives once on the model (its steps rope.freq, rope.cos, rope.sin); every attention
turns its q and k with the same cos and sin (`rotate`). Gemma 3 has a second one, with its
own base, for its sliding blocks (rope_local.freq, rope_local.cos, rope_local.sin). Hugging Face's layout: dim i turns with
dim i + d/2; with partial rotary (GPT-NeoX, Phi) only the first d dims of a head turn.
Shapes: T = context, d = rotated dims of a head, hs = head_size.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from engine.config import ModelConfig
from engine.model.hooks import HookPoint
from engine.model.rotary_maths import frequencies


class Rotary(nn.Module):
    """The angle table θᵢ (with the family's scaling) and cos, sin of m·θᵢ at each position."""

    def __init__(self, cfg: ModelConfig, local: bool = False):
        """`local`: Gemma 3's sliding blocks' table (rope_local_theta, unscaled)."""
        super().__init__()
        theta = torch.from_numpy(frequencies(cfg, local)).float()  # (d/2,)
        self.register_buffer("theta", theta, persistent=False)
        self.freq = HookPoint()
        self.cos = HookPoint()
        self.sin = HookPoint()

    def forward(self, T: int) -> tuple[torch.Tensor, torch.Tensor]:
        theta = self.freq(self.theta)  # (d/2,)
        pos = torch.arange(T, device=theta.device, dtype=torch.float32)  # (T,)
        angles = pos[:, None] * theta[None, :]  # (T, d/2): m·θᵢ
        angles = torch.cat([angles, angles], dim=-1)  # (T, d): each angle for dims i and i+d/2
        return self.cos(angles.cos()), self.sin(angles.sin())  # (T, d) each


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x (B, heads, T, hs) turned: x·cos + rotate_half(x)·sin on its first d dims."""
    d = cos.shape[-1]
    turned, rest = x[..., :d], x[..., d:]  # (B, h, T, d), (B, h, T, hs - d)
    a, b = turned[..., : d // 2], turned[..., d // 2:]
    half = torch.cat([-b, a], dim=-1)  # rotate_half: (a, b) -> (-b, a)
    out = turned * cos + half * sin  # (B, h, T, d); cos, sin broadcast over B and heads
    return out if rest.shape[-1] == 0 else torch.cat([out, rest], dim=-1)
