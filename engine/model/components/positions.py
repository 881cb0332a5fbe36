"""Position schemes and the embedding that adds them: the input of the first block.

A scheme that is a table (the paper's sinusoids, GPT-2's learned rows) is added to the token
vectors here; a scheme without a table (rotary, in attention, or none) would return None from
`table()`, and the embedding is then the token vectors alone.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from engine.config import MAX_CONTEXT, ModelConfig
from engine.model.components import layers
from engine.model.hooks import HookPoint


def sinusoidal_table(n_pos: int, d_model: int) -> torch.Tensor:
    """PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(...), as in the paper."""
    pos = torch.arange(n_pos, dtype=torch.float64).unsqueeze(1)  # (n_pos, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)  # (d/2,)
    angle = pos / torch.pow(10000.0, two_i / d_model)  # (n_pos, d/2)
    pe = torch.zeros(n_pos, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])  # odd d_model: one fewer cosine column
    return pe.float()


class SinusoidalPositions(nn.Module):
    """The paper's fixed table: a buffer, not a parameter, rebuilt rather than saved."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        table = sinusoidal_table(min(cfg.context_length, MAX_CONTEXT), cfg.d_model)
        self.register_buffer("pe", table, persistent=False)  # (T_max, C)

    def table(self, n: int | None = None) -> torch.Tensor:
        """The table (T_max, C); with `n`, n rows, the formula continued past T_max."""
        if n is not None and n > self.pe.shape[0]:
            return sinusoidal_table(n, self.pe.shape[1])  # (n, C): same formula, longer
        return self.pe if n is None else self.pe[:n]  # (T_max or n, C)

    @staticmethod
    def n_params(cfg: ModelConfig) -> int:
        return 0


class LearnedPositions(layers.Embedding):
    """GPT-2's learned table, one row per position (saved as embed.wpe.weight)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg.context_length, cfg.d_model)  # (T_max, C)

    def table(self, n: int | None = None) -> torch.Tensor:
        """The table (T_max, C); with `n`, its first n rows (it ends at T_max)."""
        return self.weight if n is None else self.weight[:n]  # (T_max or n, C)

    @staticmethod
    def n_params(cfg: ModelConfig) -> int:
        return cfg.context_length * cfg.d_model


class NoTable(nn.Module):
    """Rotary positions: nothing is added to the tokens (attention turns q and k instead)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()

    def table(self, n: int | None = None) -> None:
        return None

    @staticmethod
    def n_params(cfg: ModelConfig) -> int:
        return 0


POSITIONS: dict[str, type[nn.Module]] = {
    "sinusoidal": SinusoidalPositions, "learned": LearnedPositions, "rotary": NoTable}


class Embedding(nn.Module):
    """Token lookup plus position: the input of the first block."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.wte = layers.Embedding(cfg.vocab_size, cfg.d_model)  # (V, C) token table
        # The position scheme, chosen once; named wpe so a learned table keeps GPT-2's name.
        self.wpe = POSITIONS[cfg.positional](cfg)
        self.drop = nn.Dropout(cfg.dropout)
        self.token = HookPoint()
        self.scale = cfg.embed_scale  # Gemma: √d_model, so the tokens are not drowned
        self.scaled = HookPoint()
        self.position = HookPoint()
        self.sum = HookPoint()

    @staticmethod
    def n_params(cfg: ModelConfig) -> int:
        return cfg.vocab_size * cfg.d_model + POSITIONS[cfg.positional].n_params(cfg)

    def position_table(self, n: int | None = None) -> torch.Tensor | None:
        """The full positional table (or its first n rows), or None for a scheme without one."""
        return self.wpe.table(n)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        T = idx.shape[1]
        tok = self.token(self.wte(idx))  # (B, T, C)
        if self.scale != 1.0:  # the factor rounded to the table's dtype, as transformers does
            tok = self.scaled(tok * torch.tensor(self.scale, dtype=tok.dtype))  # (B, T, C)
        if isinstance(self.wpe, NoTable):
            return self.drop(tok)  # (B, T, C): positions enter in attention
        pos = self.position(self.position_table()[:T])  # (T, C), broadcast over the batch
        return self.drop(self.sum(tok + pos))  # (B, T, C)
