"""Direct logit attribution: which component wrote a chosen logit into the residual stream.

The residual stream at one position is a sum of what each component wrote into it: the
embeddings, every attention head (its slice of the output projection applied to its weighted
values), every feed-forward network, and constants (the output projection's and the FFN's
biases, the norms' β, and Phi's output bias b_vocab). A norm is not linear, but with its scale σ frozen at the value the real
forward computed it is affine: centre (LayerNorm only), divide by σ, times γ (Gemma: 1 + γ),
plus β. So each part is carried through every norm that stands between it and the logits (the
final norm; in a post-norm model every later block's norms too; in a sandwich block the norm
after the part's own attention or FFN), and its dot product with the target's row of W_vocab
(minus the other token's row, for a logit difference) is its share. The shares add up to the
real logit, which `LogitAttribution.error` measures.

A soft-capped final logit (Gemma 2: c·tanh(logit / c)) is not linear in the stream, so the
logit split is the one before the cap; `capped` says what the cap made of it.

Values are read from a trace (engine.model.trace.run_trace) and weights from the model's
state dict; everything is computed in float64. Shapes: C = d_model, nh = heads, hs = head_size,
P = parts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

import numpy as np

from engine.model.components.norm_steps import norm_kind
from engine.model.components.wiring_steps import wiring_of
from engine.model.registry import block_input, final_stream
from engine.wording import say

if TYPE_CHECKING:
    from engine.model.decoder import GPT
    from engine.model.trace import Trace

CONSTANTS = "constants"  # the part of the norms' β and the layers' biases
TOLERANCE = 1e-4  # the parts must add up to the real logit within this (float64)


class AttributionError(ValueError):
    """A position or token that cannot be attributed; the message is a Said."""


@dataclass(frozen=True)
class LogitAttribution:
    """A logit (or a logit difference) split into the share of each component."""

    position: int  # the position whose next-token logit is split
    target: int  # compact id of the token whose logit is split
    versus: int | None  # compact id of the second token (the split is target − versus)
    logit: float  # the real forward's logit (or difference), before any soft cap
    parts: dict[str, float]  # component -> share, in forward order; they add up to `logit`
    # Each norm the parts went through -> the σ it was frozen at (the real forward's value).
    scales: dict[str, float] = field(default_factory=dict)
    softcap: float | None = None  # the final soft cap c, when the model has one
    capped: float | None = None  # c·tanh(logit / c) (of each token, then their difference)

    @property
    def total(self) -> float:
        """The sum of the parts."""
        return float(sum(self.parts.values()))

    @property
    def error(self) -> float:
        """|sum of the parts − the real logit|: the check of the split."""
        return abs(self.total - self.logit)

    def top(self, n: int | None = None) -> list[tuple[str, float]]:
        """The parts by size of share, largest first."""
        ranked = sorted(self.parts.items(), key=lambda kv: -abs(kv[1]))
        return ranked if n is None else ranked[:n]

    def to_dict(self) -> dict:
        """The JSON form: anyone can check that the parts add up to `logit`."""
        out = {"position": self.position, "target": self.target, "versus": self.versus,
               "logit": self.logit, "parts": dict(self.parts), "sum_of_parts": self.total,
               "error": self.error, "tolerance": TOLERANCE, "frozen_norm_scales": self.scales}
        if self.softcap is not None:
            out["final_softcap"] = self.softcap
            out["capped_logit"] = self.capped
            out["softcap_note"] = ("the final logits are soft-capped, c·tanh(logit / c), which "
                                   "is not linear: the logit split is the one before the cap")
        return out


class _Parts:
    """The residual stream at one position as named rows (P, C) plus a constants row."""

    def __init__(self, C: int):
        self.names: list[str] = []
        self.rows: list[np.ndarray] = []  # each (C,)
        self.const = np.zeros(C)  # (C,)

    def add(self, name: str, row: np.ndarray) -> None:
        self.names.append(name)
        self.rows.append(row)

    def matrix(self) -> np.ndarray:
        return np.stack(self.rows + [self.const])  # (P + 1, C)

    def set_matrix(self, m: np.ndarray) -> None:
        self.rows, self.const = list(m[:-1]), m[-1]


class _Weights:
    """The float64 weights the split needs, read once from the state dict."""

    def __init__(self, model: "GPT"):
        self.state = model.state_dict()
        self.cfg = model.config

    def get(self, name: str) -> np.ndarray | None:
        tensor = self.state.get(name)
        return None if tensor is None else tensor.detach().double().cpu().numpy()


def frozen_sigma(kind: str, x: np.ndarray, eps: float) -> float:
    """The σ a norm divided x (C,) by in the real forward: √(var(x) + ε) for LayerNorm,
    √(mean(x²) + ε) for RMSNorm."""
    if kind == "layernorm":
        return float(np.sqrt(x.var() + eps))
    return float(np.sqrt(np.mean(x * x) + eps))


def _through_norm(w: _Weights, module: str, x_real: np.ndarray, m: np.ndarray,
                  scales: dict[str, float], override: Mapping[str, float]) -> np.ndarray:
    """Every row of m (P + 1, C), the last the constants, through norm `module` with σ frozen
    at the real input x_real (C,): affine, its β added to the constants row only."""
    cfg, kind = w.cfg, norm_kind(w.cfg)
    sigma = override.get(module, frozen_sigma(kind, x_real, cfg.ln_eps))
    scales[module] = sigma
    gamma = w.get(f"{module}.weight")  # (C,)
    if kind == "layernorm":
        m = m - m.mean(axis=-1, keepdims=True)  # (P + 1, C): centring is linear
    else:
        gamma = cfg.norm_offset + gamma  # Gemma's (1 + γ)
    m = m * (gamma / sigma)  # (P + 1, C)
    beta = w.get(f"{module}.bias") if kind == "layernorm" else None
    if beta is not None:
        m[-1] += beta  # (C,)
    return m


def _at(trace: "Trace", name: str, batch: int, position: int) -> np.ndarray:
    return trace.values(name)[batch, position].astype(np.float64)  # (C,)


def _block(w: _Weights, trace: "Trace", parts: _Parts, layer: int, batch: int, t: int,
           scales: dict[str, float], override: Mapping[str, float]) -> None:
    """Adds block `layer`'s heads and FFN to the parts, through the block's norms."""
    cfg, here = w.cfg, f"blocks.{layer}"
    wiring, nh, hs = wiring_of(cfg).name, cfg.n_head, cfg.head_size
    weighted = trace.values(f"{here}.attn.weighted")[batch, :, t].astype(np.float64)  # (nh, hs)
    wo = w.get(f"{here}.attn.proj.weight").reshape(cfg.d_model, nh, hs)  # (C, nh, hs)
    heads = np.einsum("nh,cnh->nc", weighted, wo)  # (nh, C): head n's slice of Wo on its values
    bias = w.get(f"{here}.attn.proj.bias")
    attn = np.vstack([heads, np.zeros(cfg.d_model) if bias is None else bias])  # (nh + 1, C)
    if wiring == "sandwich":  # the attention's output is normed before it joins the stream
        attn = _through_norm(w, f"{here}.norm_pa", _at(trace, f"{here}.attn.out", batch, t),
                             attn, scales, override)
    for n in range(nh):
        parts.add(f"{here}.attn.head.{n}", attn[n])
    parts.const = parts.const + attn[-1]
    if wiring == "post":
        parts.set_matrix(_through_norm(w, f"{here}.norm1",
                                       _at(trace, f"{here}.resid1", batch, t),
                                       parts.matrix(), scales, override))
    out = _at(trace, f"{here}.ffn.out", batch, t)  # (C,), its bias included
    bias = w.get(f"{here}.ffn.down.bias" if cfg.gated else f"{here}.ffn.fc2.bias")
    bias = np.zeros(cfg.d_model) if bias is None else bias  # (C,)
    ffn = np.vstack([out - bias, bias])  # (2, C)
    if wiring == "sandwich":
        ffn = _through_norm(w, f"{here}.norm_pf", out, ffn, scales, override)
    parts.add(f"{here}.mlp", ffn[0])
    parts.const = parts.const + ffn[1]
    if wiring == "post":
        parts.set_matrix(_through_norm(w, f"{here}.norm2",
                                       _at(trace, f"{here}.resid2", batch, t),
                                       parts.matrix(), scales, override))


def direct_logit_attribution(model: "GPT", trace: "Trace", position: int | None = None,
                             target: int | None = None, versus: int | None = None,
                             batch: int = 0,
                             scales: Mapping[str, float] | None = None) -> LogitAttribution:
    """Split the logit of `target` (default: the top prediction) after `position` (default: the
    last) into each component's share; with `versus`, the logit difference target − versus.

    `scales` replaces the frozen σ of the norms it names (module name -> σ): only for showing
    that the split holds with the real forward's σ and no other.
    """
    cfg = model.config
    T = trace.ids.shape[1]
    t = T - 1 if position is None else position
    if not -T <= t < T:
        raise AttributionError(say("attribution.position", position=t, n=T))
    t %= T
    if target is None:
        target = int(trace.top_ids[batch, t, 0])
    for token in (target, versus):
        if token is not None and not 0 <= token < cfg.vocab_size:
            raise AttributionError(say("attribution.token_id", id=token, n=cfg.vocab_size))
    if versus is not None and versus == target:
        raise AttributionError(say("attribution.same_token"))
    w, override, frozen = _Weights(model), dict(scales or {}), {}
    parts = _Parts(cfg.d_model)
    parts.add("embed", _at(trace, block_input(cfg, 0), batch, t))
    for layer in range(cfg.n_layer):
        _block(w, trace, parts, layer, batch, t, frozen, override)
    if wiring_of(cfg).final_norm:
        parts.set_matrix(_through_norm(w, "norm_f",
                                       _at(trace, block_input(cfg, cfg.n_layer), batch, t),
                                       parts.matrix(), frozen, override))
    w_vocab = model.unembedding()
    rows = [target] if versus is None else [target, versus]
    u = w_vocab[rows].detach().double().cpu().numpy()  # (1 or 2, C)
    direction = u[0] if versus is None else u[0] - u[1]  # (C,)
    shares = parts.matrix() @ direction  # (P + 1,)
    head_bias = model.unembedding_bias()
    if head_bias is not None:  # Phi's b_vocab: a constant of the logit itself
        b = head_bias[rows].detach().double().cpu().numpy()  # (1 or 2,)
        shares[-1] += b[0] if versus is None else b[0] - b[1]
    # The real logits: the forward's own output projection of its final stream.
    real = trace.output.logits(trace.values(final_stream(cfg))[batch, t])[rows]  # (1 or 2,)
    real = real.astype(np.float64)
    logit = float(real[0] if versus is None else real[0] - real[1])
    cap = cfg.final_softcap
    capped = None
    if cap:
        c = cap * np.tanh(real / cap)  # (1 or 2,)
        capped = float(c[0] if versus is None else c[0] - c[1])
    named = dict(zip(parts.names, (float(s) for s in shares[:-1])))
    named[CONSTANTS] = float(shares[-1])
    return LogitAttribution(position=t, target=int(target), versus=versus, logit=logit,
                            parts=named, scales=frozen, softcap=cap, capped=capped)
