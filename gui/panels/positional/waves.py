"""What the Positional panel computes, with no widgets: the columns of the positional table
drawn as waves (continued past the context length by the engine's formula for a sinusoidal
model), and which kind of wave each dimension is."""
from __future__ import annotations

import numpy as np

import torch

from engine.model.decoder import GPT

DEFAULT_DIMS = (0, 1, 2, 3, 8, 9)  # the dimensions drawn for a new model


def is_learned(model: GPT | None) -> bool:
    """The model's positional table is trained parameters (not the sinusoidal formula)."""
    return model is not None and isinstance(model.position_table(), torch.nn.Parameter)


def wave_table(model: GPT, n: int) -> np.ndarray:
    """The first `n` rows of the model's positional table (n, C). A learned table ends at the
    context length; the sinusoidal formula goes on for ever, so it is continued past it."""
    return model.position_table(n).detach().cpu().numpy()  # (n or T_max, C)


def dim_kind(j: int) -> tuple[str, int]:
    """Dimension j of a sinusoidal table: ('sin' or 'cos', i) of PE(pos, 2i) / PE(pos, 2i+1)."""
    return ("sin" if j % 2 == 0 else "cos"), j // 2

