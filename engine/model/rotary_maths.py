"""Rotary positions in float64, from the config alone: the angle table θᵢ = base^(−2i/d) with
the family's scaling (linear, Llama 3's), cos and sin of m·θᵢ at every position m, and the
rotation of q or k. Torch-free; the model's module (engine.model.components.rotary) computes the
same in float32, and the checks compare the two.

Hugging Face's layout is used throughout: a head's rotated dims are two halves, dim i turning
with dim i + d/2 (cos and sin repeat their d/2 angles twice), the rest passing through.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from engine.config import ModelConfig


def base_of(cfg: "ModelConfig", local: bool = False) -> float:
    """The rotary base: rope_theta, or Gemma 3's local base for its sliding blocks."""
    return cfg.rope_local_theta if local and cfg.rope_local_theta else cfg.rope_theta


def frequencies(cfg: "ModelConfig", local: bool = False) -> np.ndarray:
    """θᵢ for i = 0 .. d/2 − 1 (d = the rotated dims), after the config's scaling; `local`:
    Gemma 3's sliding blocks' own base, never scaled (the scaling is the global base's)."""
    d = cfg.rotary_size
    theta = 1.0 / base_of(cfg, local) ** (np.arange(0, d, 2, dtype=np.float64) / d)  # (d/2,)
    s = {} if local else (cfg.rope_scaling or {})
    if s.get("kind") == "linear":
        return theta / s["factor"]
    if s.get("kind") == "llama3":
        # Llama 3.1: long wavelengths slowed by `factor`, short ones kept, a smooth blend
        # between (transformers' _compute_llama3_parameters, the same formula).
        factor, low, high = s["factor"], s["low_freq_factor"], s["high_freq_factor"]
        old = s["original_context"]
        wavelen = 2 * math.pi / theta
        smooth = (old / wavelen - low) / (high - low)
        blended = (1 - smooth) * theta / factor + smooth * theta
        out = np.where(wavelen > old / low, theta / factor, theta)
        middle = (wavelen <= old / low) & (wavelen >= old / high)
        return np.where(middle, blended, out)
    if s.get("kind") == "divisors":  # llama.cpp's stored Llama 3 factors, one per pair
        return theta / np.asarray(s["divisors"], dtype=np.float64)
    return theta


def cos_sin(cfg: "ModelConfig", T: int, local: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """cos(m·θ) and sin(m·θ), each (T, d): the d/2 angles of each position twice over."""
    angles = np.arange(T, dtype=np.float64)[:, None] * frequencies(cfg, local)[None, :]  # (T, d/2)
    angles = np.concatenate([angles, angles], axis=-1)  # (T, d)
    return np.cos(angles), np.sin(angles)


def rotate(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """x (..., T, hs) turned by position: the first d dims as pairs (i, i + d/2), the rest
    unchanged. x·cos + rotate_half(x)·sin, rotate_half(a, b) = (−b, a)."""
    d = cos.shape[-1]
    turned, rest = x[..., :d], x[..., d:]
    a, b = turned[..., : d // 2], turned[..., d // 2:]
    half = np.concatenate([-b, a], axis=-1)
    return np.concatenate([turned * cos + half * sin, rest], axis=-1)
