"""The step registry: every kind of traced step, declared once beside the component that emits
it (engine.model.components.*_steps), collected here. The trace stamps its steps from it, the
checks run its float64 checks, on-demand recompute and the attention stages read it, and the
walkthrough's words come from it. Torch-free.

Adding a step kind: declare its StepKind in the component's *_steps module (and its guide
section); nothing else lists kinds.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from engine.model.components import (attention_steps, feedforward_steps, norm_steps,
                                     output_steps, positions_steps, rotary_steps, wiring_steps)
from engine.model.components.positions_steps import embedding_output
from engine.model.components.wiring_steps import wiring_of
from engine.model.stepkind import Place, StepKind, Wiring, step_kind, step_layer

if TYPE_CHECKING:
    from engine.config import ModelConfig

__all__ = ["KINDS", "STAGES", "Place", "StepKind", "Wiring", "block_input", "final_stream",
           "kind_of", "place_of", "step_inputs", "step_kind", "step_layer", "wiring_of"]

_MODULES = (positions_steps, rotary_steps, attention_steps, wiring_steps, norm_steps,
            feedforward_steps, output_steps)


def _collect() -> dict[str, StepKind]:
    kinds: dict[str, StepKind] = {}
    for module in _MODULES:
        for k in module.KINDS:
            if k.kind in kinds:
                raise ValueError(f"step kind {k.kind!r} declared twice")
            kinds[k.kind] = k
    return kinds


KINDS: dict[str, StepKind] = _collect()
# The attention maps the Attention panel shows and the trace previews, in forward order.
STAGES: tuple[str, ...] = tuple(k.stage for k in KINDS.values() if k.stage)


def kind_of(name: str) -> StepKind:
    """The declaration of trace step `name` (KeyError for a step no component emits)."""
    return KINDS[step_kind(name)]


def place_of(cfg: "ModelConfig", name: str | None = None, layer: int | None = None) -> Place:
    """Where step `name` (or block `layer`) sits in a model of `cfg`."""
    if name is not None:
        layer = step_layer(name)
    return Place(layer=layer, n_layer=cfg.n_layer, wiring=wiring_of(cfg),
                 embed_out=embedding_output(cfg), cfg=cfg)


def step_inputs(cfg: "ModelConfig", name: str) -> list[str]:
    """Names of the trace steps that `name` is computed from (weights not included)."""
    return kind_of(name).inputs(place_of(cfg, name))


def block_input(cfg: "ModelConfig", layer: int) -> str:
    """The step holding the residual stream that enters block `layer` (n_layer: the output of
    the last block)."""
    return place_of(cfg).block_input(layer)


def final_stream(cfg: "ModelConfig") -> str:
    """The step that the output projection reads."""
    return place_of(cfg).final_stream
