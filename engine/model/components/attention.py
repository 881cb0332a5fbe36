"""Causal self-attention, with as many key/value heads as query heads or fewer (grouped).

Shapes: B = batch, T = context, C = d_model, nh = query heads, nkv = key/value heads,
hs = head_size, g = nh // nkv query heads per key/value head.
"""
from __future__ import annotations


import torch
import torch.nn as nn
import torch.nn.functional as F

from engine.config import ModelConfig
from engine.model.components.norms import RMSNorm
from engine.model.components.rotary import rotate
from engine.model.hooks import HookPoint, probed


def causal_mask(T: int) -> torch.Tensor:
    """1 where a query may look (key <= query), 0 above the diagonal: 1 - triu(ones, k=1)."""
    return 1 - torch.triu(torch.ones(T, T), diagonal=1)  # (T, T)


def repeat_kv(x: torch.Tensor, groups: int) -> torch.Tensor:
    """(B, nkv, T, hs) -> (B, nkv·groups, T, hs): each key/value head once per query head it
    serves (head j serves query heads j·g ... j·g + g − 1)."""
    return x if groups == 1 else x.repeat_interleave(groups, dim=1)


class CausalSelfAttention(nn.Module):
    """Multi-head masked self-attention: softmax(QKᵀ/√hs + mask)·V, heads concatenated, ·Wo."""

    HOOKS = ("q", "k", "v", "scores", "scaled", "masked", "pattern", "weighted", "concat", "out")
    # Today's families: each head's q and k normed (QK-norm), then turned (rotary).
    FAMILY_HOOKS = ("q_normed", "k_normed", "q_rot", "k_rot", "capped")

    def __init__(self, cfg: ModelConfig, layer: int = 0):
        super().__init__()
        self.n_head, self.n_kv_head, self.head_size = cfg.n_head, cfg.kv_heads, cfg.head_size
        self.groups = cfg.n_head // cfg.kv_heads
        nh, nkv, hs = self.n_head, self.n_kv_head, self.head_size
        # Wq | Wk | Wv side by side in one matrix: one matmul instead of three (the training
        # step is overhead-bound at this size); the trace still shows Q, K and V separately.
        self.qkv = nn.Linear(cfg.d_model, (nh + 2 * nkv) * hs, bias=cfg.attention_bias)
        self.proj = nn.Linear(nh * hs, cfg.d_model, bias=cfg.bias)  # Wo
        self.dropout = cfg.dropout
        self.attn_drop = nn.Dropout(cfg.dropout)
        self.resid_drop = nn.Dropout(cfg.dropout)
        self.scale, self.softcap = cfg.score_scale, cfg.attn_softcap
        self.window = cfg.window_of(layer)  # a sliding window (Mistral, Gemma 2/3) or None
        mask = causal_mask(cfg.context_length).bool()
        if self.window is not None:  # key j visible from query i only when i − j < window
            i = torch.arange(cfg.context_length)
            mask &= (i[:, None] - i[None, :]) < self.window
        self.register_buffer("mask", mask, persistent=False)  # (T_max, T_max)
        self.qnorm = RMSNorm(cfg, hs) if cfg.qk_norm else None  # over each head's hs dims
        self.knorm = RMSNorm(cfg, hs) if cfg.qk_norm else None
        for name in self.HOOKS + self.FAMILY_HOOKS:
            setattr(self, name, HookPoint())

    @staticmethod
    def n_params(cfg: ModelConfig) -> int:
        C, width = cfg.d_model, (cfg.n_head + 2 * cfg.kv_heads) * cfg.head_size
        inner = cfg.n_head * cfg.head_size
        biases = (width if cfg.attention_bias else 0) + (C if cfg.bias else 0)
        norms = 2 * cfg.head_size if cfg.qk_norm else 0
        return C * width + inner * C + biases + norms

    def forward(self, x: torch.Tensor,
                rope: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """`rope`: (cos, sin), each (T, d), when positions are rotary."""
        B, T, C = x.shape
        nh, nkv, hs = self.n_head, self.n_kv_head, self.head_size
        q, k, v = self.qkv(x).split((nh * hs, nkv * hs, nkv * hs), dim=2)  # (B, T, nh·hs), ...
        q = self.q(q.view(B, T, nh, hs).transpose(1, 2))  # (B, nh, T, hs)
        k = self.k(k.view(B, T, nkv, hs).transpose(1, 2))  # (B, nkv, T, hs)
        v = self.v(v.view(B, T, nkv, hs).transpose(1, 2))  # (B, nkv, T, hs)
        if self.qnorm is not None:  # QK-norm: each head's vector normed over its hs dims
            q = self.q_normed(self.qnorm(q))  # (B, nh, T, hs)
            k = self.k_normed(self.knorm(k))  # (B, nkv, T, hs)
        if rope is not None:  # turned by position: q·k then depends on the distance
            q = self.q_rot(rotate(q, *rope))  # (B, nh, T, hs)
            k = self.k_rot(rotate(k, *rope))  # (B, nkv, T, hs)
        # Probed (engine.model.trace): every step by hand, so each can be seen. Otherwise the
        # fused scaled_dot_product_attention kernel computes the same result.
        if probed() or self.softcap is not None:  # (no fused kernel soft-caps the scores)
            k_all = repeat_kv(k, self.groups)  # (B, nh, T, hs)
            scores = self.scores(q @ k_all.transpose(-2, -1))  # (B, nh, T, T)
            scaled = self.scaled(scores * self.scale)  # (B, nh, T, T), × 1/√hs by default
            if self.softcap is not None:  # c·tanh(s / c): no score beyond ±c
                scaled = self.capped(torch.tanh(scaled / self.softcap) * self.softcap)
            # Tk = T, unless a probe put earlier positions' keys first (engine.model.resume
            # runs only the later positions): the queries are then the last T of Tk.
            Tk = k_all.shape[-2]
            blocked = ~self.mask[Tk - T:Tk, :Tk]  # (T, Tk)
            masked = self.masked(scaled.masked_fill(blocked, float("-inf")))  # (B, nh, T, T)
            pattern = self.pattern(F.softmax(masked, dim=-1))  # (B, nh, T, T), rows sum to 1
            v_all = repeat_kv(v, self.groups)  # (B, nh, T, hs)
            y = self.weighted(self.attn_drop(pattern) @ v_all)  # (B, nh, T, hs)
        else:
            p = self.dropout if self.training else 0.0
            window = None if self.window is None else self.mask[:T, :T]  # (T, T) allowed
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=window, dropout_p=p,
                                               is_causal=window is None, scale=self.scale,
                                               enable_gqa=self.groups > 1)  # (B, nh, T, hs)
        y = self.concat(y.transpose(1, 2).reshape(B, T, nh * hs))  # (B, T, C) heads side by side
        return self.out(self.resid_drop(self.proj(y)))  # (B, T, C)
