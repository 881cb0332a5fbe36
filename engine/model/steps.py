"""Facts about the steps of a traced forward: what each step kind is called, its formula, the
names of its axes, which weights it multiplies by, and what a reshape in it did.

A step kind is a trace name with any `blocks.{i}.` removed (`blocks.3.attn.scores` ->
`attn.scores`). Everything here is keyed by kind, so a title or a note is spelled once for
every block. The longer explanations of each step (a few paragraphs per kind, English and
Chinese) are the guide's sections, parsed by engine.model.guide: that file is also the default
training text, so it stays prose. Pure Python, no Qt, no torch.
"""
from __future__ import annotations

import re
from typing import Sequence

from engine.config import ModelConfig

LANGUAGES = ("en", "zh")

# Per step kind: (title, formula, axes). One table so a title or formula is never spelled in
# two places; engine.model.trace stamps these on every Step it records.
STEP_INFO: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "tokens": ("Token ids", "text → ids (compact vocabulary rows)", ("batch", "context")),
    "embed.token": ("Token embedding", "E[ids]", ("batch", "context", "d_model")),
    "embed.position": (
        "Positional encoding",
        "PE(pos,2i)=sin(pos/10000^(2i/d)), PE(pos,2i+1)=cos(pos/10000^(2i/d))",
        ("context", "d_model"),
    ),
    "embed.sum": ("Embedding + position", "X = E[ids] + PE", ("batch", "context", "d_model")),
    "attn.q": ("Queries, split into heads", "Q = X·Wq → view, transpose",
               ("batch", "heads", "context", "head_size")),
    "attn.k": ("Keys, split into heads", "K = X·Wk → view, transpose",
               ("batch", "heads", "context", "head_size")),
    "attn.v": ("Values, split into heads", "V = X·Wv → view, transpose",
               ("batch", "heads", "context", "head_size")),
    "attn.scores": ("Scores QKᵀ", "S = Q·Kᵀ", ("batch", "heads", "query", "key")),
    "attn.scaled": ("Scaled scores", "S / √head_size", ("batch", "heads", "query", "key")),
    "attn.masked": ("Causal mask applied", "S/√d + M,  M = −∞ above the diagonal",
                    ("batch", "heads", "query", "key")),
    "attn.pattern": ("Attention pattern (softmax)", "A = softmax(S/√d + M)  (rows sum to 1)",
                     ("batch", "heads", "query", "key")),
    "attn.weighted": ("Weighted values", "A·V", ("batch", "heads", "context", "head_size")),
    "attn.concat": ("Heads concatenated", "transpose → reshape [.., heads·head_size]",
                    ("batch", "context", "d_model")),
    "attn.out": ("Attention output", "concat·Wo + bo", ("batch", "context", "d_model")),
    "resid1": ("Residual (attention)", "X + Attention(·)", ("batch", "context", "d_model")),
    "ln1": ("LayerNorm 1", "γ·(x−μ)/√(σ²+ε) + β", ("batch", "context", "d_model")),
    "ffn.hidden": ("FFN hidden", "H = x·W1 + b1", ("batch", "context", "d_ff")),
    "ffn.act": ("FFN activation", "act(H)", ("batch", "context", "d_ff")),
    "ffn.out": ("FFN output", "act(H)·W2 + b2", ("batch", "context", "d_model")),
    "resid2": ("Residual (FFN)", "x + FFN(·)", ("batch", "context", "d_model")),
    "ln2": ("LayerNorm 2", "γ·(x−μ)/√(σ²+ε) + β", ("batch", "context", "d_model")),
    "ln_f": ("Final LayerNorm", "γ·(x−μ)/√(σ²+ε) + β", ("batch", "context", "d_model")),
    "logits": ("Logits", "x·W_vocab", ("batch", "context", "vocab")),
    "probs": ("Next-token probabilities", "softmax(logits)", ("batch", "context", "vocab")),
}

# The titles in Chinese, keyed like STEP_INFO.
TITLES_ZH: dict[str, str] = {
    "tokens": "词元编号",
    "embed.token": "词嵌入",
    "embed.position": "位置编码",
    "embed.sum": "词嵌入 + 位置编码",
    "attn.q": "查询 Q，按头拆分",
    "attn.k": "键 K，按头拆分",
    "attn.v": "值 V，按头拆分",
    "attn.scores": "注意力分数 QKᵀ",
    "attn.scaled": "缩放后的分数",
    "attn.masked": "加上因果掩码",
    "attn.pattern": "注意力权重（softmax）",
    "attn.weighted": "加权求和的值",
    "attn.concat": "各头拼接",
    "attn.out": "注意力输出",
    "resid1": "残差（注意力）",
    "ln1": "层归一化 1",
    "ffn.hidden": "前馈网络隐藏层",
    "ffn.act": "前馈网络激活",
    "ffn.out": "前馈网络输出",
    "resid2": "残差（前馈网络）",
    "ln2": "层归一化 2",
    "ln_f": "最终层归一化",
    "logits": "逻辑值（logits）",
    "probs": "下一个词元的概率",
}

# The formulas whose captions hold words, in Chinese; the others are symbols only and read the
# same in both languages.
FORMULAS_ZH: dict[str, str] = {
    "tokens": "文本 → 编号（紧凑词表中的行）",
    "attn.masked": "S/√d + M，对角线以上 M = −∞",
    "attn.pattern": "A = softmax(S/√d + M)（每行之和为 1）",
    "attn.concat": "transpose → reshape [.., 头数·head_size]",
    "resid1": "X + 注意力(·)",
    "resid2": "x + 前馈网络(·)",
}

# The names of the axes in Chinese; the axes not here (d_model, d_ff, head_size) are the
# articles' symbols and stay as they are, next to the equations that use them.
AXES_ZH: dict[str, str] = {
    "batch": "批次",
    "context": "上下文",
    "heads": "头",
    "query": "查询",
    "key": "键",
    "vocab": "词表",
}

# The one list of terms that stay English in the Chinese interface: the articles' symbols for
# axes and sizes, and the names of the operations in the formulas (PyTorch's and the papers').
EXEMPT_TERMS: tuple[str, ...] = (
    "d_model", "d_ff", "head_size", "B", "T", "C", "nh", "hs", "V",
    "QKᵀ", "softmax", "logits", "LayerNorm", "GELU", "ReLU", "view", "transpose", "reshape",
    "qkv.weight", "W_vocab", "concat", "float64",
)

_BLOCK = re.compile(r"^blocks\.(\d+)\.")


def step_kind(name: str) -> str:
    """`blocks.3.attn.scores` -> `attn.scores`; names outside blocks are their own kind."""
    return _BLOCK.sub("", name)


def step_title(name: str, lang: str = "en") -> str:
    """The title of a step in `lang`, with its block: "Block 0: Queries, split into heads",
    "第 0 块：查询 Q，按头拆分"."""
    kind = step_kind(name)
    title = TITLES_ZH.get(kind, STEP_INFO[kind][0]) if lang == "zh" else STEP_INFO[kind][0]
    layer = step_layer(name)
    if layer is None:
        return title
    return f"第 {layer} 块：{title}" if lang == "zh" else f"Block {layer}: {title}"


def step_formula(name: str, lang: str = "en") -> str:
    """The formula of a step in `lang`: the symbols are the same, the words in it are not
    ("text → ids (compact vocabulary rows)", "文本 → 编号（紧凑词表中的行）")."""
    kind = step_kind(name)
    formula = STEP_INFO[kind][1]
    return FORMULAS_ZH.get(kind, formula) if lang == "zh" else formula


def axis_name(axis: str, lang: str = "en") -> str:
    """The name of an axis in `lang`: "query" → "查询"; symbols (d_model, head_size) stay."""
    return AXES_ZH.get(axis, axis) if lang == "zh" else axis


def step_layer(name: str) -> int | None:
    """The block index of a step name, or None for steps outside the blocks."""
    m = _BLOCK.match(name)
    return int(m.group(1)) if m else None


# ---------------------------------------------------------------------------------------------
# Shapes in words.


def named_shape(axes: Sequence[str], shape: Sequence[int], lang: str = "en") -> str:
    """'[batch 4, context 16, d_model 64]' ('[批次 4, 上下文 16, d_model 64]' in Chinese)."""
    return "[" + ", ".join(f"{axis_name(a, lang)} {n}" for a, n in zip(axes, shape)) + "]"


def short_shape(shape: Sequence[int]) -> str:
    """'[4,4,16,16]'."""
    return "[" + ",".join(str(n) for n in shape) + "]"


# The articles' (and nanoGPT's) one-letter names for each axis.
_SYMBOL = {"batch": "B", "context": "T", "query": "T", "key": "T", "heads": "nh",
           "head_size": "hs", "d_model": "C", "d_ff": "F", "vocab": "V"}


def shape_symbols(kind: str, shape: Sequence[int], n_head: int | None = None) -> dict[str, int]:
    """The sizes of a step's axes under their short names, e.g. {'B': 4, 'nh': 4, 'T': 16,
    'hs': 16, 'C': 64}; C, nh and hs are completed from each other (and `n_head`)."""
    axes = STEP_INFO[kind][2]
    sizes = {_SYMBOL.get(a, a): int(n) for a, n in zip(axes, shape)}
    if "nh" in sizes and "hs" in sizes:
        sizes.setdefault("C", sizes["nh"] * sizes["hs"])
    elif "C" in sizes:
        sizes.setdefault("nh", n_head or 1)
        sizes.setdefault("hs", sizes["C"] // sizes["nh"])
    return sizes


# What a view, transpose or broadcast did, per kind and language; the fields are the shape's
# symbols (shape_symbols). Steps that only compute have no note.
_QKV_NOTE = {
    "en": "view [{B},{T},{nh},{hs}] then transpose(1,2) → [{B},{nh},{T},{hs}]: each token's {C} "
          "numbers are cut into {nh} heads of {hs}, then the heads axis moves in front of the "
          "context axis, so every head holds its own [{T},{hs}] matrix.",
    "zh": "view [{B},{T},{nh},{hs}] 然后 transpose(1,2) → [{B},{nh},{T},{hs}]：每个词元的 {C} "
          "个数被切成 {nh} 个头、每头 {hs} 个，再把头的轴移到上下文轴之前，于是每个头各有一个 "
          "[{T},{hs}] 矩阵。",
}
RESHAPE_NOTES: dict[str, dict[str, str]] = {
    "attn.q": _QKV_NOTE,
    "attn.k": _QKV_NOTE,
    "attn.v": _QKV_NOTE,
    "attn.scores": {
        "en": "Kᵀ swaps K's last two axes, [{T},head_size] → [head_size,{T}], so every batch "
              "entry and head gets a [{T},{T}] matrix (query × key).",
        "zh": "Kᵀ 交换 K 的最后两个轴：[{T},head_size] → [head_size,{T}]，"
              "所以每个批次、每个头得到一个 [{T},{T}] 的矩阵（查询 × 键）。",
    },
    "attn.masked": {
        "en": "The [{T},{T}] causal mask 1 − triu(ones, k=1) is broadcast over every batch "
              "entry and head: entries above the diagonal (the future) become −∞.",
        "zh": "[{T},{T}] 的因果掩码 1 − triu(ones, k=1) 广播到所有批次和头：对角线以上（未来位置）"
              "变为 −∞。",
    },
    "attn.concat": {
        "en": "transpose(1,2) back to [{B},{T},{nh},{hs}], then reshape to [{B},{T},{C}]: "
              "the {nh} heads' {hs} numbers are laid side by side again.",
        "zh": "transpose(1,2) 变回 [{B},{T},{nh},{hs}]，再 reshape 成 [{B},{T},{C}]："
              "{nh} 个头各自的 {hs} 个数重新并排在一起。",
    },
    "embed.position": {
        "en": "One [{T},{C}] table: the same rows are added to every sequence of the batch "
              "(broadcast).",
        "zh": "只有一张 [{T},{C}] 的表：同样的行被加到批次中的每个序列上（广播）。",
    },
    "embed.token": {
        "en": "Each of the {B}×{T} ids picks one row ({C} numbers) of the token table.",
        "zh": "{B}×{T} 个 id 中的每一个都取出词元表中的一行（{C} 个数）。",
    },
}


def reshape_note(kind: str, shape: Sequence[int], n_head: int | None = None,
                 lang: str = "en") -> str:
    """One sentence on what a view/transpose/broadcast did in a step of `kind` and `shape`
    ('' when the step only computes); `lang` "en" or "zh" (anything else: English)."""
    notes = RESHAPE_NOTES.get(kind)
    if notes is None:
        return ""
    template = notes.get(lang, notes["en"])
    return template.format(**shape_symbols(kind, shape, n_head))


def weights_note(config: ModelConfig, kind: str, lang: str = "en") -> str:
    """The weight matrices a step of `kind` multiplies by, with their shapes ('' when none), the
    words in `lang` ("en" or "zh")."""
    C, F, V, T = config.d_model, config.d_ff, config.vocab_size, config.context_length
    zh = lang == "zh"
    norm = f"γ [{C}], β [{C}]"

    def rows(first: int, last: int) -> str:
        if zh:
            return f"（qkv.weight 的第 {first}–{last} 行）"
        return f"(rows {first}–{last} of qkv.weight)"

    if config.positional == "sinusoidal":
        table_words = "（固定的正弦表）" if zh else " (fixed sinusoidal table)"
    else:
        table_words = "（可学习的表）" if zh else " (learned table)"
    tied = ""
    if config.tied:
        tied = "（与词元表 E 共享）" if zh else " (tied: the token table E)"
    table = {
        "embed.token": f"E [{V}×{C}]" + ("（词元表，每个编号一行）" if zh
                                         else " (token table, one row per id)"),
        "embed.position": f"PE [{T}×{C}]{table_words}",
        "attn.q": f"Wq [{C}×{C}] + bq [{C}]  {rows(0, C - 1)}",
        "attn.k": f"Wk [{C}×{C}] + bk [{C}]  {rows(C, 2 * C - 1)}",
        "attn.v": f"Wv [{C}×{C}] + bv [{C}]  {rows(2 * C, 3 * C - 1)}",
        "attn.out": f"Wo [{C}×{C}] + bo [{C}]",
        "ln1": norm, "ln2": norm, "ln_f": norm,
        "ffn.hidden": f"W1 [{C}×{F}] + b1 [{F}]",
        "ffn.out": f"W2 [{F}×{C}] + b2 [{C}]",
        "logits": f"W_vocab [{C}×{V}]{tied}",
    }
    return table.get(kind, "")
