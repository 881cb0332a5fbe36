"""A small decoder-only transformer, as the articles describe it, assembled from components
chosen once from the config (engine.model.components: position scheme, attention,
feed-forward, norm, the block's wiring).

Every intermediate passes through a `HookPoint` (engine.model.hooks), so `engine.model.trace`
can read it by module path (`blocks.0.attn.pattern`) without this file knowing that tracing
exists. Shapes use B = batch, T = context, C = d_model, nh = heads, hs = head_size, V = vocab.
Views read the model through its small surface (token_table, position_table, final_norm,
unembed), never through module paths.
"""
from __future__ import annotations

import contextlib
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from engine.config import ModelConfig
from engine.model.components.attention import CausalSelfAttention, causal_mask
from engine.model.components.feedforward import FeedForward
from engine.model.components.layers import Linear, uninitialised
from engine.model.components.norms import make_norm, norm_class
from engine.model.components.positions import Embedding, sinusoidal_table
from engine.model.components.rotary import Rotary
from engine.model.components.wiring import BLOCKS, Block, make_block
from engine.model.components.wiring_steps import wiring_of
from engine.model.hooks import HookPoint, eval_mode, name_hook_points, probing

__all__ = ["GPT", "Block", "CausalSelfAttention", "Embedding", "FeedForward", "HookPoint",
           "causal_mask", "eval_mode", "new_model", "param_count", "probing", "sinusoidal_table"]


def param_count(cfg: ModelConfig) -> int:
    """Parameters of GPT(cfg), counted by each component from the config (a tied matrix once).

    Arithmetic, not a model on the meta device: the window asks this on its GUI thread (the
    form's suggestions), and the meta device's first use imports torch._dynamo (~1 s stall).
    """
    block = BLOCKS[cfg.norm]
    total = Embedding.n_params(cfg) + cfg.n_layer * block.n_params(cfg)
    if wiring_of(cfg).final_norm:
        total += norm_class(cfg).n_params(cfg)
    if not cfg.tied:
        total += cfg.d_model * cfg.vocab_size  # lm_head; tied, it is the token table
    if cfg.head_bias:
        total += cfg.vocab_size  # b_vocab (Phi), never tied
    return total


class GPT(nn.Module):
    """Embedding, n_layer blocks, (a final norm where the wiring needs one), projection to the
    vocabulary."""

    def __init__(self, cfg: ModelConfig, init_weights: bool = True):
        """`init_weights=False`: the weights are about to be loaded, so they are only
        allocated, never filled (not even by torch's own defaults: tens of seconds for a
        0.5B model on two cores; components.layers)."""
        super().__init__()
        self.config = cfg.validate()
        with contextlib.nullcontext() if init_weights else uninitialised():
            self._build(cfg)
        if init_weights:
            self.apply(self._init_weights)
            # GPT-2's scaling: residual projections shrink with depth so the stream stays stable.
            for name, p in self.named_parameters():
                if name.endswith(("attn.proj.weight", "ffn.fc2.weight", "ffn.down.weight")):
                    nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))
        name_hook_points(self)

    def _build(self, cfg: ModelConfig) -> None:
        self.embed = Embedding(cfg)
        self.blocks = nn.ModuleList(make_block(cfg, i) for i in range(cfg.n_layer))
        self.rope = Rotary(cfg) if cfg.positional == "rotary" else None
        # Gemma 3: the sliding blocks turn q and k with their own base.
        local = cfg.positional == "rotary" and any(cfg.local_rope(i) for i in range(cfg.n_layer))
        self.rope_local = Rotary(cfg, local=True) if local else None
        # Post-norm blocks already end in a norm; pre-norm needs one before the head.
        self.norm_f = make_norm(cfg) if wiring_of(cfg).final_norm else None
        self.ln_f = HookPoint()
        self.lm_head = Linear(cfg.d_model, cfg.vocab_size, bias=cfg.head_bias)  # (C -> V)
        self.logits = HookPoint()
        self.softcap = cfg.final_softcap  # Gemma 2: logits become c·tanh(logits / c)
        self.logits_capped = HookPoint()
        self.tie()

    def tie(self) -> None:
        """A tied model's output projection is its token table (one tensor, not a copy)."""
        if self.config.tied:
            self.lm_head.weight = self.embed.wte.weight

    def rotations(self, T: int) -> list[tuple[torch.Tensor, torch.Tensor] | None]:
        """Per block, the (cos, sin) tables, each (T, d), it turns q and k with (None without
        rotary positions): Gemma 3's sliding blocks have their own base."""
        rope = None if self.rope is None else self.rope(T)
        local = None if self.rope_local is None else self.rope_local(T)
        return [local if self.config.local_rope(i) else rope
                for i in range(self.config.n_layer)]

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_params(self) -> int:
        """Trainable parameters, counting a tied matrix once."""
        return sum(p.numel() for p in self.parameters())

    # -- the surface views read -----------------------------------------------------------
    def token_table(self) -> torch.Tensor:
        """The token table E (V, C): row i is token i's vector."""
        return self.embed.wte.weight

    def position_table(self, n: int | None = None) -> torch.Tensor | None:
        """The positional table (T_max, C), or None for a scheme without one; with `n`, its
        first n rows, a formula's table continued past T_max by its formula (a learned one
        ends where it ends)."""
        return self.embed.position_table(n)

    def unembedding(self) -> torch.Tensor:
        """The output projection's weights W_vocab (V, C) (the token table when tied)."""
        return self.lm_head.weight

    def unembedding_bias(self) -> torch.Tensor | None:
        """The output projection's bias b_vocab (V,), or None (every family but Phi)."""
        return self.lm_head.bias

    def final_norm(self, x: torch.Tensor) -> torch.Tensor:
        """The norm between the last block and the output projection (identity where the
        wiring has none: a post-norm block already ends in one)."""
        return x if self.norm_f is None else self.norm_f(x)  # (..., C)

    def unembed(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (..., V) of residual-stream vectors (..., C) that have been through the
        final norm, capped as the forward caps them (Gemma 2's final soft-cap)."""
        logits = self.lm_head(x)  # (..., V)
        if self.softcap is not None:
            logits = torch.tanh(logits / self.softcap) * self.softcap  # (..., V)
        return logits

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """idx (B, T) compact ids -> logits (B, T, V), and mean cross-entropy if targets given."""
        T = idx.shape[1]
        if T > self.config.context_length:
            raise ValueError(
                f"sequence of {T} tokens is longer than context_length "
                f"{self.config.context_length}"
            )
        x = self.embed(idx)  # (B, T, C)
        for block, turn in zip(self.blocks, self.rotations(T)):
            x = block(x, turn)  # (B, T, C)
        if self.norm_f is not None:
            x = self.ln_f(self.norm_f(x))  # (B, T, C)
        logits = self.logits(self.lm_head(x))  # (B, T, V)
        if self.softcap is not None:
            logits = self.logits_capped(torch.tanh(logits / self.softcap) * self.softcap)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss


def new_model(config: ModelConfig, seed: int) -> GPT:
    """A freshly initialised model: the same seed gives the same weights, and the caller's
    global RNG stream is left as it was (the one home of seeded model creation)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return GPT(config)
