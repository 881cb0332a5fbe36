"""The steps a norm emits (ln1, ln2 inside a block, ln_f before the output projection), and
which norm a config means. Torch-free: engine.model.registry reads it without the model."""
from __future__ import annotations

from typing import TYPE_CHECKING

from engine.model import numerics as num
from engine.model.stepkind import Place, StepKind, step_kind

if TYPE_CHECKING:
    from engine.config import ModelConfig


def norm_kind(cfg: "ModelConfig") -> str:
    """The norm of `cfg`: the one name the model (components.norms.NORMS) and the float64
    check both go by. LayerNorm is the only kind today; RMSNorm adds a config field here."""
    return getattr(cfg, "norm_kind", "layernorm")


# The float64 formula of each norm kind: (x, config, γ, β) -> normed x.
FORMULAS = {
    "layernorm": lambda x, cfg, w, b: num.layer_norm(x, cfg.ln_eps, w, b),
    "rmsnorm": lambda x, cfg, w, b: num.rms_norm(x, cfg.ln_eps, w, cfg.norm_offset),
}

_MODULE = {"ln1": "norm1", "ln2": "norm2", "ln_f": "norm_f", "ln_pa": "norm_pa",
           "ln_pf": "norm_pf"}  # the module whose weights it uses
_WORDS = {"ln": ("LayerNorm of {x} recomputed with γ, β and ε={eps}",
                 "用 γ、β 和 ε={eps} 重新计算 {x} 的层归一化"),
          "rms": ("RMSNorm of {x} recomputed: x / √(mean(x²) + ε) · ({offset}γ), ε={eps}",
                  "重新计算 {x} 的 RMS 归一化：x / √(mean(x²) + ε) · ({offset}γ)，ε={eps}")}


def _check(c):
    module = _MODULE[step_kind(c.name)]
    # ε and the formula come from the config, never from the module checked.
    expected = FORMULAS[norm_kind(c.cfg)](c.x(0), c.cfg, c.param(f"{module}.weight"),
                                          c.param(f"{module}.bias"))
    if norm_kind(c.cfg) == "rmsnorm":
        offset = "1 + " if c.cfg.norm_offset else ""
        return expected, [], ("rms", dict(x=c.inputs[0], eps=f"{c.cfg.ln_eps:g}",
                                          offset=offset))
    return expected, [], ("ln", dict(x=c.inputs[0], eps=f"{c.cfg.ln_eps:g}"))


def _weights(cfg: "ModelConfig", zh: bool) -> str:
    if norm_kind(cfg) == "rmsnorm":
        return f"γ [{cfg.d_model}]"
    return f"γ [{cfg.d_model}], β [{cfg.d_model}]"


_FORMULA = ("γ·(x−μ)/√(σ²+ε) + β",) * 2
_AXES = ("batch", "context", "d_model")
# An RMSNorm model's titles (the LayerNorm ones are the kinds' own): kind -> (English, Chinese).
_RMS_TITLES = {"ln1": ("RMSNorm 1", "RMS 归一化 1"), "ln2": ("RMSNorm 2", "RMS 归一化 2"),
               "ln_f": ("Final RMSNorm", "最终 RMS 归一化")}


def _variant(kind: str):
    """(title, formula) of `kind` in an RMSNorm model (Gemma's multiplies by 1 + γ)."""
    def of(cfg: "ModelConfig"):
        if norm_kind(cfg) != "rmsnorm":
            return None
        gain = "(1+γ)" if cfg.norm_offset else "γ"
        formula = (f"{gain}·x/√(mean(x²)+ε)",) * 2
        return _RMS_TITLES.get(kind, KINDS_BY_NAME[kind].title), formula
    return of


def _in_block(kind: str, en: str, zh: str, guide: str = "") -> StepKind:
    return StepKind(kind, True, (en, zh), _FORMULA, _AXES,
                    inputs=lambda p: p.wired(kind), check=_check, words=_WORDS, weights=_weights,
                    guide=guide, variant=_variant(kind))


def _final_input(p: Place) -> list[str]:
    return [p.block_input(p.n_layer)]


KINDS = (
    _in_block("ln1", "LayerNorm 1", "层归一化 1"),
    _in_block("ln2", "LayerNorm 2", "层归一化 2"),
    _in_block("ln_pa", "Norm after attention", "注意力之后的归一化", "post_vs_pre_norm"),
    _in_block("ln_pf", "Norm after the FFN", "前馈网络之后的归一化", "post_vs_pre_norm"),
    StepKind("ln_f", False, ("Final LayerNorm", "最终层归一化"), _FORMULA, _AXES,
             inputs=_final_input, check=_check, words=_WORDS, weights=_weights,
             variant=_variant("ln_f")),
)
KINDS_BY_NAME = {k.kind: k for k in KINDS}
