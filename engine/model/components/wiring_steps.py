"""How a block is wired (post-norm as in the paper, pre-norm as in GPT-2), and the residual
sums it emits. Torch-free: the wirings name which step feeds which; the blocks that run them
are engine.model.components.wiring."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from engine.model.stepkind import IN, StepKind, Wiring

if TYPE_CHECKING:
    from engine.config import ModelConfig

# The paper and the articles: LN(x + f(x)); every block ends in a norm.
POST = Wiring("post", attn_in=IN, ffn_in="ln1", out="ln2", final_norm=False, feeds={
    "resid1": (IN, "attn.out"), "ln1": ("resid1",),
    "resid2": ("ln1", "ffn.out"), "ln2": ("resid2",)})
# GPT-2: x + f(LN(x)); the residual stream itself is never normed, so a final norm is needed.
PRE = Wiring("pre", attn_in="ln1", ffn_in="ln2", out="resid2", final_norm=True, feeds={
    "ln1": (IN,), "resid1": (IN, "attn.out"),
    "ln2": ("resid1",), "resid2": ("resid1", "ffn.out")})

# Gemma 2/3: a norm before and after each part, x + LN'(f(LN(x))); four norms per block.
SANDWICH = Wiring("sandwich", attn_in="ln1", ffn_in="ln2", out="resid2", final_norm=True,
                  feeds={"ln1": (IN,), "ln_pa": ("attn.out",), "resid1": (IN, "ln_pa"),
                         "ln2": ("resid1",), "ln_pf": ("ffn.out",),
                         "resid2": ("resid1", "ln_pf")})

WIRINGS: dict[str, Wiring] = {w.name: w for w in (POST, PRE, SANDWICH)}


def wiring_of(cfg: "ModelConfig") -> Wiring:
    """The wiring of `cfg`'s blocks (ModelConfig.norm)."""
    return WIRINGS[cfg.norm]


def _check(c):
    expected = sum((c.x(i) for i in range(1, len(c.inputs))), c.x(0))
    return np.asarray(expected), [], ("resid", dict(a=c.inputs[0], b=c.inputs[1]))


_WORDS = {"resid": ("{a} + {b}", "{a} + {b}")}
_AXES = ("batch", "context", "d_model")

KINDS = (
    StepKind("resid1", True, ("Residual (attention)", "残差（注意力）"),
             ("X + Attention(·)", "X + 注意力(·)"), _AXES,
             inputs=lambda p: p.wired("resid1"), check=_check, words=_WORDS),
    StepKind("resid2", True, ("Residual (FFN)", "残差（前馈网络）"),
             ("x + FFN(·)", "x + 前馈网络(·)"), _AXES,
             inputs=lambda p: p.wired("resid2"), check=_check, words=_WORDS),
)
