"""The traced forward pass: every intermediate of one forward, under a stable name.

Capture lives here, not in the model: a probe active only in the calling thread's context
(engine.model.decoder.probing) sees each `HookPoint`'s tensor, named by module path as TransformerLens
names its hooks, and copies it out. Nothing on the model changes, so a model can be traced on
one thread while another samples from it. The ordered list of
`Step`s is what every panel, the CLI's `inspect` and the walkthrough read.
"""
from __future__ import annotations

import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from engine.config import ModelConfig
from engine.model import ondemand
from engine.model.decoder import GPT
from engine.model.hooks import HookPoint, eval_mode, probing
from engine.model.registry import KINDS, final_stream, kind_of, step_kind, step_layer
from engine.model.steps import step_title

TOP_K = 32  # next-token guesses kept at every position (the probabilities themselves may not be)

# Every Step is stamped from the step registry (its title, formula and axes); the names stay
# importable from here for the callers that read them next to Trace.
__all__ = ["KINDS", "Step", "Trace", "capture", "hook_points", "run_trace", "step_kind",
           "step_layer", "TOP_K"]


class Step:
    """One intermediate: name, how it was computed, and its values (float32).

    Values are either kept, or (large steps, see engine.model.ondemand) recomputed when first read
    and then held for a while; `kept` says which. The shape is known either way.
    """

    def __init__(self, name: str, title: str, formula: str, axes: tuple[str, ...],
                 values: np.ndarray | None = None, compute: ondemand.Compute | None = None,
                 shape: tuple[int, ...] | None = None, recent: ondemand.Recent | None = None):
        if values is None and (compute is None or shape is None or recent is None):
            raise ValueError("a step needs its values, or how to recompute them and its shape")
        self.name, self.title, self.formula, self.axes = name, title, formula, axes
        self._values, self._compute, self._recent = values, compute, recent
        self._shape = tuple(values.shape) if values is not None else tuple(shape)

    @property
    def values(self) -> np.ndarray:
        if self._values is not None:
            return self._values
        return self._recent.get(self.name, self._compute)

    @property
    def kept(self) -> bool:
        """The values are held by the trace (not recomputed on demand)."""
        return self._values is not None

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def kind(self) -> str:
        return step_kind(self.name)

    @property
    def layer(self) -> int | None:
        return step_layer(self.name)

    def __repr__(self) -> str:
        return f"Step({self.name!r}, shape={self._shape}, kept={self.kept})"


@dataclass
class Trace:
    """The ordered steps of one traced forward over a batch of token windows."""

    steps: list[Step]
    ids: np.ndarray  # (B, T) compact ids fed to the model
    ablated: tuple[tuple[int, int], ...] = ()
    # The TOP_K most likely next tokens at every position, most likely first: (B, T, k) each.
    top_ids: np.ndarray | None = None
    top_probs: np.ndarray | None = None
    output: ondemand.OutputProjection | None = field(default=None, repr=False)
    # Every attention stage of batch row 0, small enough for an overview of all layers x
    # heads (engine.model.ondemand.preview): step name -> (nh, t, t), t <= PREVIEW_SIZE.
    previews: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    # Cross-entropy (B, T-1) of each next token given the ones before it (ablation included).
    next_loss: np.ndarray | None = None
    config: ModelConfig | None = field(default=None, repr=False)  # the model traced
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._build_index()

    def _build_index(self) -> None:
        self._index = {s.name: i for i, s in enumerate(self.steps)}

    def __getitem__(self, name: str) -> Step:
        return self.steps[self._index[name]]

    def __contains__(self, name: str) -> bool:
        return name in self._index

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def names(self) -> list[str]:
        return [s.name for s in self.steps]

    def values(self, name: str) -> np.ndarray:
        return self[name].values

    def made_by(self, model: GPT) -> bool:
        """Whether this trace is of `model` as it is now (its output weights, unchanged)."""
        return self.output is not None and self.output.reads(model.unembedding())

    def kept_bytes(self) -> int:
        """Bytes of the values this trace holds (steps recomputed on demand not counted)."""
        return sum(s.values.nbytes for s in self.steps if s.kept)

    def next_token_probs(self, position: int, batch: int = 0) -> np.ndarray:
        """The model's next-token probabilities (V,) after `position`, from the kept
        probabilities if any, else recomputed for that one position (cheap: one row)."""
        probs = self["probs"]
        if probs.kept:
            return probs.values[batch, position]
        logits = self["logits"]
        if logits.kept:
            row = logits.values[batch, position]  # (V,)
        else:
            row = self.output.logits(self.values(self.output.stream)[batch, position])
        return ondemand.softmax(row)


def hook_points(model: GPT) -> dict[str, HookPoint]:
    """Every HookPoint in forward order, keyed by module path (never typed by hand)."""
    return {n: m for n, m in model.named_modules() if isinstance(m, HookPoint)}


@contextmanager
def capture(
    model: GPT,
    ablate: Iterable[tuple[int, int]] = (),
    store: bool = True,
    keep: Callable[[str, torch.Tensor], bool] | None = None,
) -> Iterator[dict[str, torch.Tensor]]:
    """Within the block, forwards of `model` on this thread record each HookPoint's output
    (detached) into the dict, in forward order.

    Attention runs its explicit step-by-step path so that scores, mask and pattern exist.
    `ablate` lists (layer, head) pairs whose weighted values are zeroed before the concat.
    `keep(name, tensor)`, if given, decides which outputs are recorded (it sees them all).
    The model itself is never changed: no hooks, no flags.
    """
    n_layer, n_head = len(model.blocks), model.config.n_head
    heads_off: dict[str, list[int]] = {}
    for layer, head in ablate:
        if not 0 <= layer < n_layer or not 0 <= head < n_head:
            raise ValueError(f"no head {head} in layer {layer} to ablate")
        heads_off.setdefault(f"blocks.{layer}.attn.weighted", []).append(head)
    cache: dict[str, torch.Tensor] = {}

    def probe(name: str, x: torch.Tensor) -> torch.Tensor:
        heads = heads_off.get(name)
        if heads:
            x = x.clone()
            x[:, heads] = 0.0  # (B, nh, T, hs): the chosen heads contribute nothing
        if store and (keep is None or keep(name, x)):
            cache[name] = x.detach()
        return x

    with probing(probe):
        yield cache


@torch.no_grad()
def run_trace(
    model: GPT,
    ids: torch.Tensor | np.ndarray | Sequence[int],
    ablate: Iterable[tuple[int, int]] = (),
    keep_max: int = ondemand.KEEP_MAX_VALUES,
) -> Trace:
    """Run one forward on ids (T,) or (B, T) in eval mode and return every step in order.

    A recomputable step (engine.model.ondemand) of more than `keep_max` numbers is not kept: it is
    recomputed from the kept ones when read. The top TOP_K next tokens are always kept.
    """
    device = next(model.parameters()).device
    idx = torch.as_tensor(np.asarray(ids), dtype=torch.long, device=device)
    if idx.ndim == 1:
        idx = idx.unsqueeze(0)  # (1, T)
    if idx.ndim != 2 or idx.shape[1] == 0:
        raise ValueError("trace needs at least one token")
    ablate = tuple(sorted(set(ablate)))
    shapes: dict[str, tuple[int, ...]] = {}
    previews: dict[str, np.ndarray] = {}

    def keep(name: str, x: torch.Tensor) -> bool:
        shapes[name] = tuple(x.shape)
        kind = kind_of(name)
        if kind.stage:
            previews[name] = ondemand.preview(x[0])  # (nh, t, t)
        return x.numel() <= keep_max or kind.recompute is None

    with eval_mode(model), capture(model, ablate, keep=keep) as cache:
        logits, _ = model(idx)  # (B, T, V)
    top_ids, top_probs = ondemand.top_k(logits, TOP_K)  # (B, T, k) each
    B, T, V = logits.shape
    next_loss = F.cross_entropy(logits[:, :-1].reshape(-1, V).float(), idx[:, 1:].reshape(-1),
                                reduction="none").view(B, T - 1).cpu().numpy()  # (B, T-1)
    shapes["probs"] = tuple(logits.shape)
    if logits.numel() <= keep_max:
        cache["probs"] = F.softmax(logits.float(), dim=-1)  # (B, T, V)
    del logits
    recent = ondemand.Recent()
    trace = Trace(steps=[], ids=idx.cpu().numpy(), ablated=ablate, top_ids=top_ids,
                  top_probs=top_probs,
                  output=ondemand.OutputProjection(model.unembedding(),
                                                   final_stream(model.config),
                                                   model.unembedding_bias()),
                  previews=previews, next_loss=next_loss, config=model.config)
    cfg = model.config  # titles and formulas as this model has them (RMSNorm, not LayerNorm)
    steps = [_step("tokens", idx, cfg)]
    # shapes is in hook-firing order, which is forward order; probs comes last.
    for name, shape in shapes.items():
        if name in cache:
            steps.append(_step(name, cache[name], cfg))
        else:
            steps.append(_lazy(name, shape, _recompute(model, trace, name), recent, cfg))
    trace.steps = steps  # the recompute functions read the trace they belong to
    trace._build_index()
    return trace


class _Kept:
    """What a step kind's recompute reads: the kept steps of its trace, its block, the model."""

    def __init__(self, model: GPT, trace: Trace, name: str):
        # The trace is held weakly: a strong reference would make a cycle (trace → step →
        # function → trace) that keeps every replaced trace alive until a full garbage
        # collection, a leak of a hundred megabytes per context edit at GPT-2 size.
        self._ref = weakref.ref(trace)
        self.model, self.name, self.layer = model, name, step_layer(name)
        self.output = trace.output

    def kept(self, step: str) -> np.ndarray:
        owner = self._ref()
        if owner is None:
            raise RuntimeError("the trace this step belongs to is gone")
        return owner.values(step)

    def here(self, kind: str) -> str:
        """The full name of `kind` in this step's block."""
        return kind if self.layer is None else f"blocks.{self.layer}.{kind}"


def _recompute(model: GPT, trace: Trace, name: str) -> ondemand.Compute:
    """How to get step `name` of `trace` back from the steps it keeps (its kind's recompute)."""
    recompute, kept = kind_of(name).recompute, _Kept(model, trace, name)
    return lambda: recompute(kept)


def _step(name: str, tensor: torch.Tensor, cfg: ModelConfig) -> Step:
    kind = kind_of(name)
    values = tensor.detach().float().cpu().numpy()
    # English; views show step_title(name, lang, cfg)
    return Step(name=name, title=step_title(name, cfg=cfg), formula=kind.formula_for(cfg)[0],
                axes=kind.axes, values=values)


def _lazy(name: str, shape: tuple[int, ...], compute: ondemand.Compute,
          recent: ondemand.Recent, cfg: ModelConfig) -> Step:
    kind = kind_of(name)
    return Step(name=name, title=step_title(name, cfg=cfg), formula=kind.formula_for(cfg)[0],
                axes=kind.axes, compute=compute, shape=shape, recent=recent)
