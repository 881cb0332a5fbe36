"""Honesty checks: every traced step recomputed independently in float64 NumPy.

The trace shows numbers the model produced; a check redoes that one step by hand, from the
previous steps' values in the same trace and the model's weights, without calling the model
(only `logits` is also compared with the fast forward `model(ids)`, which shares no hooks and no
explicit attention path with the trace). The check passes when the largest absolute difference
is within the tolerance: 1e-4, scaled up by the size of the values when they exceed 1, because
the trace is float32 and one float32 operation is exact to about 1e-7 of its magnitude.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from engine.model.check_words import DESCRIPTIONS, Said  # noqa: F401 (DESCRIPTIONS: re-exported)
from engine.model.decoder import GPT, eval_mode
from engine.model.trace import Trace, capture, final_stream, step_kind, step_layer

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


# ---------------------------------------------------------------------------------------------
# Wiring: which earlier steps a step is computed from. Post-norm and pre-norm blocks differ.


def block_input(model: GPT, layer: int) -> str:
    """The step holding the residual stream that enters block `layer`."""
    if layer == 0:
        return "embed.sum"
    prev = f"blocks.{layer - 1}"
    return f"{prev}.resid2" if model.config.norm == "pre" else f"{prev}.ln2"


def step_inputs(model: GPT, name: str) -> list[str]:
    """Names of the trace steps that `name` is computed from (weights not included)."""
    kind, layer = step_kind(name), step_layer(name)
    pre = model.config.norm == "pre"
    if layer is None:
        return {
            "tokens": [],
            "embed.token": ["tokens"],
            "embed.position": [],
            "embed.sum": ["embed.token", "embed.position"],
            "ln_f": [f"blocks.{model.config.n_layer - 1}.resid2"],
            "logits": [final_stream(model)],
            "probs": ["logits"],
        }[kind]
    b = f"blocks.{layer}"
    x_in = block_input(model, layer)
    attn_in = f"{b}.ln1" if pre else x_in
    table = {
        "attn.q": [attn_in],
        "attn.k": [attn_in],
        "attn.v": [attn_in],
        "attn.scores": [f"{b}.attn.q", f"{b}.attn.k"],
        "attn.scaled": [f"{b}.attn.scores"],
        "attn.masked": [f"{b}.attn.scaled"],
        "attn.pattern": [f"{b}.attn.masked"],
        "attn.weighted": [f"{b}.attn.pattern", f"{b}.attn.v"],
        "attn.concat": [f"{b}.attn.weighted"],
        "attn.out": [f"{b}.attn.concat"],
        "resid1": [x_in, f"{b}.attn.out"],
        "ffn.act": [f"{b}.ffn.hidden"],
        "ffn.out": [f"{b}.ffn.act"],
    }
    if pre:  # x + f(LN(x))
        table.update({
            "ln1": [x_in],
            "ln2": [f"{b}.resid1"],
            "ffn.hidden": [f"{b}.ln2"],
            "resid2": [f"{b}.resid1", f"{b}.ffn.out"],
        })
    else:  # LN(x + f(x))
        table.update({
            "ln1": [f"{b}.resid1"],
            "ffn.hidden": [f"{b}.ln1"],
            "resid2": [f"{b}.ln1", f"{b}.ffn.out"],
            "ln2": [f"{b}.resid2"],
        })
    return table[kind]


# ---------------------------------------------------------------------------------------------
# Float64 re-implementations (nothing here calls a torch module).


def _w(t: torch.Tensor | None) -> np.ndarray | None:
    return None if t is None else t.detach().cpu().double().numpy()


# Below this many multiply-adds, numpy's own loops (einsum) are used instead of BLAS: a
# multithreaded BLAS on a busy 2-core machine can take 30 ms for a 64x256x64 product that
# einsum does in 0.3 ms, and the walkthrough checks one step per key press.
_BLAS_MIN_MACS = 8_000_000


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b (batched over leading axes), in float64."""
    if a.size * b.shape[-1] < _BLAS_MIN_MACS:
        return np.einsum("...ij,...jk->...ik", a, b)
    return a @ b


def _linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    y = _matmul(x, weight.T)  # (..., in) · (out, in)ᵀ -> (..., out)
    return y if bias is None else y + bias


def _layer_norm(x: np.ndarray, norm: torch.nn.LayerNorm) -> np.ndarray:
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)  # biased, as LayerNorm uses
    y = (x - mu) / np.sqrt(var + norm.eps)
    if norm.weight is not None:
        y = y * _w(norm.weight)
    if norm.bias is not None:
        y = y + _w(norm.bias)
    return y


def _softmax(x: np.ndarray) -> np.ndarray:
    m = np.max(x, axis=-1, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(axis=-1, keepdims=True)


_erf = np.frompyfunc(math.erf, 1, 1)


def _gelu(x: np.ndarray, approximate: str) -> np.ndarray:
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)).astype(np.float64))


def _sinusoidal(n_pos: int, d_model: int) -> np.ndarray:
    pe = np.zeros((n_pos, d_model))
    pos = np.arange(n_pos, dtype=np.float64)[:, None]
    for i in range(0, d_model, 2):
        angle = pos[:, 0] / 10000.0 ** (i / d_model)
        pe[:, i] = np.sin(angle)
        if i + 1 < d_model:
            pe[:, i + 1] = np.cos(angle)
    return pe


def _max_diff(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        return math.inf
    if a.size == 0:
        return 0.0
    d = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))
    return float(np.nanmax(np.where(np.isnan(d), math.inf, d)))


def _scale(x: np.ndarray) -> float:
    finite = np.abs(x[np.isfinite(x)])
    return float(finite.max()) if finite.size else 0.0


def _heads(x: np.ndarray, nh: int) -> np.ndarray:
    B, T, C = x.shape
    return x.reshape(B, T, nh, C // nh).transpose(0, 2, 1, 3)  # (B, nh, T, hs)


# ---------------------------------------------------------------------------------------------
# One function per step kind: (expected values, extra differences, description).

def _say(key: str, **fields: object) -> Said:
    return Said(key, fields)


Result = tuple[np.ndarray, list[float], Said]


class _Ctx:
    def __init__(self, model: GPT, trace: Trace, name: str):
        self.model, self.trace, self.name = model, trace, name
        self.cfg = model.config
        self.layer = step_layer(name)
        self.inputs = step_inputs(model, name)

    def x(self, i: int = 0) -> np.ndarray:
        return self.trace.values(self.inputs[i]).astype(np.float64)

    def got(self) -> np.ndarray:
        """The trace's values of the step checked."""
        return self.trace.values(self.name)

    def top(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The trace's kept top-k next tokens (ids, probabilities), if any."""
        t = self.trace
        return None if t.top_ids is None else (t.top_ids, t.top_probs)

    def fast(self) -> np.ndarray:
        """The fast forward's logits."""
        return _fast_logits(self.model, self.trace)

    @property
    def block(self):
        return self.model.blocks[self.layer]


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


def _tokens(c: _Ctx) -> Result:
    ids = c.trace.ids.astype(np.float64)
    in_range = bool(((ids >= 0) & (ids < c.cfg.vocab_size)).all())
    return ids, [0.0 if in_range else math.inf], _say("tokens", V=c.cfg.vocab_size)


def _embed_token(c: _Ctx) -> Result:
    ids = c.trace.ids.astype(np.int64)
    return _w(c.model.embed.wte.weight)[ids], [], _say("embed.token")


def _embed_position(c: _Ctx) -> Result:
    T = c.trace.ids.shape[1]
    if c.cfg.positional == "sinusoidal":
        return _sinusoidal(T, c.cfg.d_model), [], _say("embed.position.sinusoidal")
    return _w(c.model.embed.wpe.weight)[:T], [], _say("embed.position.learned")


def _embed_sum(c: _Ctx) -> Result:
    return c.x(0) + c.x(1)[None], [], _say("embed.sum")


def _qkv(c: _Ctx) -> Result:
    which = "qkv".index(step_kind(c.name)[-1])
    C = c.cfg.d_model
    W = _w(c.block.attn.qkv.weight)[which * C:(which + 1) * C]  # (C, C) slice of Wq|Wk|Wv
    bias = c.block.attn.qkv.bias
    b = None if bias is None else _w(bias)[which * C:(which + 1) * C]
    letter = "QKV"[which]
    return _heads(_linear(c.x(0), W, b), c.cfg.n_head), [], _say("qkv", x=c.inputs[0],
                                                                   w=letter.lower())


def _scores(c: _Ctx) -> Result:
    return _matmul(c.x(0), c.x(1).swapaxes(-1, -2)), [], _say("attn.scores")


def _scaled(c: _Ctx) -> Result:
    hs = c.cfg.head_size
    return c.x(0) / math.sqrt(hs), [], _say("attn.scaled", hs=hs)


def _causal_above(T: int) -> np.ndarray:
    return np.triu(np.ones((T, T), dtype=bool), k=1)  # True where key > query (the future)


def _masked(c: _Ctx) -> Result:
    scaled = c.x(0)
    got = c.trace.values(c.name)
    above = _causal_above(scaled.shape[-1])
    expected = np.where(above, -np.inf, scaled)
    blocked_ok = bool(np.all(np.isneginf(got[..., above])))
    # Compare the allowed part numerically; a finite value above the diagonal is an infinite error.
    expected_cmp = np.where(above, 0.0, expected)
    diff = _max_diff(np.where(above, 0.0, got), expected_cmp)
    return expected, [diff, 0.0 if blocked_ok else math.inf], _say("attn.masked")


def _pattern(c: _Ctx) -> Result:
    got = c.trace.values(c.name).astype(np.float64)
    expected = _softmax(c.x(0))
    rows = float(np.abs(got.sum(axis=-1) - 1.0).max())
    future = float(np.abs(got[..., _causal_above(got.shape[-1])]).max(initial=0.0))
    return expected, [rows, future], _say("attn.pattern")


def _weighted(c: _Ctx) -> Result:
    out = _matmul(c.x(0), c.x(1))  # (B, nh, T, T) · (B, nh, T, hs)
    off = [h for layer, h in c.trace.ablated if layer == c.layer]
    if off:
        out[:, off] = 0.0
        return out, [], _say("attn.weighted.ablated", off=off)
    return out, [], _say("attn.weighted")


def _concat(c: _Ctx) -> Result:
    w = c.x(0)
    B, nh, T, hs = w.shape
    return w.transpose(0, 2, 1, 3).reshape(B, T, nh * hs), [], _say("attn.concat")


def _attn_out(c: _Ctx) -> Result:
    p = c.block.attn.proj
    return _linear(c.x(0), _w(p.weight), _w(p.bias)), [], _say("attn.out")


def _resid(c: _Ctx) -> Result:
    return c.x(0) + c.x(1), [], _say("resid", a=c.inputs[0], b=c.inputs[1])


def _ln(c: _Ctx) -> Result:
    kind = step_kind(c.name)
    norm = c.model.norm_f if kind == "ln_f" else getattr(c.block, "norm" + kind[-1])
    return _layer_norm(c.x(0), norm), [], _say("ln", x=c.inputs[0], eps=f"{norm.eps:g}")


def _ffn_hidden(c: _Ctx) -> Result:
    fc = c.block.ffn.fc1
    return _linear(c.x(0), _w(fc.weight), _w(fc.bias)), [], _say("ffn.hidden", x=c.inputs[0])


def _ffn_act(c: _Ctx) -> Result:
    h = c.x(0)
    fn = c.block.ffn.act_fn
    if isinstance(fn, torch.nn.GELU):
        key = "ffn.act.gelu_tanh" if fn.approximate == "tanh" else "ffn.act.gelu"
        return _gelu(h, fn.approximate), [], _say(key)
    return np.maximum(h, 0.0), [], _say("ffn.act.relu")


def _ffn_out(c: _Ctx) -> Result:
    fc = c.block.ffn.fc2
    return _linear(c.x(0), _w(fc.weight), _w(fc.bias)), [], _say("ffn.out")


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


def _logits(c: _Ctx) -> Result:
    expected = _linear(c.x(0), _w(c.model.lm_head.weight), None)  # (B, T, C) · (V, C)ᵀ
    fast = _max_diff(c.got(), c.fast())
    return expected, [fast], _say("logits", x=c.inputs[0], fast=f"{fast:.1e}")


def _probs(c: _Ctx) -> Result:
    got = c.got().astype(np.float64)
    rows = float(np.abs(got.sum(axis=-1) - 1.0).max())
    expected = _softmax(c.x(0))
    extra = [rows]
    kept = c.top()
    if kept is not None:  # the kept top-k: the largest of the recomputed softmax
        top_ids, top_probs = kept
        top = np.take_along_axis(expected, top_ids, axis=-1)  # (B, T, k)
        extra.append(_max_diff(top_probs, top))
        k = top_ids.shape[-1]
        largest = -np.sort(-np.partition(expected, -k, axis=-1)[..., -k:], axis=-1)
        extra.append(_max_diff(top, largest))  # no larger probability was left out
        return expected, extra, _say("probs.top", k=k)
    return expected, extra, _say("probs")


_CHECKS: dict[str, Callable[[_Ctx], Result]] = {
    "tokens": _tokens,
    "embed.token": _embed_token,
    "embed.position": _embed_position,
    "embed.sum": _embed_sum,
    "attn.q": _qkv,
    "attn.k": _qkv,
    "attn.v": _qkv,
    "attn.scores": _scores,
    "attn.scaled": _scaled,
    "attn.masked": _masked,
    "attn.pattern": _pattern,
    "attn.weighted": _weighted,
    "attn.concat": _concat,
    "attn.out": _attn_out,
    "resid1": _resid,
    "resid2": _resid,
    "ln1": _ln,
    "ln2": _ln,
    "ln_f": _ln,
    "ffn.hidden": _ffn_hidden,
    "ffn.act": _ffn_act,
    "ffn.out": _ffn_out,
    "logits": _logits,
    "probs": _probs,
}


# A vocabulary-sized check is done this many float64 numbers at a time (32 MB per copy).
CHUNK_VALUES = 4_000_000


def _verdict(c: _Ctx) -> tuple[float, float, Said]:
    """(largest difference, scale of the expected values, description) of one check."""
    expected, extra, said = _CHECKS[step_kind(c.name)](c)
    if step_kind(c.name) == "attn.masked":
        diff = max(extra)  # −∞ entries were compared separately
    else:
        diff = max([_max_diff(c.got(), expected)] + extra)
    return diff, _scale(expected), said


def _chunked(model: GPT, trace: Trace, name: str) -> tuple[float, float, Said]:
    """_verdict of a logits or probs check, a slice of positions at a time."""
    B, T, V = trace[name].shape
    step = max(1, CHUNK_VALUES // (B * V))
    fast = _fast_logits(model, trace, double=False) if name == "logits" else None
    arrays = {n: trace.values(n) for n in (name, *_Ctx(model, trace, name).inputs)}
    diff, scale, said, worst_fast = 0.0, 0.0, None, 0.0
    for start in range(0, T, step):
        c = _Rows(model, trace, name, slice(start, start + step), fast, arrays)
        d, s, said = _verdict(c)
        diff, scale = max(diff, d), max(scale, s)
        worst_fast = max(worst_fast, _max_diff(c.got(), c.fast())) if fast is not None else 0.0
    if fast is not None:  # the description names the worst difference of any slice
        said = _say("logits", x=said.fields["x"], fast=f"{worst_fast:.1e}")
    return diff, scale, said


def check_step(model: GPT, trace: Trace, name: str) -> Check:
    """Recompute step `name` of `trace` from its inputs and the model's weights, and compare."""
    c = _Ctx(model, trace, name)
    kind = step_kind(name)
    if kind in ("logits", "probs") and np.prod(trace[name].shape) > CHUNK_VALUES:
        diff, scale, said = _chunked(model, trace, name)
    else:
        diff, scale, said = _verdict(c)
    # Ids are integers stored exactly in float32: they must match exactly.
    tolerance = 0.0 if c.name == "tokens" else BASE_TOLERANCE * max(1.0, scale)
    passed = bool(diff <= tolerance)  # NaN or inf never passes
    return Check(name=name, description=said.text("en"), max_abs_diff=float(diff),
                 tolerance=float(tolerance), passed=passed, description_zh=said.text("zh"))


def check_all(model: GPT, trace: Trace) -> list[Check]:
    """One Check per step, in trace order."""
    return [check_step(model, trace, name) for name in trace.names()]
