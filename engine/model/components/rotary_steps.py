"""The steps of rotary positions and QK-norm (Llama, Qwen, Mistral, Gemma): the angle table,
cos and sin at every position, each head's q and k normed, and q and k turned. Torch-free.
Every check recomputes from the config alone (base, scaling, rotated dims, ε) in float64
(engine.model.rotary_maths), never from the module's buffers."""
from __future__ import annotations


from engine.model import numerics as num
from engine.model import rotary_maths as rope
from engine.model.stepkind import StepKind, step_kind

_HEADS = ("batch", "heads", "context", "head_size")


def _scaling(cfg) -> str:
    s = cfg.rope_scaling or {}
    # Symbols only: the same text serves both languages.
    return {"linear": f"; θᵢ ÷ {s.get('factor')}", "llama3": f"; llama3: θᵢ ÷ {s.get('factor')} "
            f"(λ > {s.get('original_context')}/{s.get('low_freq_factor')})",
            "divisors": "; θᵢ ÷ rope_freqs"}.get(s.get("kind"), "")


def _local(name: str) -> bool:
    return step_kind(name).startswith("rope_local.")


def _freq(c):
    local = _local(c.name)
    theta = rope.frequencies(c.cfg, local)
    return theta, [], ("rope.freq", dict(base=f"{rope.base_of(c.cfg, local):g}",
                                          d=c.cfg.rotary_size,
                                          scaling="" if local else _scaling(c.cfg)))


def _trig(c):
    which = step_kind(c.name).split(".")[1]  # "cos" or "sin"
    cos, sin = rope.cos_sin(c.cfg, c.got().shape[0], _local(c.name))
    return (cos if which == "cos" else sin), [], ("rope." + which, {})


def _table(p, which: str) -> str:
    """rope.cos or rope.sin, or for a Gemma 3 sliding block its local table's."""
    local = p.cfg is not None and p.cfg.local_rope(p.layer)
    return f"rope_local.{which}" if local else f"rope.{which}"


def _pre_rotation(cfg, letter: str) -> str:
    return f"attn.{letter}_normed" if cfg is not None and cfg.qk_norm else f"attn.{letter}"


def _rot(c):
    x = c.x(0)  # (B, heads, T, hs)
    cos, sin = rope.cos_sin(c.cfg, x.shape[-2], c.cfg.local_rope(c.layer))  # (T, d) each
    d = c.cfg.rotary_size
    return rope.rotate(x, cos, sin), [], ("attn.rot", dict(
        x=c.inputs[0], d=d, rest=c.cfg.head_size - d))


def _normed(c):
    module = "attn.qnorm" if step_kind(c.name) == "attn.q_normed" else "attn.knorm"
    return (num.rms_norm(c.x(0), c.cfg.ln_eps, c.param(f"{module}.weight"), c.cfg.norm_offset),
            [], ("attn.normed", dict(x=c.inputs[0], eps=f"{c.cfg.ln_eps:g}")))


def _rotated(letter: str, zh: str) -> StepKind:
    return StepKind(
        f"attn.{letter}_rot", True, (f"{letter.upper()} turned by position (rotary)", zh),
        (f"{letter}' = {letter}·cos(mθ) + rotate_half({letter})·sin(mθ)",) * 2, _HEADS,
        inputs=lambda p: [p.here(_pre_rotation(p.cfg, letter)), _table(p, "cos"),
                          _table(p, "sin")],
        check=_rot, words=_WORDS, guide="rotary")


def _normed_kind(letter: str, zh: str) -> StepKind:
    return StepKind(
        f"attn.{letter}_normed", True, (f"{letter.upper()} normed per head (QK-norm)", zh),
        (f"RMSNorm({letter}) over head_size, γ [head_size]",
         f"在 head_size 上做 RMSNorm({letter})，γ [head_size]"), _HEADS,
        inputs=lambda p: [p.here(f"attn.{letter}")], check=_normed, words=_WORDS, guide="qk_norm",
        weights=lambda cfg, zh: f"γ [{cfg.head_size}]")


_WORDS = {
    "rope.freq": ("θᵢ = {base}^(−2i/{d}) recomputed in float64{scaling}",
                  "用 float64 重新计算 θᵢ = {base}^(−2i/{d}){scaling}"),
    "rope.cos": ("cos(m·θᵢ) for every position m, each angle for dims i and i + d/2",
                 "每个位置 m 的 cos(m·θᵢ)，每个角度用于第 i 和 i + d/2 维"),
    "rope.sin": ("sin(m·θᵢ) for every position m, each angle for dims i and i + d/2",
                 "每个位置 m 的 sin(m·θᵢ)，每个角度用于第 i 和 i + d/2 维"),
    "attn.rot": ("{x} turned: dims i and i + {d}/2 rotate as a pair by m·θᵢ (cos and sin "
                 "recomputed from the config); {rest} dims left as they are",
                 "{x} 被旋转：第 i 与 i + {d}/2 维成对旋转 m·θᵢ（cos、sin 由配置重新计算）；"
                 "其余 {rest} 维不变"),
    "attn.normed": ("RMSNorm of each head's vector in {x}, ε={eps}",
                    "对 {x} 中每个头的向量做 RMS 归一化，ε={eps}"),
}

KINDS = (
    StepKind("rope.freq", False, ("Rotary angle table θᵢ", "旋转位置角度表 θᵢ"),
             ("θᵢ = base^(−2i/d), i = 0 … d/2 − 1", "θᵢ = 底数^(−2i/d)，i = 0 … d/2 − 1"),
             ("pair",),
             inputs=lambda p: [], check=_freq, words=_WORDS, guide="rotary"),
    StepKind("rope.cos", False, ("cos(m·θᵢ) at each position", "每个位置的 cos(m·θᵢ)"),
             ("cos(m·θᵢ)",) * 2, ("context", "rotary_dim"), inputs=lambda p: [],
             check=_trig, words=_WORDS, guide="rotary"),
    StepKind("rope.sin", False, ("sin(m·θᵢ) at each position", "每个位置的 sin(m·θᵢ)"),
             ("sin(m·θᵢ)",) * 2, ("context", "rotary_dim"), inputs=lambda p: [],
             check=_trig, words=_WORDS, guide="rotary"),
    StepKind("rope_local.freq", False, ("Local rotary angle table θᵢ (sliding blocks)",
                                        "局部旋转角度表 θᵢ（滑动窗口块）"),
             ("θᵢ = local_base^(−2i/d), i = 0 … d/2 − 1",
              "θᵢ = 局部底数^(−2i/d)，i = 0 … d/2 − 1"), ("pair",),
             inputs=lambda p: [], check=_freq, words=_WORDS, guide="rotary"),
    StepKind("rope_local.cos", False, ("Local cos(m·θᵢ) (sliding blocks)",
                                       "局部 cos(m·θᵢ)（滑动窗口块）"),
             ("cos(m·θᵢ)",) * 2, ("context", "rotary_dim"), inputs=lambda p: [],
             check=_trig, words=_WORDS, guide="rotary"),
    StepKind("rope_local.sin", False, ("Local sin(m·θᵢ) (sliding blocks)",
                                       "局部 sin(m·θᵢ)（滑动窗口块）"),
             ("sin(m·θᵢ)",) * 2, ("context", "rotary_dim"), inputs=lambda p: [],
             check=_trig, words=_WORDS, guide="rotary"),
    _normed_kind("q", "每个头的 Q 归一化（QK-norm）"),
    _normed_kind("k", "每个头的 K 归一化（QK-norm）"),
    _rotated("q", "按位置旋转的 Q（旋转位置编码）"),
    _rotated("k", "按位置旋转的 K（旋转位置编码）"),
)
