"""What a trace does not keep, and how it gets it back when a view asks.

At GPT-2 size one traced forward of 1,024 tokens would hold 200 MB of probabilities (T x V),
as much again of logits, and 12 layers x 4 stages of (12, T, T) attention: about 3 GB. A step
is not kept when it is large (more than KEEP_MAX_VALUES numbers) and can be recomputed cheaply
from steps that are kept, by the same float32 operations the model ran:

- the attention stages (scores, scaled, masked, pattern) from that layer's Q and K;
- the FFN activation from its pre-activation;
- the logits from the stream the output projection reads (and the projection's weights);
- the probabilities from the logits.

Small models (the articles' 64 x 3,771) keep everything, as before. The most recently
recomputed steps are held in a small cache (RECENT_MAX_BYTES), so stepping back and forth or a
redraw does not compute the same matrix twice.
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

# A step with more numbers than this is recomputed on demand (1 MB of float32): every step of
# the articles' model (the largest, its logits, has 64 x 3,771 = 241k) is kept; at GPT-2 size
# the logits always go, and the attention stages from 148 tokens on (12 x 148 x 148).
KEEP_MAX_VALUES = 1 << 18
RECENT_MAX_BYTES = 128 << 20  # recomputed steps held for reuse (at least the newest one)
# Which kinds can be recomputed, and from what, is each kind's `recompute` in the step registry
# (engine.model.registry); the functions below are the float32 operations they run.

Compute = Callable[[], np.ndarray]


class Recent:
    """Recomputed values, newest last, within a byte budget; safe to share between threads."""

    def __init__(self, max_bytes: int = RECENT_MAX_BYTES):
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, name: str, compute: Compute) -> np.ndarray:
        """The values of `name`, recomputed (outside the lock) unless held."""
        with self._lock:
            if name in self._items:
                self._items.move_to_end(name)
                return self._items[name]
        values = compute()
        with self._lock:
            self._items[name] = values
            total = sum(v.nbytes for v in self._items.values())
            while total > self.max_bytes and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                total -= dropped.nbytes
        return values

    def names(self) -> list[str]:
        """What is held now, oldest first."""
        with self._lock:
            return list(self._items)


def attention_stage(stage: str, q: np.ndarray, k: np.ndarray, window: int | None = None,
                    scale: float | None = None, softcap: float | None = None) -> np.ndarray:
    """One attention stage (B, nh, T, T) from Q (B, nh, T, hs) and K (B, nkv, T, hs), by the ops
    of the model's probed path (engine.model.components.attention), so the numbers are the ones
    it computed."""
    qt, kt = torch.from_numpy(q), torch.from_numpy(k)
    if k.shape[1] != q.shape[1]:  # grouped: each K/V head once per query head it serves
        kt = kt.repeat_interleave(q.shape[1] // k.shape[1], dim=1)  # (B, nh, T, hs)
    T, hs = q.shape[-2], q.shape[-1]
    x = qt @ kt.transpose(-2, -1)  # (B, nh, T, T) scores
    if stage != "scores":
        x = x / math.sqrt(hs) if scale is None else x * scale  # scaled
    if stage != "scores" and stage != "scaled" and softcap is not None:
        x = torch.tanh(x / softcap) * softcap  # capped
    if stage in ("masked", "pattern"):
        blocked = torch.ones(T, T, dtype=torch.bool).triu(1)  # (T, T) the future
        if window is not None:  # and the keys a sliding window leaves behind
            i = torch.arange(T)
            blocked |= (i[:, None] - i[None, :]) >= window
        x = x.masked_fill(blocked, float("-inf"))
    if stage == "pattern":
        x = F.softmax(x, dim=-1)  # rows sum to 1
    return x.numpy()


def activation(act_fn: Callable[[torch.Tensor], torch.Tensor], hidden: np.ndarray) -> np.ndarray:
    """The FFN non-linearity (B, T, d_ff) of its pre-activation, with the model's own module."""
    with torch.no_grad():
        return act_fn(torch.from_numpy(hidden)).numpy()


class OutputProjection:
    """The output projection's weights as they were when the trace was taken.

    Held by reference, not copied (the tied table is 154 MB at GPT-2 size): the app never
    changes a model it shows (new weights are a new model), and if anything did, recomputing
    raises rather than mixing two sets of weights into one trace.
    """

    def __init__(self, weight: torch.Tensor, stream: str, bias: torch.Tensor | None = None):
        self.weight = weight.detach()  # (V, C)
        self.bias = None if bias is None else bias.detach()  # (V,): Phi's b_vocab
        self.stream = stream  # the step it projects (engine.model.registry.final_stream)
        self._version = weight._version  # bumped by every in-place update of the tensor

    def reads(self, weight: torch.Tensor) -> bool:
        """Whether these are `weight`'s own values (the same storage; a model's detached
        copy is another tensor object, so `is` cannot tell)."""
        return self.weight.data_ptr() == weight.data_ptr() and self.weight._version == self._version

    def logits(self, stream: np.ndarray) -> np.ndarray:
        """stream (..., C) -> logits (..., V), float32, on the weights' device."""
        if self.weight._version != self._version:
            raise RuntimeError("the model's weights changed since this trace was taken; "
                               "trace it again")
        with torch.no_grad():
            x = torch.as_tensor(stream, device=self.weight.device)
            return F.linear(x, self.weight, self.bias).float().cpu().numpy()


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities (..., V) of logits (..., V), by torch's softmax as the trace computes it."""
    return F.softmax(torch.from_numpy(np.ascontiguousarray(logits)), dim=-1).numpy()


def top_k(logits: torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k most likely next tokens at every position: ids (B, T, k) int64, probabilities
    (B, T, k) float32, most likely first, from logits (B, T, V)."""
    probs = F.softmax(logits.float(), dim=-1)  # (B, T, V), freed on return
    p, i = torch.topk(probs, min(k, probs.shape[-1]), dim=-1)  # (B, T, k) each
    return i.cpu().numpy(), p.cpu().numpy()


PREVIEW_SIZE = 64  # an overview cell shows at most this many queries x keys


def preview(stage: torch.Tensor, size: int = PREVIEW_SIZE) -> np.ndarray:
    """A small copy (nh, t, t), t <= size, of one attention stage (nh, T, T) for an overview.

    Up to `size` tokens it is the stage itself; beyond, each cell is the largest value of its
    block of queries x keys (max pooling), so a sharp attention spike stays visible and a block
    entirely in the future stays −∞ (masked).
    """
    T = stage.shape[-1]
    if T <= size:
        return stage.detach().float().cpu().numpy().copy()
    block = math.ceil(T / size)
    pooled = F.max_pool2d(stage.detach().float()[None], block, ceil_mode=True)[0]  # (nh, t, t)
    return pooled.cpu().numpy()
