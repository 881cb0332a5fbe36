"""What the Positional panel shows of a rotary model, computed from the model's own numbers in
float64 (no widgets): the angle waves cos(m·θᵢ), sin(m·θᵢ); one head's q and k pairs before and
after they are turned; and the relative-position property, that turning the same q and k to
positions (m, n) or (m + s, n + s) gives the same score.

Pairs follow Hugging Face's layout (engine.model.rotary_maths): pair i is dims (i, i + d/2).
Shapes: T = context, d = rotated dims of a head, hs = head_size.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.model.grouped_query import kv_head_of
from engine.model.rotary_maths import base_of, frequencies, rotate

if TYPE_CHECKING:
    from engine.config import ModelConfig
    from engine.model.trace import Trace

SHIFTS = (0, 1, 10, 100, 1000)  # how far both positions move in the relative table
OFFSETS = (0, 1, 2, 4, 8)  # m − n, the distance between query and key


@dataclass(frozen=True)
class RotaryTable:
    """One angle table a model turns q and k with, and the blocks that use it. Gemma 3 has
    two: the global one (rope_theta, with its scaling) for its full-attention blocks and the
    local one (its own base, never scaled) for its sliding-window blocks."""
    local: bool
    base: float
    scaling: str | None  # the scaling's kind ("linear", "llama3" ...), None when unscaled
    factor: float | None  # the scaling's factor, where it has one
    blocks: tuple[int, ...]  # the blocks that turn with this table

    def blocks_text(self) -> str:
        """The blocks as ranges, "0–4, 6–10, 12"."""
        return block_ranges(self.blocks)


def block_ranges(blocks: tuple[int, ...] | list[int]) -> str:
    """Ascending block numbers written as ranges: (0, 1, 2, 4) → "0–2, 4"."""
    runs: list[list[int]] = []
    for b in sorted(blocks):
        if runs and b == runs[-1][1] + 1:
            runs[-1][1] = b
        else:
            runs.append([b, b])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in runs)


def rotary_tables(cfg: "ModelConfig") -> list[RotaryTable]:
    """The angle tables of the model, global first, each with the blocks that use it (a table
    no block uses is left out; a model with one table gives one)."""
    tables = []
    for local in (False, True):
        blocks = tuple(i for i in range(cfg.n_layer) if cfg.local_rope(i) == local)
        if not blocks:
            continue
        s = {} if local else (cfg.rope_scaling or {})
        factor = s.get("factor")
        tables.append(RotaryTable(local, float(base_of(cfg, local)), s.get("kind"),
                                  None if factor is None else float(factor), blocks))
    return tables


def table_of(cfg: "ModelConfig", layer: int) -> RotaryTable:
    """The table block `layer` turns its q and k with."""
    local = cfg.local_rope(layer)
    return next(t for t in rotary_tables(cfg) if t.local == local)


def angle_waves(cfg: "ModelConfig", n: int, local: bool = False
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """θ (d/2,), cos(m·θᵢ) and sin(m·θᵢ) (n, d/2) for positions m = 0 .. n − 1, of the global
    table or (`local`) Gemma 3's sliding blocks' one."""
    theta = frequencies(cfg, local)  # (d/2,) with the table's scaling
    angles = np.arange(n, dtype=np.float64)[:, None] * theta[None, :]  # (n, d/2)
    return theta, np.cos(angles), np.sin(angles)


def turned(cfg: "ModelConfig", x: np.ndarray, positions: np.ndarray, local: bool = False
           ) -> np.ndarray:
    """Rows of x (P, hs) each turned as if it sat at its position (P,), in float64; `local`:
    with Gemma 3's sliding blocks' base."""
    theta = frequencies(cfg, local)  # (d/2,)
    angles = np.asarray(positions, dtype=np.float64)[:, None] * theta[None, :]  # (P, d/2)
    angles = np.concatenate([angles, angles], axis=-1)  # (P, d)
    return rotate(np.asarray(x, dtype=np.float64), np.cos(angles), np.sin(angles))  # (P, hs)


def _before_rotation(trace: "Trace", layer: int, which: str) -> np.ndarray:
    """(heads, T, hs) of q or k as they enter the rotation (after QK-norm when there is one)."""
    normed = f"blocks.{layer}.attn.{which}_normed"
    name = normed if normed in trace else f"blocks.{layer}.attn.{which}"
    return np.asarray(trace[name].values[0], dtype=np.float64)  # batch row 0


@dataclass
class PairArrows:
    """One head's pair i at every position: q and k before and after turning, each (T, 2)."""
    pair: int
    theta: float  # the pair's angle per position, radians
    q_before: np.ndarray
    q_after: np.ndarray
    k_before: np.ndarray
    k_after: np.ndarray
    kv_head: int
    dims: tuple[int, int]  # the head dims that make the pair
    local: bool = False  # turned with the local table (Gemma 3's sliding blocks)


def pair_arrows(cfg: "ModelConfig", trace: "Trace", layer: int, head: int, pair: int
                ) -> PairArrows:
    """Pair `pair` of query head `head` (and of its K/V head) in block `layer`, from the trace:
    the arrows before turning and the trace's own turned ones (attn.q_rot, attn.k_rot)."""
    d = cfg.rotary_size
    if not 0 <= pair < d // 2:
        raise ValueError(f"no pair {pair} (a head has {d // 2})")
    kv = kv_head_of(cfg, head)
    dims = [pair, pair + d // 2]
    q = _before_rotation(trace, layer, "q")[head][:, dims]  # (T, 2)
    k = _before_rotation(trace, layer, "k")[kv][:, dims]  # (T, 2)
    q_rot = np.asarray(trace[f"blocks.{layer}.attn.q_rot"].values[0][head], np.float64)
    k_rot = np.asarray(trace[f"blocks.{layer}.attn.k_rot"].values[0][kv], np.float64)
    local = cfg.local_rope(layer)
    theta = frequencies(cfg, local)  # the table this block turns with
    return PairArrows(pair, float(theta[pair]), q, q_rot[:, dims], k,
                      k_rot[:, dims], kv, (dims[0], dims[1]), local)


@dataclass
class RelativeTable:
    """Scores of one q and one k turned to (n + s + Δ, n + s): rows Δ = m − n, columns s."""
    query_pos: int  # where the q vector was read in the context
    key_pos: int  # where the k vector was read
    offsets: tuple[int, ...]
    shifts: tuple[int, ...]
    scores: np.ndarray  # (len(offsets), len(shifts)), scaled as the model scales q·k
    unturned: float  # the same q·k with no rotation at all
    local: bool = False  # turned with the local table (Gemma 3's sliding blocks)

    def spread(self) -> np.ndarray:
        """Largest − smallest score along each row (len(offsets),): 0 up to rounding."""
        return self.scores.max(axis=1) - self.scores.min(axis=1)


def relative_scores(cfg: "ModelConfig", trace: "Trace", layer: int, head: int,
                    query_pos: int, key_pos: int, offsets: tuple[int, ...] = OFFSETS,
                    shifts: tuple[int, ...] = SHIFTS) -> RelativeTable:
    """The model's q (head `head`, at query_pos) and k (its K/V head, at key_pos) before
    turning, turned to every (Δ + s, s) and scored: each row is one distance Δ, equal along s."""
    kv = kv_head_of(cfg, head)
    q = _before_rotation(trace, layer, "q")[head][query_pos]  # (hs,)
    k = _before_rotation(trace, layer, "k")[kv][key_pos]  # (hs,)
    scores = np.empty((len(offsets), len(shifts)))
    local = cfg.local_rope(layer)  # the table this block turns with
    for r, delta in enumerate(offsets):
        n = np.asarray(shifts, dtype=np.float64)  # (S,) key positions
        qs = turned(cfg, np.repeat(q[None], len(shifts), 0), n + delta, local)  # (S, hs)
        ks = turned(cfg, np.repeat(k[None], len(shifts), 0), n, local)  # (S, hs)
        scores[r] = (qs * ks).sum(-1) * cfg.score_scale  # (S,)
    return RelativeTable(query_pos, key_pos, tuple(offsets), tuple(shifts), scores,
                         float(q @ k * cfg.score_scale), local)


def pair_moved(cfg: "ModelConfig", trace: "Trace", layer: int, head: int, pair: int,
               token: int, n: int) -> PairArrows:
    """The pair of one token's q and k, as computed there, turned as if it sat at each
    position 0 .. n − 1: the same arrow going round, the rotation alone."""
    a = pair_arrows(cfg, trace, layer, head, pair)
    positions = np.arange(n)
    q = np.repeat(_before_rotation(trace, layer, "q")[head][token][None], n, 0)  # (n, hs)
    k = np.repeat(_before_rotation(trace, layer, "k")[a.kv_head][token][None], n, 0)  # (n, hs)
    dims = list(a.dims)
    local = cfg.local_rope(layer)
    return PairArrows(pair, a.theta, q[:, dims], turned(cfg, q, positions, local)[:, dims],
                      k[:, dims], turned(cfg, k, positions, local)[:, dims], a.kv_head, a.dims,
                      local)
