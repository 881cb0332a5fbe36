"""Blocks: attention and feed-forward joined to the residual stream by a wiring, chosen once
from the config (ModelConfig.norm). Which step feeds which is declared, torch-free, in
engine.model.components.wiring_steps; each block class here runs one wiring."""
from __future__ import annotations

import torch
import torch.nn as nn

from engine.config import ModelConfig
from engine.model.components.attention import CausalSelfAttention
from engine.model.components.feedforward import feedforward_class, make_feedforward
from engine.model.components.norms import make_norm, norm_class
from engine.model.hooks import HookPoint


class Block(nn.Module):
    """Attention then feed-forward, each with a residual connection and a norm."""

    def __init__(self, cfg: ModelConfig, layer: int = 0):
        super().__init__()
        self.two_norms = self.n_norms(cfg) > 1  # False: one norm feeds both parts (Phi)
        self.attn = CausalSelfAttention(cfg, layer)
        self.ffn = make_feedforward(cfg)
        self.norm1 = make_norm(cfg)
        if self.two_norms:
            self.norm2 = make_norm(cfg)
        for name in self.HOOKS:  # a shared norm emits no ln2
            if name != "ln2" or self.two_norms:
                setattr(self, name, HookPoint())

    HOOKS: tuple[str, ...] = ("resid1", "ln1", "resid2", "ln2")  # the steps the wiring emits

    @staticmethod
    def n_norms(cfg: ModelConfig) -> int:
        """Norms before the parts: one for attention, one for the feed-forward network."""
        return 2

    @staticmethod
    def n_params(cfg: ModelConfig) -> int:
        return (CausalSelfAttention.n_params(cfg) + feedforward_class(cfg).n_params(cfg)
                + BLOCKS[cfg.norm].n_norms(cfg) * norm_class(cfg).n_params(cfg))


class PostNormBlock(Block):
    """The paper and the articles: LN(x + f(x))."""

    def forward(self, x: torch.Tensor, rope: tuple | None = None) -> torch.Tensor:
        x = self.ln1(self.norm1(self.resid1(x + self.attn(x, rope))))  # (B, T, C)
        return self.ln2(self.norm2(self.resid2(x + self.ffn(x))))  # (B, T, C)


class PreNormBlock(Block):
    """GPT-2: x + f(LN(x)); the residual stream itself is never normed."""

    def forward(self, x: torch.Tensor, rope: tuple | None = None) -> torch.Tensor:
        """`rope`: the model's (cos, sin) when positions are rotary."""
        x = self.resid1(x + self.attn(self.ln1(self.norm1(x)), rope))  # (B, T, C)
        return self.resid2(x + self.ffn(self.ln2(self.norm2(x))))  # (B, T, C)


class SandwichBlock(Block):
    """Gemma 2/3: x + LN'(f(LN(x))): each part's output is normed again before it is added."""

    def __init__(self, cfg: ModelConfig, layer: int = 0):
        super().__init__(cfg, layer)
        self.norm_pa = make_norm(cfg)  # after attention
        self.norm_pf = make_norm(cfg)  # after the feed-forward network
        self.ln_pa = HookPoint()
        self.ln_pf = HookPoint()

    @staticmethod
    def n_params(cfg: ModelConfig) -> int:
        return Block.n_params(cfg) + 2 * norm_class(cfg).n_params(cfg)

    def forward(self, x: torch.Tensor, rope: tuple | None = None) -> torch.Tensor:
        a = self.ln_pa(self.norm_pa(self.attn(self.ln1(self.norm1(x)), rope)))  # (B, T, C)
        x = self.resid1(x + a)  # (B, T, C)
        f = self.ln_pf(self.norm_pf(self.ffn(self.ln2(self.norm2(x)))))  # (B, T, C)
        return self.resid2(x + f)  # (B, T, C)


class ParallelBlock(Block):
    """GPT-NeoX and Phi: x + Attention(LN₁(x)) + FFN(LN₂(x)). Both parts read the block's
    input, side by side, and their outputs join the stream in one sum; Phi feeds both from one
    shared norm (ModelConfig.shared_norm), so its blocks have no LN₂."""

    HOOKS = ("ln1", "ln2", "resid_parallel")

    @staticmethod
    def n_norms(cfg: ModelConfig) -> int:
        return 1 if cfg.shared_norm else 2

    def forward(self, x: torch.Tensor, rope: tuple | None = None) -> torch.Tensor:
        h = self.ln1(self.norm1(x))  # (B, T, C)
        a = self.attn(h, rope)  # (B, T, C)
        h2 = self.ln2(self.norm2(x)) if self.two_norms else h  # (B, T, C)
        f = self.ffn(h2)  # (B, T, C): computed from x, not from x + a
        return self.resid_parallel(x + a + f)  # (B, T, C)


# ModelConfig.norm -> the block that runs that wiring (wiring_steps.WIRINGS names each).
BLOCKS: dict[str, type[Block]] = {"post": PostNormBlock, "pre": PreNormBlock,
                                  "sandwich": SandwichBlock, "parallel": ParallelBlock}


def make_block(cfg: ModelConfig, layer: int = 0) -> Block:
    """Block `layer`, wired as the config says."""
    return BLOCKS[cfg.norm](cfg, layer)
