"""A small decoder-only transformer, as the articles describe it.

Every intermediate passes through a `HookPoint` (an identity module), so `engine.model.trace` can read
it by module path (`blocks.0.attn.pattern`) without this file knowing that tracing exists.
Shapes use B = batch, T = context, C = d_model, nh = heads, hs = head_size, V = vocab.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator

import torch
import torch.nn as nn
import torch.nn.functional as F

from engine.config import MAX_CONTEXT, ModelConfig


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


def sinusoidal_table(n_pos: int, d_model: int) -> torch.Tensor:
    """PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(...), as in the paper."""
    pos = torch.arange(n_pos, dtype=torch.float64).unsqueeze(1)  # (n_pos, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)  # (d/2,)
    angle = pos / torch.pow(10000.0, two_i / d_model)  # (n_pos, d/2)
    pe = torch.zeros(n_pos, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])  # odd d_model: one fewer cosine column
    return pe.float()


def causal_mask(T: int) -> torch.Tensor:
    """1 where a query may look (key <= query), 0 above the diagonal: 1 - triu(ones, k=1)."""
    return 1 - torch.triu(torch.ones(T, T), diagonal=1)  # (T, T)


class Embedding(nn.Module):
    """Token lookup plus position: the input of the first block."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.wte = nn.Embedding(cfg.vocab_size, cfg.d_model)  # (V, C) token table
        if cfg.positional == "sinusoidal":
            # A buffer, not a parameter: the table is fixed, and is rebuilt rather than saved.
            table = sinusoidal_table(min(cfg.context_length, MAX_CONTEXT), cfg.d_model)
            self.register_buffer("pe", table, persistent=False)  # (T_max, C)
        else:
            self.wpe = nn.Embedding(cfg.context_length, cfg.d_model)  # (T_max, C) learned
        self.drop = nn.Dropout(cfg.dropout)
        self.token = HookPoint()
        self.position = HookPoint()
        self.sum = HookPoint()

    def position_table(self) -> torch.Tensor:
        """The full positional table, sinusoidal or learned."""
        return self.pe if hasattr(self, "pe") else self.wpe.weight  # (T_max, C)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        T = idx.shape[1]
        tok = self.token(self.wte(idx))  # (B, T, C)
        pos = self.position(self.position_table()[:T])  # (T, C), broadcast over the batch
        return self.drop(self.sum(tok + pos))  # (B, T, C)


class CausalSelfAttention(nn.Module):
    """Multi-head masked self-attention: softmax(QKᵀ/√hs + mask)·V, heads concatenated, ·Wo."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.n_head, self.head_size = cfg.n_head, cfg.head_size
        # Wq | Wk | Wv side by side in one matrix: one matmul instead of three (the training
        # step is overhead-bound at this size); the trace still shows Q, K and V separately.
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model, bias=cfg.bias)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model, bias=cfg.bias)  # Wo
        self.dropout = cfg.dropout
        self.attn_drop = nn.Dropout(cfg.dropout)
        self.resid_drop = nn.Dropout(cfg.dropout)
        mask = causal_mask(cfg.context_length).bool()
        self.register_buffer("mask", mask, persistent=False)  # (T_max, T_max)
        for name in ("q", "k", "v", "scores", "scaled", "masked", "pattern", "weighted",
                     "concat", "out"):
            setattr(self, name, HookPoint())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        nh, hs = self.n_head, self.head_size
        q, k, v = self.qkv(x).split(C, dim=2)  # 3 x (B, T, C)
        q = self.q(q.view(B, T, nh, hs).transpose(1, 2))  # (B, nh, T, hs)
        k = self.k(k.view(B, T, nh, hs).transpose(1, 2))  # (B, nh, T, hs)
        v = self.v(v.view(B, T, nh, hs).transpose(1, 2))  # (B, nh, T, hs)
        # Probed (engine.model.trace): every step by hand, so each can be seen. Otherwise the fused
        # scaled_dot_product_attention kernel computes the same result.
        if _probe.get() is not None:
            scores = self.scores(q @ k.transpose(-2, -1))  # (B, nh, T, T)
            scaled = self.scaled(scores / math.sqrt(hs))  # (B, nh, T, T)
            blocked = ~self.mask[:T, :T]
            masked = self.masked(scaled.masked_fill(blocked, float("-inf")))  # (B, nh, T, T)
            pattern = self.pattern(F.softmax(masked, dim=-1))  # (B, nh, T, T), rows sum to 1
            y = self.weighted(self.attn_drop(pattern) @ v)  # (B, nh, T, hs)
        else:
            p = self.dropout if self.training else 0.0
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        y = self.concat(y.transpose(1, 2).reshape(B, T, C))  # (B, T, C) heads side by side
        return self.out(self.resid_drop(self.proj(y)))  # (B, T, C)


def _activation(name: str) -> nn.Module:
    """The FFN non-linearity of ModelConfig.activation."""
    if name == "gelu_tanh":  # GPT-2's: 0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))
        return nn.GELU(approximate="tanh")
    return nn.GELU() if name == "gelu" else nn.ReLU()


def layer_norm(cfg: ModelConfig) -> nn.LayerNorm:
    """A LayerNorm over C with the config's epsilon, and β only when the model has biases."""
    return nn.LayerNorm(cfg.d_model, eps=cfg.ln_eps, bias=cfg.bias)


class FeedForward(nn.Module):
    """Position-wise two-layer network: act(x·W1 + b1)·W2 + b2."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.fc1 = nn.Linear(cfg.d_model, cfg.d_ff, bias=cfg.bias)  # W1: C -> d_ff
        self.fc2 = nn.Linear(cfg.d_ff, cfg.d_model, bias=cfg.bias)  # W2: d_ff -> C
        self.act_fn = _activation(cfg.activation)
        self.drop = nn.Dropout(cfg.dropout)
        self.hidden = HookPoint()
        self.act = HookPoint()
        self.out = HookPoint()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.hidden(self.fc1(x))  # (B, T, d_ff)
        a = self.act(self.act_fn(h))  # (B, T, d_ff)
        return self.out(self.drop(self.fc2(a)))  # (B, T, C)


class Block(nn.Module):
    """Attention then feed-forward, each with a residual connection and a LayerNorm."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.pre_norm = cfg.norm == "pre"
        self.attn = CausalSelfAttention(cfg)
        self.ffn = FeedForward(cfg)
        self.norm1 = layer_norm(cfg)
        self.norm2 = layer_norm(cfg)
        self.resid1 = HookPoint()
        self.ln1 = HookPoint()
        self.resid2 = HookPoint()
        self.ln2 = HookPoint()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pre_norm:  # GPT-2: x + f(LN(x)); the residual stream itself is never normed
            x = self.resid1(x + self.attn(self.ln1(self.norm1(x))))  # (B, T, C)
            return self.resid2(x + self.ffn(self.ln2(self.norm2(x))))  # (B, T, C)
        # The paper and the articles: LN(x + f(x))
        x = self.ln1(self.norm1(self.resid1(x + self.attn(x))))  # (B, T, C)
        return self.ln2(self.norm2(self.resid2(x + self.ffn(x))))  # (B, T, C)


class GPT(nn.Module):
    """Embedding, n_layer blocks, (final LayerNorm for pre-norm), projection to the vocabulary."""

    def __init__(self, cfg: ModelConfig, init_weights: bool = True):
        """`init_weights=False` skips GPT-2's initialisation, for weights about to be loaded
        (seconds for a GPT-2-sized model)."""
        super().__init__()
        self.config = cfg.validate()
        self.embed = Embedding(cfg)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        # Post-norm blocks already end in a LayerNorm; pre-norm needs one before the head.
        self.norm_f = layer_norm(cfg) if cfg.norm == "pre" else None
        self.ln_f = HookPoint()
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)  # (C -> V)
        self.logits = HookPoint()
        if cfg.tied:
            self.lm_head.weight = self.embed.wte.weight
        if init_weights:
            self.apply(self._init_weights)
            # GPT-2's scaling: residual projections shrink with depth so the stream stays stable.
            for name, p in self.named_parameters():
                if name.endswith(("attn.proj.weight", "ffn.fc2.weight")):
                    nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))
        for name, m in self.named_modules():  # names never typed by hand, so they cannot drift
            if isinstance(m, HookPoint):
                m.name = name

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
        for block in self.blocks:
            x = block(x)  # (B, T, C)
        if self.norm_f is not None:
            x = self.ln_f(self.norm_f(x))  # (B, T, C)
        logits = self.logits(self.lm_head(x))  # (B, T, V)
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
