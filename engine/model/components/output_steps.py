"""The steps of the output projection: logits over the vocabulary and the next-token
probabilities. Torch-free; both are vocabulary-sized, so checked a slice at a time."""
from __future__ import annotations

import numpy as np

from engine.model import numerics as num
from engine.model.stepkind import StepKind

_AXES = ("batch", "context", "vocab")


# The vocabulary is multiplied this many float64 numbers of W_vocab at a time (32 MB), so the
# check never holds a float64 copy of the whole matrix (1.1 GB at 151,936 x 896).
VOCAB_VALUES = 4_000_000


def _logits(c):
    x = c.x(0)  # (B, t, C)
    V, C = c.cfg.vocab_size, x.shape[-1]
    rows = max(1, VOCAB_VALUES // C)
    bias = c.param("lm_head.bias")  # Phi's b_vocab (V,), None elsewhere
    expected = np.concatenate(  # (B, t, V): x · W_vocabᵀ + b, a slice of the vocabulary at a time
        [num.linear(x, c.param_rows("lm_head.weight", slice(v, v + rows)),
                    None if bias is None else bias[v:v + rows])
         for v in range(0, V, rows)], axis=-1)
    got, cap = c.got(), c.cfg.final_softcap
    if cap:  # the fast forward returns the capped logits
        got = cap * np.tanh(got.astype(np.float64) / cap)
    fast = num.max_diff(got, c.fast())
    key = "logits" if c.param("lm_head.bias") is None else "logits.bias"
    return expected, [fast], (key, dict(x=c.inputs[0], fast=f"{fast:.1e}"))


def _capped(c):
    cap = c.cfg.final_softcap
    return cap * np.tanh(c.x(0) / cap), [], ("logits_capped", dict(c=f"{cap:g}"))


def _probs(c):
    got = c.got().astype(np.float64)
    rows = float(np.abs(got.sum(axis=-1) - 1.0).max())
    expected = num.softmax(c.x(0))
    extra = [rows]
    kept = c.top()
    if kept is not None:  # the kept top-k: the largest of the recomputed softmax
        top_ids, top_probs = kept
        top = np.take_along_axis(expected, top_ids, axis=-1)  # (B, T, k)
        extra.append(num.max_diff(top_probs, top))
        k = top_ids.shape[-1]
        largest = -np.sort(-np.partition(expected, -k, axis=-1)[..., -k:], axis=-1)
        extra.append(num.max_diff(top, largest))  # no larger probability was left out
        return expected, extra, ("probs.top", dict(k=k))
    return expected, extra, ("probs", {})


def _recompute_logits(r):
    return r.output.logits(r.kept(r.output.stream))


def _recompute_probs(r):
    from engine.model import ondemand

    return ondemand.softmax(r.kept("logits_capped" if r.model.config.final_softcap
                                   else "logits"))


def _weights(cfg, zh: bool) -> str:
    tied = ""
    if cfg.tied:
        tied = "（与词元表 E 共享）" if zh else " (tied: the token table E)"
    bias = f", b_vocab [{cfg.vocab_size}]" if getattr(cfg, "head_bias", False) else ""
    return f"W_vocab [{cfg.d_model}×{cfg.vocab_size}]{tied}{bias}"


def _logits_variant(cfg):
    if not getattr(cfg, "head_bias", False):
        return None
    return ("Logits", "逻辑值（logits）"), ("x·W_vocab + b_vocab",) * 2


KINDS = (
    StepKind(
        "logits", False, ("Logits", "逻辑值（logits）"), ("x·W_vocab",) * 2, _AXES,
        inputs=lambda p: [p.final_stream], check=_logits,
        words={"logits": ("{x}·W_vocabᵀ, and equal to the fast forward model(ids) (max diff "
                          "{fast})", "{x}·W_vocabᵀ，且与快速前向 model(ids) 一致（最大差值 {fast}）"),
               "logits.bias": ("{x}·W_vocabᵀ + b_vocab, and equal to the fast forward "
                               "model(ids) (max diff {fast})",
                               "{x}·W_vocabᵀ + b_vocab，且与快速前向 model(ids) 一致（最大差值 "
                               "{fast}）")},
        weights=_weights, recompute=_recompute_logits, chunked=True, variant=_logits_variant),
    StepKind(
        "logits_capped", False, ("Logits soft-capped", "软上限后的逻辑值"),
        ("c · tanh(logits / c)",) * 2, _AXES, inputs=lambda p: ["logits"], check=_capped,
        words={"logits_capped": ("{c}·tanh(logits / {c}): no logit beyond ±{c}",
                                 "{c}·tanh(logits / {c})：逻辑值不超出 ±{c}")}, chunked=True,
        guide="logits"),
    StepKind(
        "probs", False, ("Next-token probabilities", "下一个词元的概率"),
        ("softmax(logits)",) * 2, _AXES,
        inputs=lambda p: ["logits_capped" if p.cfg is not None and p.cfg.final_softcap
                          else "logits"], check=_probs,
        words={"probs": ("softmax of the logits recomputed; every row sums to 1",
                         "重新计算 logits 的 softmax；每行之和为 1"),
               "probs.top": ("softmax of the logits recomputed; every row sums to 1; the {k} "
                             "guesses kept per position are its largest",
                             "重新计算 logits 的 softmax；每行之和为 1；每个位置保留的 {k} 个候选正是"
                             "其中最大的")},
        recompute=_recompute_probs, chunked=True),
)
