"""Honesty checks: every traced step recomputed independently in float64 NumPy.

The trace shows numbers the model produced; a check redoes that one step by hand, from the
previous steps' values in the same trace and the model's weights, without calling the model
(only `logits` is also compared with the fast forward `model(ids)`, which shares no hooks and no
explicit attention path with the trace). Each step kind's check is declared with the kind
(engine.model.registry); it takes every variant (activation, epsilon, norm, wiring) from the
model's config, never from the modules it checks, and reads only weights, by state-dict name.
The check passes when the largest absolute difference is within the tolerance: 1e-4, scaled up
by the size of the values when they exceed 1, because the trace is float32 and one float32
operation is exact to about 1e-7 of its magnitude.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from engine.model import numerics as num
from engine.model.decoder import GPT
from engine.model.hooks import eval_mode
from engine.model import registry
from engine.model.registry import kind_of, step_layer
from engine.model.trace import Trace, capture

__all__ = ["BASE_TOLERANCE", "CHUNK_VALUES", "Check", "Said", "block_input", "check_all",
           "check_step", "step_inputs"]

BASE_TOLERANCE = 1e-4


@dataclass
class Check:
    """The verdict on one step: what was recomputed, the worst difference, and whether it passed."""

    name: str
    description: str  # in English; description_in(lang) for another language
    max_abs_diff: float
    tolerance: float
    passed: bool
    description_zh: str = ""

    def description_in(self, lang: str = "en") -> str:
        """What was recomputed, in `lang` ("en" or "zh"; anything else: English)."""
        if lang == "zh" and self.description_zh:
            return self.description_zh
        return self.description


@dataclass(frozen=True)
class Said:
    """A check's description: (English, Chinese) templates from its step kind, and fields."""

    words: tuple[str, str]
    fields: dict

    def text(self, lang: str = "en") -> str:
        """The description in `lang` ("zh", else English), its fields filled in."""
        return self.words[1 if lang == "zh" else 0].format(**self.fields)


def step_inputs(model: GPT, name: str) -> list[str]:
    """Names of the trace steps that `name` is computed from in `model` (weights not included)."""
    return registry.step_inputs(model.config, name)


def block_input(model: GPT, layer: int) -> str:
    """The step holding the residual stream that enters block `layer` of `model`."""
    return registry.block_input(model.config, layer)


class _Ctx:
    """What a step kind's check reads: the trace, the config, and weights by name."""

    def __init__(self, model: GPT, trace: Trace, name: str):
        self.model, self.trace, self.name = model, trace, name
        self.cfg = model.config
        self.layer = step_layer(name)
        self.inputs = registry.step_inputs(self.cfg, name)

    def x(self, i: int = 0) -> np.ndarray:
        return self.trace.values(self.inputs[i]).astype(np.float64)

    def got(self) -> np.ndarray:
        """The trace's values of the step checked."""
        return self.trace.values(self.name)

    def _weight(self, name: str) -> torch.Tensor | None:
        full = name if self.layer is None else f"blocks.{self.layer}.{name}"
        obj: Any = self.model
        for part in full.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        return obj.detach()

    def param(self, name: str) -> np.ndarray | None:
        """A weight in float64 by its state-dict name, relative to the step's block (None
        when the model has none there, e.g. a bias of a bias-free model)."""
        w = self._weight(name)
        return None if w is None else w.cpu().double().numpy()

    def param_rows(self, name: str, rows: slice | np.ndarray) -> np.ndarray | None:
        """Some rows of a weight in float64 (a slice, or an array of row indices of any
        shape): only those are copied. A whole vocabulary-sized table is 1.1 GB in float64
        at Qwen2.5's 151,936 x 896, more than the rest of a check put together."""
        w = self._weight(name)
        if w is None:
            return None
        index = rows if isinstance(rows, slice) else torch.as_tensor(rows, dtype=torch.long)
        return w[index].cpu().double().numpy()

    def top(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The trace's kept top-k next tokens (ids, probabilities), if any."""
        t = self.trace
        return None if t.top_ids is None else (t.top_ids, t.top_probs)

    def fast(self) -> np.ndarray:
        """The fast forward's logits."""
        return _fast_logits(self.model, self.trace)


class _Rows(_Ctx):
    """The same context over the positions `rows` only: a vocabulary-sized check (GPT-2's
    1,024 x 50,257) is done a slice at a time, so its float64 copies stay small."""

    def __init__(self, model: GPT, trace: Trace, name: str, rows: slice, fast: np.ndarray,
                 arrays: dict[str, np.ndarray]):
        super().__init__(model, trace, name)
        # The step and its inputs, read once for every slice: a recomputed step of GPT-2's
        # size (206 MB) does not fit engine.model.ondemand's reuse budget beside its input.
        self.rows, self._fast, self._arrays = rows, fast, arrays

    def x(self, i: int = 0) -> np.ndarray:
        return self._arrays[self.inputs[i]][:, self.rows].astype(np.float64)

    def got(self) -> np.ndarray:
        return self._arrays[self.name][:, self.rows]

    def top(self) -> tuple[np.ndarray, np.ndarray] | None:
        top = super().top()
        return None if top is None else (top[0][:, self.rows], top[1][:, self.rows])

    def fast(self) -> np.ndarray:
        return self._fast[:, self.rows]


@torch.no_grad()
def _fast_logits(model: GPT, trace: Trace, double: bool = True) -> np.ndarray:
    """The model's own forward on the trace's ids, without recording anything (float64, or
    float32 when not `double`: GPT-2's 1,024 x 50,257 are 400 MB in float64)."""
    device = next(model.parameters()).device
    idx = torch.as_tensor(trace.ids, dtype=torch.long, device=device)
    with eval_mode(model):
        if trace.ablated:  # the same heads must be off, or the comparison is meaningless
            with capture(model, ablate=trace.ablated, store=False):
                logits, _ = model(idx)
        else:
            logits, _ = model(idx)  # the fused path: traced == fast is what is checked
    return (logits.double() if double else logits.float()).cpu().numpy()


# A vocabulary-sized check is done this many float64 numbers at a time (32 MB per copy).
CHUNK_VALUES = 4_000_000


def _verdict(c: _Ctx) -> tuple[float, float, Said]:
    """(largest difference, scale of the expected values, description) of one check."""
    kind = kind_of(c.name)
    expected, extra, (key, fields) = kind.check(c)
    if kind.compares_itself:
        diff = max(extra)  # e.g. −∞ entries compared separately
    else:
        diff = max([num.max_diff(c.got(), expected)] + extra)
    return diff, num.scale(expected), Said(kind.words[key], fields)


def _chunked(model: GPT, trace: Trace, name: str) -> tuple[float, float, Said]:
    """_verdict of a vocabulary-sized check, a slice of positions at a time."""
    B, T, V = trace[name].shape
    step = max(1, CHUNK_VALUES // (B * V))
    fast = _fast_logits(model, trace, double=False) if name == "logits" else None
    arrays = {n: trace.values(n) for n in (name, *step_inputs(model, name))}
    diff, scale, said, worst_fast = 0.0, 0.0, None, 0.0
    for start in range(0, T, step):
        c = _Rows(model, trace, name, slice(start, start + step), fast, arrays)
        d, s, said = _verdict(c)
        diff, scale = max(diff, d), max(scale, s)
        worst_fast = max(worst_fast, num.max_diff(c.got(), c.fast())) if fast is not None else 0.0
    if fast is not None:  # the description names the worst difference of any slice
        said = Said(said.words, dict(said.fields, fast=f"{worst_fast:.1e}"))
    return diff, scale, said


def check_step(model: GPT, trace: Trace, name: str) -> Check:
    """Recompute step `name` of `trace` from its inputs and the model's weights, and compare."""
    if kind_of(name).chunked and np.prod(trace[name].shape) > CHUNK_VALUES:
        diff, scale, said = _chunked(model, trace, name)
    else:
        diff, scale, said = _verdict(_Ctx(model, trace, name))
    # Ids are integers stored exactly in float32: they must match exactly.
    tolerance = 0.0 if name == "tokens" else BASE_TOLERANCE * max(1.0, scale)
    passed = bool(diff <= tolerance)  # NaN or inf never passes
    return Check(name=name, description=said.text("en"), max_abs_diff=float(diff),
                 tolerance=float(tolerance), passed=passed, description_zh=said.text("zh"))


def check_all(model: GPT, trace: Trace) -> list[Check]:
    """One Check per step, in trace order."""
    return [check_step(model, trace, name) for name in trace.names()]
