"""The traced forward pass: every intermediate of one forward, under a stable name.

Capture lives here, not in the model: a probe active only in the calling thread's context
(engine.model.probing) sees each `HookPoint`'s tensor, named by module path as TransformerLens
names its hooks, and copies it out. Nothing on the model changes, so a model can be traced on
one thread while another samples from it. The ordered list of
`Step`s is what every panel, the CLI's `inspect` and the walkthrough read.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .model import GPT, HookPoint, eval_mode, probing
from .steps import STEP_INFO, step_kind, step_layer, step_title

# Every Step is stamped from engine.steps (its title, formula and axes); the names stay
# importable from here for the callers that read them next to Trace.


@dataclass
class Step:
    """One intermediate: name, how it was computed, and its values (float32)."""

    name: str
    title: str
    formula: str
    axes: tuple[str, ...]
    values: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)

    @property
    def kind(self) -> str:
        return step_kind(self.name)

    @property
    def layer(self) -> int | None:
        return step_layer(self.name)


@dataclass
class Trace:
    """The ordered steps of one traced forward over a batch of token windows."""

    steps: list[Step]
    ids: np.ndarray  # (B, T) compact ids fed to the model
    ablated: tuple[tuple[int, int], ...] = ()
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
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


def hook_points(model: GPT) -> dict[str, HookPoint]:
    """Every HookPoint in forward order, keyed by module path (never typed by hand)."""
    return {n: m for n, m in model.named_modules() if isinstance(m, HookPoint)}


@contextmanager
def capture(
    model: GPT,
    ablate: Iterable[tuple[int, int]] = (),
    store: bool = True,
) -> Iterator[dict[str, torch.Tensor]]:
    """Within the block, forwards of `model` on this thread record each HookPoint's output
    (detached) into the dict, in forward order.

    Attention runs its explicit step-by-step path so that scores, mask and pattern exist.
    `ablate` lists (layer, head) pairs whose weighted values are zeroed before the concat.
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
        if store:
            cache[name] = x.detach()
        return x

    with probing(probe):
        yield cache


@torch.no_grad()
def run_trace(
    model: GPT,
    ids: torch.Tensor | np.ndarray | Sequence[int],
    ablate: Iterable[tuple[int, int]] = (),
) -> Trace:
    """Run one forward on ids (T,) or (B, T) in eval mode and return every step in order."""
    device = next(model.parameters()).device
    idx = torch.as_tensor(np.asarray(ids), dtype=torch.long, device=device)
    if idx.ndim == 1:
        idx = idx.unsqueeze(0)  # (1, T)
    if idx.ndim != 2 or idx.shape[1] == 0:
        raise ValueError("trace needs at least one token")
    ablate = tuple(sorted(set(ablate)))
    with eval_mode(model), capture(model, ablate) as cache:
        logits, _ = model(idx)  # (B, T, V)
    cache["probs"] = F.softmax(logits.float(), dim=-1)  # (B, T, V)
    steps = [_step("tokens", idx)]
    # Dict order is hook-firing order, which is forward order.
    steps += [_step(name, t) for name, t in cache.items()]
    return Trace(steps=steps, ids=idx.cpu().numpy(), ablated=ablate)


def _step(name: str, tensor: torch.Tensor) -> Step:
    _title, formula, axes = STEP_INFO[step_kind(name)]
    title = step_title(name)  # English; views show step_title(name, lang)
    values = tensor.detach().float().cpu().numpy()
    return Step(name=name, title=title, formula=formula, axes=axes, values=values)
