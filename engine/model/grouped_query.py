"""Grouped-query attention from the config alone (no weights): which K/V head each query head
reads, and what the K/V cache costs per token of context, the figure that GQA exists to cut."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.config import ModelConfig


def kv_head_of(cfg: "ModelConfig", head: int) -> int:
    """The key/value head that query head `head` reads (consecutive heads share one)."""
    return head // (cfg.n_head // cfg.kv_heads)


def kv_groups(cfg: "ModelConfig") -> list[int]:
    """For each query head, its K/V head: [0, 0, 0, 1, 1, 1, 2, 2, 2] for 9 heads over 3."""
    return [kv_head_of(cfg, h) for h in range(cfg.n_head)]


def kv_cache_bytes_per_token(cfg: "ModelConfig", bytes_per_value: int = 2) -> int:
    """Bytes a generator keeps for each token of context: a key and a value vector of
    head_size numbers per K/V head per block (2 bytes each in float16/bfloat16)."""
    return 2 * cfg.n_layer * cfg.kv_heads * cfg.head_size * bytes_per_value


def kv_cache_saving(cfg: "ModelConfig") -> int:
    """How many times smaller the cache is than with one K/V head per query head."""
    return cfg.n_head // cfg.kv_heads
