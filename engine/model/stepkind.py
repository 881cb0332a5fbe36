"""What a step kind is: the one declaration of a traced step (engine.model.registry holds them).

A step kind is a trace name with any `blocks.{i}.` removed (`blocks.3.attn.scores` ->
`attn.scores`). Its StepKind, declared beside the component that emits it
(engine.model.components.*_steps), holds everything the app says and does about it: title and
formula in English and Chinese, axes, reshape and weights notes, the steps it is computed from,
its independent float64 check (with its descriptions in both languages), its recompute when the
trace does not keep it, its guide section and, for attention maps, its stage. Pure Python and
NumPy, no torch, no Qt.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:
    from engine.config import ModelConfig

_BLOCK = re.compile(r"^blocks\.(\d+)\.")

IN = "<in>"  # in a Wiring's feeds: the stream entering the block


@functools.lru_cache(maxsize=1 << 14)  # a few hundred names per model, asked per step per trace
def step_kind(name: str) -> str:
    """`blocks.3.attn.scores` -> `attn.scores`; names outside blocks are their own kind."""
    return _BLOCK.sub("", name)


@functools.lru_cache(maxsize=1 << 14)
def step_layer(name: str) -> int | None:
    """The block index of a step name, or None for steps outside the blocks."""
    m = _BLOCK.match(name)
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class Wiring:
    """How a block joins attention, feed-forward and norms to the residual stream: which step
    each reads (relative to the block; IN is the block's input) and which is its output."""

    name: str
    attn_in: str  # the step attention reads
    ffn_in: str  # the step the feed-forward network reads
    out: str  # the block's output: the next block's input
    feeds: dict[str, tuple[str, ...]]  # the inputs of the steps the wiring places (norms, sums)
    final_norm: bool  # a norm (norm_f, step ln_f) before the output projection


@dataclass(frozen=True)
class Place:
    """Where a step sits in one model: its block and the model's wiring, to name its inputs."""

    layer: int | None
    n_layer: int
    wiring: Wiring
    embed_out: str  # the step entering block 0
    cfg: Any = None  # the model's config, for steps whose inputs depend on its variant

    def here(self, kind: str) -> str:
        """The full name of `kind` in this step's block (IN: the block's input)."""
        if kind == IN:
            return self.block_input(self.layer)
        return kind if self.layer is None else f"blocks.{self.layer}.{kind}"

    def block_input(self, layer: int) -> str:
        """The step holding the residual stream that enters block `layer` (n_layer: the last
        block's output)."""
        if layer == 0:
            return self.embed_out
        return f"blocks.{layer - 1}.{self.wiring.out}"

    def wired(self, kind: str) -> list[str]:
        """The inputs of a step the wiring places (ln1, resid2 ...)."""
        return [self.here(k) for k in self.wiring.feeds[kind]]

    @property
    def attn_in(self) -> str:
        return self.here(self.wiring.attn_in)

    @property
    def ffn_in(self) -> str:
        return self.here(self.wiring.ffn_in)

    @property
    def final_stream(self) -> str:
        """The step the output projection reads."""
        return "ln_f" if self.wiring.final_norm else self.block_input(self.n_layer)


Inputs = Callable[[Place], list[str]]
# A check returns (expected values, extra differences, (description key, fields)).
Result = tuple[np.ndarray, list[float], tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class StepKind:
    """One kind of traced step, declared once."""

    kind: str  # "attn.scores": the name within a block (in_block) or the whole name
    in_block: bool
    title: tuple[str, str]  # (English, Chinese)
    formula: tuple[str, str]  # (English, Chinese); symbols read the same in both
    axes: tuple[str, ...]
    inputs: Inputs  # the trace steps it is computed from (weights not included)
    check: Callable[[Any], Result]  # float64 recomputation (engine.model.checks' context)
    words: dict[str, tuple[str, str]]  # the check's descriptions: key -> (English, Chinese)
    reshape: tuple[str, str] | None = None  # what a view/transpose/broadcast did; shape symbols
    weights: Callable[["ModelConfig", bool], str] | None = None  # (config, zh) -> matrices
    recompute: Callable[[Any], np.ndarray] | None = None  # from kept steps (engine.model.ondemand)
    guide: str = ""  # its section in the guide; "" means the kind itself
    stage: str | None = None  # an attention map the Attention panel shows ("scores" ...)
    compares_itself: bool = False  # the check's extra differences are the whole verdict
    chunked: bool = False  # vocabulary-sized: checked a slice of positions at a time
    # A model whose part differs from the one `title` and `formula` name (an RMSNorm, not a
    # LayerNorm): config -> (title, formula), each (English, Chinese); None: the same as above.
    variant: Callable[["ModelConfig"], tuple[tuple[str, str], tuple[str, str]] | None] | None \
        = None

    def title_for(self, cfg: "ModelConfig | None") -> tuple[str, str]:
        """The title (English, Chinese) of this kind in a model of `cfg` (None: the default)."""
        own = self.variant(cfg) if self.variant is not None and cfg is not None else None
        return own[0] if own else self.title

    def formula_for(self, cfg: "ModelConfig | None") -> tuple[str, str]:
        """The formula (English, Chinese) of this kind in a model of `cfg`."""
        own = self.variant(cfg) if self.variant is not None and cfg is not None else None
        return own[1] if own else self.formula

    @property
    def section(self) -> str:
        return self.guide or self.kind

    def name_in(self, layer: int | None) -> str:
        """The trace name of this kind in block `layer`."""
        return f"blocks.{layer}.{self.kind}" if self.in_block else self.kind
