"""Hook points: named places in the forward where a probe may read or replace a tensor.

Every intermediate of the model passes through a `HookPoint` (an identity module), so
`engine.model.trace` can read it by module path (`blocks.0.attn.pattern`) without the model
knowing that tracing exists, as TransformerLens names its hooks.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator

import torch
import torch.nn as nn

# The probe of the forward running in this thread (engine.model.trace sets it): called at every
# HookPoint with (module path, tensor), returns the tensor to pass on. A context variable, not
# state on the modules, so a trace never changes the model it reads: a forward of the same
# model on another thread (a sample, the next trace) still takes the fused path, unprobed.
Probe = Callable[[str, torch.Tensor], torch.Tensor]
_probe: ContextVar[Probe | None] = ContextVar("probe", default=None)


@contextmanager
def probing(probe: Probe) -> Iterator[None]:
    """Within the block, forwards on this thread call `probe` at every HookPoint and run
    attention step by step, so that scores, mask and pattern exist."""
    token = _probe.set(probe)
    try:
        yield
    finally:
        _probe.reset(token)


def probed() -> bool:
    """Whether a probe is active on this thread (components then compute step by step)."""
    return _probe.get() is not None


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Eval mode within the block. A model already in eval mode (every model the app shows,
    read from several threads at once) is not touched at all."""
    if not model.training:
        yield
        return
    model.eval()
    try:
        yield
    finally:
        model.train()


class HookPoint(nn.Module):
    """Identity; a named place where the active probe can read or replace a tensor."""

    name = ""  # module path, e.g. "blocks.0.attn.pattern"; set by GPT from named_modules()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        probe = _probe.get()
        return x if probe is None else probe(self.name, x)


def name_hook_points(model: nn.Module) -> None:
    """Give every HookPoint its module path: names never typed by hand cannot drift."""
    for name, m in model.named_modules():
        if isinstance(m, HookPoint):
            m.name = name
