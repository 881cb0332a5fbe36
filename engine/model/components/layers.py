"""torch's Linear and Embedding, whose own initialisation can be skipped for weights that are
about to be loaded: filling 0.5B parameters with random numbers only to overwrite them took
longer than reading them (tens of seconds on two cores).

Inside `uninitialised()` these layers are allocated but not filled: their memory holds whatever
it held, so the block must end with every weight loaded (GPT(init_weights=False)'s callers
check that). Outside it they are exactly torch's.
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager
from typing import Iterator

import torch.nn as nn

_skip_init = contextvars.ContextVar("skip_init", default=False)


@contextmanager
def uninitialised() -> Iterator[None]:
    """Layers made within are allocated, not filled."""
    token = _skip_init.set(True)
    try:
        yield
    finally:
        _skip_init.reset(token)


class Linear(nn.Linear):
    """nn.Linear (y = x·Wᵀ + b); not filled inside `uninitialised()`."""

    def reset_parameters(self) -> None:
        if not _skip_init.get():
            super().reset_parameters()


class Embedding(nn.Embedding):
    """nn.Embedding (a lookup table); not filled inside `uninitialised()`."""

    def reset_parameters(self) -> None:
        if not _skip_init.get():
            super().reset_parameters()
