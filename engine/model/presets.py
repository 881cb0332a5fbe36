"""The architectures a user can train from scratch: one table, read by the CLI (`train --arch`)
and the Training form.

- "gpt": the articles' model (post-norm, sines, ReLU by default); its positional encoding, norm
  placement, activation, tying and biases stay the user's choice.
- "gpt2": GPT-2's block (pre-norm LayerNorm, a learned position table, GELU's tanh form, the
  token table tied to the output layer).
- "llama": Llama's block (pre-norm RMSNorm, rotary positions, SwiGLU = a gated feed-forward
  with SiLU, no biases), grouped K/V heads (`n_kv_head`) and tying left to the user.

Each preset fixes some ModelConfig fields and leaves the rest (sizes, and its `free` choices)
to the user; a config reads back as the first preset whose fixed fields it has (`arch_of`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.config import ConfigError, ModelConfig
from engine.wording import say


@dataclass(frozen=True)
class Preset:
    name: str
    fixed: dict[str, Any]  # ModelConfig fields the architecture sets
    free: tuple[str, ...]  # the architecture choices still the user's
    kv_heads: bool = False  # grouped K/V heads (n_kv_head) apply
    title: str = ""  # English; the form translates it


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("gpt", {"norm_kind": "layernorm", "gated": False},
           ("positional", "norm", "activation", "tied", "bias"), title="GPT (the articles)"),
    Preset("gpt2", {"norm_kind": "layernorm", "gated": False, "positional": "learned",
                    "norm": "pre", "activation": "gelu_tanh", "tied": True},
           ("bias",), title="GPT-2"),
    Preset("llama", {"norm_kind": "rmsnorm", "gated": True, "positional": "rotary",
                     "norm": "pre", "activation": "silu", "bias": False},
           ("tied",), kv_heads=True, title="Llama"),
)}
ARCHES = tuple(PRESETS)  # the choices offered, the first the default


def preset_config(arch: str, n_kv_head: int | None = None, **choices: Any) -> ModelConfig:
    """The ModelConfig of `arch` with the user's sizes and free choices, not yet validated (the
    form builds one at every keystroke; call .validate()).

    `choices` are ModelConfig fields; the preset's fixed fields win over them. `n_kv_head` is
    refused (ConfigError) where the architecture has no grouped K/V heads."""
    preset = PRESETS.get(arch)
    if preset is None:
        raise ConfigError("arch", say("config.one_of", allowed=ARCHES, value=arch))
    if n_kv_head is not None and not preset.kv_heads:
        raise ConfigError("n_kv_head", say("config.kv_needs_arch", arch=arch))
    return ModelConfig(**{**choices, **preset.fixed, "n_kv_head": n_kv_head})


def check_choices(arch: str, chosen: dict[str, Any]) -> None:
    """ConfigError naming the first of `chosen` (fields the user set away from the articles'
    defaults) that `arch` fixes to another value: --arch llama --positional learned."""
    preset = PRESETS[arch]
    for name, value in chosen.items():
        if name in preset.fixed and name not in preset.free and value != preset.fixed[name]:
            raise ConfigError(name, say("config.arch_fixes", arch=arch, fixed=preset.fixed[name]))


def arch_of(config: ModelConfig) -> str | None:
    """The preset a config was made with (the most specific that fits), None for none."""
    for name in ("llama", "gpt2", "gpt"):
        preset = PRESETS[name]
        if all(getattr(config, k) == v for k, v in preset.fixed.items()) and \
                (preset.kv_heads or config.n_kv_head in (None, config.n_head)):
            return name
    return None
