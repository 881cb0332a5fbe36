"""How a block is wired (post-norm as in the paper, pre-norm as in GPT-2, Gemma's sandwich,
GPT-NeoX's and Phi's parallel block), and the residual sums it emits. Torch-free: the wirings name which step feeds which; the blocks that run them
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

# GPT-NeoX: x + Attention(LN₁(x)) + FFN(LN₂(x)); both parts read the block's input, and
# their outputs join the stream in one sum.
PARALLEL = Wiring("parallel", attn_in="ln1", ffn_in="ln2", out="resid_parallel",
                  final_norm=True, feeds={"ln1": (IN,), "ln2": (IN,),
                                          "resid_parallel": (IN, "attn.out", "ffn.out")})
# Phi: the same with one norm shared by both parts, x + Attention(LN(x)) + FFN(LN(x)).
PARALLEL_SHARED = Wiring("parallel_shared", attn_in="ln1", ffn_in="ln1", out="resid_parallel",
                         final_norm=True, feeds={"ln1": (IN,),
                                                 "resid_parallel": (IN, "attn.out", "ffn.out")})

WIRINGS: dict[str, Wiring] = {w.name: w for w in (POST, PRE, SANDWICH, PARALLEL,
                                                    PARALLEL_SHARED)}


def wiring_of(cfg: "ModelConfig") -> Wiring:
    """The wiring of `cfg`'s blocks (ModelConfig.norm; a parallel block's shared_norm)."""
    if cfg.norm == "parallel" and getattr(cfg, "shared_norm", False):
        return PARALLEL_SHARED
    return WIRINGS[cfg.norm]


def _check(c):
    expected = sum((c.x(i) for i in range(1, len(c.inputs))), c.x(0))
    return np.asarray(expected), [], ("resid", dict(a=c.inputs[0], b=c.inputs[1]))


_WORDS = {"resid": ("{a} + {b}", "{a} + {b}")}


def _parallel(c):
    x, attn, ffn = (c.x(i) for i in range(3))
    shared = wiring_of(c.cfg).name == "parallel_shared"
    return x + attn + ffn, [], ("parallel.shared" if shared else "parallel",
                                dict(x=c.inputs[0], a=c.inputs[1], f=c.inputs[2]))


def _parallel_variant(cfg: "ModelConfig"):
    if not getattr(cfg, "shared_norm", False):
        return None
    return (("Parallel residual (one shared norm)", "并行残差（共用一个归一化）"),
            ("x + Attention(LN(x)) + FFN(LN(x))", "x + 注意力(LN(x)) + 前馈网络(LN(x))"))


_PARALLEL_WORDS = {
    "parallel": ("{x} + {a} + {f}: both parts read the block's input (through LN₁ and LN₂), "
                 "and their outputs are added to it in one sum",
                 "{x} + {a} + {f}：两个部分都读取块的输入（分别经过 LN₁ 和 LN₂），它们的输出一次"
                 "加到输入上"),
    "parallel.shared": ("{x} + {a} + {f}: attention and the FFN read the same normed input "
                        "(one shared LN), and their outputs are added to it in one sum",
                        "{x} + {a} + {f}：注意力和前馈网络读取同一个归一化后的输入（共用一个 LN），"
                        "它们的输出一次加到输入上"),
}
_AXES = ("batch", "context", "d_model")

KINDS = (
    StepKind("resid1", True, ("Residual (attention)", "残差（注意力）"),
             ("X + Attention(·)", "X + 注意力(·)"), _AXES,
             inputs=lambda p: p.wired("resid1"), check=_check, words=_WORDS),
    StepKind("resid2", True, ("Residual (FFN)", "残差（前馈网络）"),
             ("x + FFN(·)", "x + 前馈网络(·)"), _AXES,
             inputs=lambda p: p.wired("resid2"), check=_check, words=_WORDS),
    StepKind("resid_parallel", True, ("Parallel residual", "并行残差"),
             ("x + Attention(LN₁(x)) + FFN(LN₂(x))", "x + 注意力(LN₁(x)) + 前馈网络(LN₂(x))"),
             _AXES, inputs=lambda p: p.wired("resid_parallel"), check=_parallel,
             words=_PARALLEL_WORDS, guide="parallel_residual", variant=_parallel_variant),
)
