"""Facts about the steps of a traced forward, in words: titles, formulas and axis names in
English or Chinese, shapes in words, and a step's reshape and weights notes.

Every fact is read from the step's one declaration in the registry (engine.model.registry);
this module only puts it into words for a name, a shape, a language. The longer explanations
of each step (a few paragraphs per kind, English and Chinese) are the guide's sections, parsed
by engine.model.guide: that file is also the default training text, so it stays prose. Pure
Python, no Qt, no torch.
"""
from __future__ import annotations

from typing import Sequence

from engine.config import ModelConfig
from engine.model.registry import KINDS, step_kind, step_layer

__all__ = ["AXES_ZH", "EXEMPT_TERMS", "LANGUAGES", "axis_name", "named_shape", "reshape_note",
           "shape_symbols", "short_shape", "step_formula", "step_kind", "step_layer",
           "step_title", "weights_note"]

LANGUAGES = ("en", "zh")

# The names of the axes in Chinese; the axes not here (d_model, d_ff, head_size) are the
# articles' symbols and stay as they are, next to the equations that use them.
AXES_ZH: dict[str, str] = {
    "batch": "批次",
    "context": "上下文",
    "heads": "头",
    "query": "查询",
    "key": "键",
    "vocab": "词表",
    "pair": "维度对",  # a rotary angle θᵢ turns the pair of dims (i, i + d/2)
}

# The one list of terms that stay English in the Chinese interface: the articles' symbols for
# axes and sizes, and the names of the operations in the formulas (PyTorch's and the papers').
EXEMPT_TERMS: tuple[str, ...] = (
    "d_model", "d_ff", "head_size", "B", "T", "C", "nh", "hs", "V",
    "QKᵀ", "softmax", "logits", "LayerNorm", "GELU", "ReLU", "view", "transpose", "reshape",
    "qkv.weight", "W_vocab", "b_vocab", "concat", "float64",
    "rotary_dim", "RMSNorm", "SiLU", "rotate_half", "cos", "sin", "tanh",
)


def _zh(lang: str) -> int:
    return 1 if lang == "zh" else 0


def step_title(name: str, lang: str = "en", cfg: ModelConfig | None = None) -> str:
    """The title of a step in `lang`, with its block: "Block 0: Queries, split into heads",
    "第 0 块：查询 Q，按头拆分"; with `cfg`, as that model has it ("RMSNorm 1")."""
    title = KINDS[step_kind(name)].title_for(cfg)[_zh(lang)]
    layer = step_layer(name)
    if layer is None:
        return title
    return f"第 {layer} 块：{title}" if lang == "zh" else f"Block {layer}: {title}"


def step_formula(name: str, lang: str = "en", cfg: ModelConfig | None = None) -> str:
    """The formula of a step in `lang`: the symbols are the same, the words in it are not
    ("text → ids (rows of the token table)", "文本 → 编号（词元表中的行）"); with `cfg`, as
    that model computes it."""
    return KINDS[step_kind(name)].formula_for(cfg)[_zh(lang)]


def axis_name(axis: str, lang: str = "en") -> str:
    """The name of an axis in `lang`: "query" → "查询"; symbols (d_model, head_size) stay."""
    return AXES_ZH.get(axis, axis) if lang == "zh" else axis


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
    axes = KINDS[kind].axes
    sizes = {_SYMBOL.get(a, a): int(n) for a, n in zip(axes, shape)}
    if "nh" in sizes and "hs" in sizes:
        sizes.setdefault("C", sizes["nh"] * sizes["hs"])
    elif "C" in sizes:
        sizes.setdefault("nh", n_head or 1)
        sizes.setdefault("hs", sizes["C"] // sizes["nh"])
    return sizes


def reshape_note(kind: str, shape: Sequence[int], n_head: int | None = None,
                 lang: str = "en") -> str:
    """One sentence on what a view/transpose/broadcast did in a step of `kind` and `shape`
    ('' when the step only computes); `lang` "en" or "zh" (anything else: English)."""
    notes = KINDS[kind].reshape
    if notes is None:
        return ""
    return notes[_zh(lang)].format(**shape_symbols(kind, shape, n_head))


def weights_note(config: ModelConfig, kind: str, lang: str = "en") -> str:
    """The weight matrices a step of `kind` multiplies by, with their shapes ('' when none), the
    words in `lang` ("en" or "zh")."""
    note = KINDS[kind].weights
    return "" if note is None else note(config, lang == "zh")
