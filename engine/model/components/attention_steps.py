"""The steps attention emits: Q, K, V by head, the four stages of the attention map, the
weighted values, the heads side by side and the output projection. Torch-free.

With fewer key/value heads than query heads (ModelConfig.n_kv_head), K and V have nkv heads,
each read by g = nh // nkv query heads; the maps and the weighted values have nh.
"""
from __future__ import annotations

import math

import numpy as np

from engine.model import numerics as num
from engine.model.stepkind import StepKind, step_kind

_HEADS = ("batch", "heads", "context", "head_size")
_MAP = ("batch", "heads", "query", "key")
_STREAM = ("batch", "context", "d_model")


def _rows(cfg, which: int) -> tuple[int, int]:
    """The rows [first, end) of qkv.weight that hold Wq (0), Wk (1) or Wv (2)."""
    q, kv = cfg.n_head * cfg.head_size, cfg.kv_heads * cfg.head_size
    starts = (0, q, q + kv, q + 2 * kv)
    return starts[which], starts[which + 1]


def _qkv(c):
    which = "qkv".index(step_kind(c.name)[-1])
    first, end = _rows(c.cfg, which)
    W = c.param("attn.qkv.weight")[first:end]  # (nh·hs or nkv·hs, C) slice of Wq|Wk|Wv
    bias = c.param("attn.qkv.bias")
    b = None if bias is None else bias[first:end]
    n = c.cfg.n_head if which == 0 else c.cfg.kv_heads
    letter = "QKV"[which]
    return num.heads(num.linear(c.x(0), W, b), n), [], ("qkv", dict(x=c.inputs[0],
                                                                    w=letter.lower()))


def _groups(c) -> int:
    return c.cfg.n_head // c.cfg.kv_heads


def query_key(cfg) -> tuple[str, str]:
    """The steps scores read: q and k after QK-norm and rotation, where the model has them."""
    if cfg is not None and cfg.positional == "rotary":
        return "attn.q_rot", "attn.k_rot"
    if cfg is not None and cfg.qk_norm:
        return "attn.q_normed", "attn.k_normed"
    return "attn.q", "attn.k"


def _scores(c):
    k = num.repeat_heads(c.x(1), _groups(c))  # (B, nh, T, hs)
    return num.matmul(c.x(0), k.swapaxes(-1, -2)), [], ("attn.scores", {})


def _scaled(c):
    hs = c.cfg.head_size
    if c.cfg.query_scale:
        return c.x(0) * c.cfg.query_scale, [], ("attn.scaled.by", dict(s=f"{c.cfg.query_scale:.6g}"))
    return c.x(0) / math.sqrt(hs), [], ("attn.scaled", dict(hs=hs))


def _capped(c):
    cap = c.cfg.attn_softcap
    return cap * np.tanh(c.x(0) / cap), [], ("attn.capped", dict(c=f"{cap:g}"))


def _masked(c):
    scaled = c.x(0)
    got = c.got()
    # The future, and with a sliding window the keys too far back (from the config).
    above = num.blocked(scaled.shape[-1], c.cfg.window_of(c.layer))
    expected = np.where(above, -np.inf, scaled)
    blocked_ok = bool(np.all(np.isneginf(got[..., above])))
    # Compare the allowed part numerically; a finite value above the diagonal is an infinite
    # error.
    diff = num.max_diff(np.where(above, 0.0, got), np.where(above, 0.0, expected))
    window = c.cfg.window_of(c.layer)
    said = ("attn.masked.window", dict(w=window)) if window else ("attn.masked", {})
    return expected, [diff, 0.0 if blocked_ok else math.inf], said


def _pattern(c):
    got = c.got().astype(np.float64)
    expected = num.softmax(c.x(0))
    rows = float(np.abs(got.sum(axis=-1) - 1.0).max())
    hidden = num.blocked(got.shape[-1], c.cfg.window_of(c.layer))
    future = float(np.abs(got[..., hidden]).max(initial=0.0))
    return expected, [rows, future], ("attn.pattern", {})


def _weighted(c):
    v = num.repeat_heads(c.x(1), _groups(c))  # (B, nh, T, hs)
    out = num.matmul(c.x(0), v)  # (B, nh, T, T) · (B, nh, T, hs)
    off = [h for layer, h in c.trace.ablated if layer == c.layer]
    if off:
        out[:, off] = 0.0
        return out, [], ("attn.weighted.ablated", dict(off=off))
    return out, [], ("attn.weighted", {})


def _concat(c):
    w = c.x(0)
    B, nh, T, hs = w.shape
    return w.transpose(0, 2, 1, 3).reshape(B, T, nh * hs), [], ("attn.concat", {})


def _out(c):
    return (num.linear(c.x(0), c.param("attn.proj.weight"), c.param("attn.proj.bias")), [],
            ("attn.out", {}))


def _stage(r):
    """A dropped attention map, again from the block's Q and K (engine.model.ondemand)."""
    from engine.model import ondemand

    cfg = r.model.config
    q, k = query_key(cfg)
    return ondemand.attention_stage(step_kind(r.name)[len("attn."):], r.kept(r.here(q)),
                                    r.kept(r.here(k)), cfg.window_of(r.layer),
                                    cfg.score_scale, cfg.attn_softcap)


def _qkv_weights(which: int):
    def note(cfg, zh: bool) -> str:
        first, end = _rows(cfg, which)
        n, C, L = end - first, cfg.d_model, "qkv"[which]
        rows = (f"（qkv.weight 的第 {first}–{end - 1} 行）" if zh
                else f"(rows {first}–{end - 1} of qkv.weight)")
        return f"W{L} [{C}×{n}] + b{L} [{n}]  {rows}"
    return note


def _out_weights(cfg, zh: bool) -> str:
    inner, C = cfg.n_head * cfg.head_size, cfg.d_model
    return f"Wo [{inner}×{C}] + bo [{C}]"


_QKV_NOTE = (
    "view [{B},{T},{nh},{hs}] then transpose(1,2) → [{B},{nh},{T},{hs}]: each token's {C} "
    "numbers are cut into {nh} heads of {hs}, then the heads axis moves in front of the "
    "context axis, so every head holds its own [{T},{hs}] matrix.",
    "view [{B},{T},{nh},{hs}] 然后 transpose(1,2) → [{B},{nh},{T},{hs}]：每个词元的 {C} "
    "个数被切成 {nh} 个头、每头 {hs} 个，再把头的轴移到上下文轴之前，于是每个头各有一个 "
    "[{T},{hs}] 矩阵。",
)
_QKV_WORDS = {"qkv": ("{x}·W{w}ᵀ + b, then view [B,T,heads,head_size] and transpose(1,2)",
                      "{x}·W{w}ᵀ + b，然后 view 成 [B,T,头,head_size] 并 transpose(1,2)")}


def _projection(letter: str, zh: str, which: int) -> StepKind:
    return StepKind(
        f"attn.{letter.lower()}", True, (f"{_NAMES[which]}, split into heads", zh),
        (f"{letter} = X·W{letter.lower()} → view, transpose",) * 2, _HEADS,
        inputs=lambda p: [p.attn_in], check=_qkv, words=_QKV_WORDS, reshape=_QKV_NOTE,
        weights=_qkv_weights(which))


_NAMES = ("Queries", "Keys", "Values")


def _here(*kinds: str):
    return lambda p: [p.here(k) for k in kinds]


KINDS = (
    _projection("Q", "查询 Q，按头拆分", 0),
    _projection("K", "键 K，按头拆分", 1),
    _projection("V", "值 V，按头拆分", 2),
    StepKind(
        "attn.scores", True, ("Scores QKᵀ", "注意力分数 QKᵀ"), ("S = Q·Kᵀ",) * 2, _MAP,
        inputs=lambda p: [p.here(n) for n in query_key(p.cfg)], check=_scores,
        words={"attn.scores": ("Q·Kᵀ for every batch and head", "对每个批次、每个头计算 Q·Kᵀ")},
        reshape=("Kᵀ swaps K's last two axes, [{T},head_size] → [head_size,{T}], so every batch "
                 "entry and head gets a [{T},{T}] matrix (query × key).",
                 "Kᵀ 交换 K 的最后两个轴：[{T},head_size] → [head_size,{T}]，"
                 "所以每个批次、每个头得到一个 [{T},{T}] 的矩阵（查询 × 键）。"),
        recompute=_stage, stage="scores"),
    StepKind(
        "attn.scaled", True, ("Scaled scores", "缩放后的分数"), ("S / √head_size",) * 2, _MAP,
        inputs=_here("attn.scores"), check=_scaled,
        words={"attn.scaled": ("scores ÷ √{hs}", "分数 ÷ √{hs}"),
               "attn.scaled.by": ("scores × {s} (the model's own query scale)",
                                  "分数 × {s}（模型自己的查询缩放）")},
        recompute=_stage, stage="scaled"),
    StepKind(
        "attn.masked", True, ("Causal mask applied", "加上因果掩码"),
        ("S/√d + M,  M = −∞ above the diagonal", "S/√d + M，对角线以上 M = −∞"), _MAP,
        inputs=lambda p: [p.here("attn.capped" if p.cfg is not None and p.cfg.attn_softcap
                                 else "attn.scaled")], check=_masked,
        words={"attn.masked": ("equal to the scaled scores on and below the diagonal, −∞ above "
                               "it", "对角线及以下等于缩放后的分数，对角线以上为 −∞"),
               "attn.masked.window": (
                   "sliding window of {w}: equal to the scaled scores for the {w} latest keys "
                   "(the query's own included), −∞ for the future and for older keys",
                   "滑动窗口 {w}：最近的 {w} 个键（含查询自身）等于缩放后的分数，未来位置和更早的键为 −∞")},
        reshape=("The [{T},{T}] causal mask 1 − triu(ones, k=1) is broadcast over every batch "
                 "entry and head: entries above the diagonal (the future) become −∞.",
                 "[{T},{T}] 的因果掩码 1 − triu(ones, k=1) 广播到所有批次和头：对角线以上（未来位置）"
                 "变为 −∞。"),
        recompute=_stage, stage="masked", compares_itself=True),
    StepKind(
        "attn.capped", True, ("Scores soft-capped", "软上限后的分数"), ("c · tanh(S / c)",) * 2,
        _MAP, inputs=_here("attn.scaled"), check=_capped,
        words={"attn.capped": ("{c}·tanh(scores / {c}): no score beyond ±{c}",
                               "{c}·tanh(分数 / {c})：分数不超出 ±{c}")}, guide="attn.scaled"),
    StepKind(
        "attn.pattern", True, ("Attention pattern (softmax)", "注意力权重（softmax）"),
        ("A = softmax(S/√d + M)  (rows sum to 1)", "A = softmax(S/√d + M)（每行之和为 1）"),
        _MAP, inputs=_here("attn.masked"), check=_pattern,
        words={"attn.pattern": ("softmax recomputed; every row sums to 1; zero weight on future "
                                "positions", "重新计算 softmax；每行之和为 1；未来位置的权重为零")},
        recompute=_stage, stage="pattern"),
    StepKind(
        "attn.weighted", True, ("Weighted values", "加权求和的值"), ("A·V",) * 2, _HEADS,
        inputs=_here("attn.pattern", "attn.v"), check=_weighted,
        words={"attn.weighted": ("pattern·V", "注意力权重·V"),
               "attn.weighted.ablated": ("pattern·V; ablated heads {off} are zero",
                                         "注意力权重·V；被消融的头 {off} 为零")}),
    StepKind(
        "attn.concat", True, ("Heads concatenated", "各头拼接"),
        ("transpose → reshape [.., heads·head_size]", "transpose → reshape [.., 头数·head_size]"),
        _STREAM, inputs=_here("attn.weighted"), check=_concat,
        words={"attn.concat": ("transpose(1,2) back to [B,T,heads,head_size], then reshape to "
                               "[B,T,d_model]", "transpose(1,2) 变回 [B,T,头,head_size]，再 "
                               "reshape 成 [B,T,d_model]")},
        reshape=("transpose(1,2) back to [{B},{T},{nh},{hs}], then reshape to [{B},{T},{C}]: "
                 "the {nh} heads' {hs} numbers are laid side by side again.",
                 "transpose(1,2) 变回 [{B},{T},{nh},{hs}]，再 reshape 成 [{B},{T},{C}]："
                 "{nh} 个头各自的 {hs} 个数重新并排在一起。")),
    StepKind(
        "attn.out", True, ("Attention output", "注意力输出"), ("concat·Wo + bo",) * 2, _STREAM,
        inputs=_here("attn.concat"), check=_out,
        words={"attn.out": ("concat·Woᵀ + bo", "concat·Woᵀ + bo")}, weights=_out_weights),
)
