"""The steps of the embedding: the ids, their token vectors, the position table and the sum.
Torch-free. Each position scheme's check and words are chosen from the config's name."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from engine.model import numerics as num
from engine.model.stepkind import StepKind

if TYPE_CHECKING:
    from engine.config import ModelConfig


def embedding_output(cfg: "ModelConfig") -> str:
    """The step that enters block 0: the sum of token vectors and position table, or for a
    rotary model (no table) the token vectors themselves."""
    if cfg.positional == "rotary":
        return "embed.scaled" if cfg.embed_scale != 1.0 else "embed.token"
    return "embed.sum"


def _tokens(c):
    ids = c.trace.ids.astype(np.float64)
    in_range = bool(((ids >= 0) & (ids < c.cfg.vocab_size)).all())
    return ids, [0.0 if in_range else math.inf], ("tokens", dict(V=c.cfg.vocab_size))


def _token(c):
    ids = c.trace.ids.astype(np.int64)  # (B, T)
    return c.param_rows("embed.wte.weight", ids), [], ("embed.token", {})  # (B, T, C)


# Per position scheme: the table recomputed for T positions, its words, its weights note.
SCHEMES = {
    "sinusoidal": (lambda c, T: num.sinusoidal(T, c.cfg.d_model), "embed.position.sinusoidal",
                   (" (fixed sinusoidal table)", "（固定的正弦表）")),
    "learned": (lambda c, T: c.param("embed.wpe.weight")[:T], "embed.position.learned",
                (" (learned table)", "（可学习的表）")),
}


def _position(c):
    table, key, _ = SCHEMES[c.cfg.positional]
    return table(c, c.trace.ids.shape[1]), [], (key, {})


def _scaled(c):
    s = c.cfg.embed_scale
    return c.x(0) * np.float64(np.float32(s)), [], ("embed.scaled", dict(s=f"{s:.4g}"))


def _sum(c):
    return c.x(0) + c.x(1)[None], [], ("embed.sum", {})


def _token_weights(cfg, zh):
    words = "（词元表，每个编号一行）" if zh else " (token table, one row per id)"
    return f"E [{cfg.vocab_size}×{cfg.d_model}]" + words


def _position_weights(cfg, zh):
    words = SCHEMES[cfg.positional][2][1 if zh else 0]
    return f"PE [{cfg.context_length}×{cfg.d_model}]{words}"


KINDS = (
    StepKind(
        "embed.scaled", False, ("Token embedding, scaled", "缩放后的词嵌入"),
        ("E[ids] · √d_model",) * 2, ("batch", "context", "d_model"),
        inputs=lambda p: ["embed.token"], check=_scaled, guide="embed.token",
        words={"embed.scaled": ("the token vectors times {s} (√d_model)",
                                "词元向量乘以 {s}（√d_model）")}),
    StepKind(
        "tokens", False, ("Token ids", "词元编号"),
        ("text → ids (rows of the token table)", "文本 → 编号（词元表中的行）"),
        ("batch", "context"), inputs=lambda p: [], check=_tokens,
        words={"tokens": ("the ids fed to the model, all within the vocabulary of {V}",
                          "输入模型的编号，全部在大小为 {V} 的词表之内")}),
    StepKind(
        "embed.token", False, ("Token embedding", "词嵌入"), ("E[ids]",) * 2,
        ("batch", "context", "d_model"), inputs=lambda p: ["tokens"], check=_token,
        words={"embed.token": ("wte[ids]: rows of the token table looked up again",
                               "wte[ids]：重新查出词元表中的这些行")},
        reshape=("Each of the {B}×{T} ids picks one row ({C} numbers) of the token table.",
                 "{B}×{T} 个 id 中的每一个都取出词元表中的一行（{C} 个数）。"),
        weights=_token_weights),
    StepKind(
        "embed.position", False, ("Positional encoding", "位置编码"),
        ("PE(pos,2i)=sin(pos/10000^(2i/d)), PE(pos,2i+1)=cos(pos/10000^(2i/d))",) * 2,
        ("context", "d_model"), inputs=lambda p: [], check=_position,
        words={"embed.position.sinusoidal": (
                   "sin(pos/10000^(2i/d)) and cos(...) recomputed in float64",
                   "用 float64 重新计算 sin(pos/10000^(2i/d)) 和 cos(...)"),
               "embed.position.learned": ("the first T rows of the learned position table",
                                          "可学习位置表的前 T 行")},
        reshape=("One [{T},{C}] table: the same rows are added to every sequence of the batch "
                 "(broadcast).", "只有一张 [{T},{C}] 的表：同样的行被加到批次中的每个序列上（广播）。"),
        weights=_position_weights),
    StepKind(
        "embed.sum", False, ("Embedding + position", "词嵌入 + 位置编码"),
        ("X = E[ids] + PE",) * 2, ("batch", "context", "d_model"),
        inputs=lambda p: ["embed.token", "embed.position"], check=_sum,
        words={"embed.sum": ("token embedding + positional encoding (broadcast over batch)",
                             "词嵌入 + 位置编码（在批次上广播）")}),
)
