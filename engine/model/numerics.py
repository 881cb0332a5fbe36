"""Float64 NumPy re-implementations the honesty checks use (nothing here calls torch)."""
from __future__ import annotations

import math

import numpy as np

# Below this many multiply-adds, numpy's own loops (einsum) are used instead of BLAS: a
# multithreaded BLAS on a busy 2-core machine can take 30 ms for a 64x256x64 product that
# einsum does in 0.3 ms, and the walkthrough checks one step per key press.
_BLAS_MIN_MACS = 8_000_000


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b (batched over leading axes), in float64."""
    if a.size * b.shape[-1] < _BLAS_MIN_MACS:
        return np.einsum("...ij,...jk->...ik", a, b)
    return a @ b


def linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    y = matmul(x, weight.T)  # (..., in) · (out, in)ᵀ -> (..., out)
    return y if bias is None else y + bias


def layer_norm(x: np.ndarray, eps: float, weight: np.ndarray | None,
               bias: np.ndarray | None) -> np.ndarray:
    """γ·(x−μ)/√(σ²+ε) + β over the last axis, σ² biased as LayerNorm uses."""
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def softmax(x: np.ndarray) -> np.ndarray:
    m = np.max(x, axis=-1, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(axis=-1, keepdims=True)


_erf = np.frompyfunc(math.erf, 1, 1)


def gelu(x: np.ndarray) -> np.ndarray:
    """x·Φ(x), with the error function."""
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)).astype(np.float64))


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    """GPT-2's approximation 0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def sinusoidal(n_pos: int, d_model: int) -> np.ndarray:
    pe = np.zeros((n_pos, d_model))
    pos = np.arange(n_pos, dtype=np.float64)[:, None]
    for i in range(0, d_model, 2):
        angle = pos[:, 0] / 10000.0 ** (i / d_model)
        pe[:, i] = np.sin(angle)
        if i + 1 < d_model:
            pe[:, i + 1] = np.cos(angle)
    return pe


def max_diff(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        return math.inf
    if a.size == 0:
        return 0.0
    d = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))
    return float(np.nanmax(np.where(np.isnan(d), math.inf, d)))


def scale(x: np.ndarray) -> float:
    finite = np.abs(x[np.isfinite(x)])
    return float(finite.max()) if finite.size else 0.0


def heads(x: np.ndarray, nh: int) -> np.ndarray:
    """(B, T, nh·hs) -> (B, nh, T, hs)."""
    B, T, C = x.shape
    return x.reshape(B, T, nh, C // nh).transpose(0, 2, 1, 3)


def causal_above(T: int) -> np.ndarray:
    return np.triu(np.ones((T, T), dtype=bool), k=1)  # True where key > query (the future)


def repeat_heads(x: np.ndarray, groups: int) -> np.ndarray:
    """(B, nkv, T, hs) -> (B, nkv·groups, T, hs): each key/value head once per query head."""
    return x if groups == 1 else np.repeat(x, groups, axis=1)


def rms_norm(x: np.ndarray, eps: float, weight: np.ndarray | None,
             offset: float = 0.0) -> np.ndarray:
    """x / √(mean(x²) + ε) · (offset + γ) over the last axis (Gemma: offset 1)."""
    y = x / np.sqrt((x ** 2).mean(axis=-1, keepdims=True) + eps)
    return y if weight is None else y * (offset + weight)


def silu(x: np.ndarray) -> np.ndarray:
    """x·σ(x), the SiLU (swish) of SwiGLU."""
    return x / (1.0 + np.exp(-x))


def blocked(T: int, window: int | None) -> np.ndarray:
    """(T, T) True where a query may not look: the future, and with a sliding window the keys
    `window` or more positions back."""
    q, k = np.arange(T)[:, None], np.arange(T)[None, :]
    out = k > q
    return out if window is None else out | (q - k >= window)
