"""Today's decoder families, read from a Hugging Face `config.json` into one description.

Every family supported here is the same decoder with a few switches: the norm (RMSNorm, Gemma's
(1 + w), LayerNorm), rotary positions (base, scaling, the rotated fraction of each head), the
attention (grouped K/V heads, biases, QK-norm, sliding window, soft-capping, the query scale),
the feed-forward (gated or not, its activation) and the block's wiring (sequential or parallel
residual, two or four norms). `Architecture` holds exactly those switches; `read_architecture`
fills it from config.json, checking every size before anything is allocated. A model type
outside the families gets one line: what it is, what is supported, and what it would need;
`model_config` turns an Architecture into our ModelConfig (the family recorded in it, so an
export writes the same family back). Nothing here reads weights or runs code from the folder.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from engine.config import MAX_CONTEXT, ConfigError, ModelConfig

SUPPORTED = ("llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3_text",
             "gpt_neox", "phi")

# Model types this program knows but cannot run, with the feature they would need.
MISSING_FEATURE = {
    "mixtral": "a mixture-of-experts feed-forward", "qwen2_moe": "a mixture-of-experts "
    "feed-forward", "qwen3_moe": "a mixture-of-experts feed-forward",
    "deepseek_v2": "multi-head latent attention and experts", "deepseek_v3": "multi-head "
    "latent attention and experts", "phi3": "fused QKV and gate/up projections with "
    "long-context rotary scaling", "gemma3": "its vision tower (open a text-only gemma3_text "
    "model)", "mamba": "state-space layers instead of attention", "mamba2": "state-space "
    "layers instead of attention", "rwkv": "recurrent time-mixing instead of attention",
    "bert": "bidirectional attention (an encoder, not a decoder)", "t5": "an encoder-decoder",
    "falcon": "its fused multi-query attention", "gpt_bigcode": "multi-query attention with "
    "fused K/V", "opt": "learned positions with an offset", "bloom": "ALiBi position biases",
    "mpt": "ALiBi position biases", "olmo": "a non-parametric LayerNorm",
    "cohere": "a LayerNorm with no bias and a parallel block",
}

# Upper bounds far above any model we could open; a config past them is a lie or a mistake.
MAX_DIM = 1 << 17  # hidden size, head_dim, FFN width
MAX_LAYERS = 1024
MAX_HEADS = 1024
MAX_VOCAB = 1 << 22
MAX_CONTEXT = 1 << 24
MAX_PARAMETERS = 200e9  # 800 GB in float32: anything larger is refused before reading


class ArchitectureError(ValueError):
    """A config.json this program cannot run; one line naming the model and the reason."""


@dataclass(frozen=True)
class RopeScaling:
    """How rotary angles are stretched for long contexts ("linear" or Llama 3's)."""

    kind: str  # "linear" or "llama3"
    factor: float
    low_freq_factor: float = 1.0
    high_freq_factor: float = 4.0
    original_context: int = 8192


@dataclass(frozen=True)
class Architecture:
    """One decoder family's switches, normalised from config.json (or GGUF metadata)."""

    family: str  # the model_type: "llama", "qwen2", ...
    vocab_size: int
    d_model: int
    n_layer: int
    n_head: int
    n_kv_head: int  # grouped-query attention: each K/V head serves n_head // n_kv_head
    head_dim: int  # may differ from d_model // n_head (Qwen3, Gemma)
    d_ff: int
    context_length: int  # max_position_embeddings
    norm: str = "rms"  # "rms" or "layer"
    norm_eps: float = 1e-6
    norm_offset: float = 0.0  # Gemma's RMSNorm multiplies by (1 + w): offset 1
    activation: str = "silu"  # "silu", "gelu_tanh", "gelu"
    gated: bool = True  # down(act(gate(x)) * up(x)) rather than down(act(up(x)))
    rope_theta: float = 10000.0
    rope_local_theta: float | None = None  # Gemma 3: sliding layers' own base
    rotary_fraction: float = 1.0  # of each head's dims that rotate (GPT-NeoX, Phi: partial)
    rope_scaling: RopeScaling | None = None
    qkv_bias: bool = False
    out_bias: bool = False  # attention output projection
    mlp_bias: bool = False
    qk_norm: bool = False  # RMSNorm of each head's q and k (Qwen3, Gemma 3)
    sliding_window: int | None = None
    sliding_layers: tuple[bool, ...] = ()  # per block: True if it attends within the window
    attn_softcap: float | None = None  # scores become c * tanh(scores / c) (Gemma 2)
    final_softcap: float | None = None
    query_scale: float = 0.0  # scores are (q . k) * query_scale; 0: 1/sqrt(head_dim)
    embed_scale: float = 1.0  # Gemma: embeddings times sqrt(d_model)
    parallel: bool = False  # x + attn(norm(x)) + mlp(norm'(x)) (GPT-NeoX, Phi)
    shared_norm: bool = False  # parallel block with one norm for both branches (Phi)
    sandwich: bool = False  # four norms per block: after attention and MLP too (Gemma 2/3)
    tied: bool = False
    head_bias: bool = False  # the output projection has a bias (Phi)
    bos_id: int | None = None
    eos_ids: tuple[int, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def group_size(self) -> int:
        """Query heads per K/V head."""
        return self.n_head // self.n_kv_head

    @property
    def rotary_dim(self) -> int:
        """Dims of each head that rotate (even)."""
        return int(self.head_dim * self.rotary_fraction) // 2 * 2

    @property
    def scale(self) -> float:
        """The factor on q . k."""
        return self.query_scale or 1.0 / math.sqrt(self.head_dim)

    def parameters(self) -> int:
        """Parameter count, from the sizes alone (before anything is allocated)."""
        C, hd, L = self.d_model, self.head_dim, self.n_layer
        attn = C * hd * (self.n_head + 2 * self.n_kv_head) + self.n_head * hd * C
        mlp = C * self.d_ff * (3 if self.gated else 2)
        norms = C * (4 if self.sandwich else 2)
        table = self.vocab_size * C
        return L * (attn + mlp + norms) + table * (1 if self.tied else 2) + C

    def kv_bytes_per_token(self, itemsize: int = 4) -> int:
        """The K/V cache one token adds, over all blocks."""
        return 2 * self.n_layer * self.n_kv_head * self.head_dim * itemsize

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable mapping (saved with an imported model)."""
        d = asdict(self)
        d.pop("extra")
        d["sliding_layers"] = list(self.sliding_layers)
        d["eos_ids"] = list(self.eos_ids)
        return d


# ---------------------------------------------------------------------------------------------
# Reading config.json.


def unsupported(kind: Any, where: str, archs: Any = None) -> ArchitectureError:
    """The one line for a model type outside the families."""
    named = ", ".join(a for a in (archs or []) if isinstance(a, str)) or "no architecture named"
    need = MISSING_FEATURE.get(str(kind), "a block this program does not describe")
    return ArchitectureError(
        f"'{where}' is a Hugging Face {kind or 'unknown'} model ({named}); the families this "
        f"program reads are GPT-2 (gpt2), {', '.join(SUPPORTED)}; {kind or 'it'} needs {need}")


def _int(hf: dict, where: str, key: str, default: Any = None, hi: int = MAX_DIM) -> int:
    v = hf.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or not 0 < v <= hi:
        raise ArchitectureError(f"'{where}': {key} must be a whole number in 1..{hi:,}, "
                                f"not {v!r}")
    return v


def _float(hf: dict, where: str, key: str, default: float | None) -> float | None:
    v = hf.get(key, default)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        raise ArchitectureError(f"'{where}': {key} must be a positive number, not {v!r}")
    return float(v)


def _rope(hf: dict, where: str, layer_type: str = "full_attention") -> tuple[float, dict]:
    """(theta, scaling dict) from rope_parameters (transformers 5) or rope_theta/rope_scaling."""
    params = hf.get("rope_parameters")
    if isinstance(params, dict) and isinstance(params.get(layer_type), dict):
        params = params[layer_type]  # Gemma 3: one entry per layer type
    params = dict(params) if isinstance(params, dict) else {}
    legacy = hf.get("rope_scaling")
    if isinstance(legacy, dict):
        params = {**legacy, **params}
    theta = params.get("rope_theta", hf.get("rope_theta", hf.get("rotary_emb_base", 10000.0)))
    theta = _float({"rope_theta": theta}, where, "rope_theta", 10000.0)
    return float(theta), params


def _scaling(params: dict, where: str) -> RopeScaling | None:
    kind = params.get("rope_type", params.get("type", "default"))
    if kind in (None, "default"):
        return None
    if kind not in ("linear", "llama3"):
        raise ArchitectureError(f"'{where}': rotary scaling {kind!r} is not supported "
                                "(default, linear and llama3 are)")
    factor = _float(params, where, "factor", 1.0)
    if kind == "linear":
        return RopeScaling("linear", factor)
    return RopeScaling(
        "llama3", factor, _float(params, where, "low_freq_factor", 1.0),
        _float(params, where, "high_freq_factor", 4.0),
        _int(params, where, "original_max_position_embeddings", 8192, MAX_CONTEXT))


def _eos(v: Any) -> tuple[int, ...]:
    vals = v if isinstance(v, list) else [v]
    return tuple(int(x) for x in vals if isinstance(x, int) and not isinstance(x, bool))


def _layer_types(hf: dict, family: str, n_layer: int, window: int | None) -> tuple[bool, ...]:
    types = hf.get("layer_types")
    if isinstance(types, list) and len(types) == n_layer:
        return tuple(t == "sliding_attention" for t in types)
    if window is None:
        return (False,) * n_layer
    if family == "gemma2":
        return tuple((i + 1) % 2 == 1 for i in range(n_layer))
    if family == "gemma3_text":
        pattern = hf.get("sliding_window_pattern", 6)
        pattern = pattern if isinstance(pattern, int) and pattern > 0 else 6
        return tuple(bool((i + 1) % pattern) for i in range(n_layer))
    if family in ("qwen2", "qwen3"):
        first = hf.get("max_window_layers", 0)
        first = first if isinstance(first, int) else 0
        return tuple(i >= first for i in range(n_layer))
    return (True,) * n_layer  # Mistral: every block


def architecture_from_config(hf: Any, where: str) -> Architecture:
    """The Architecture of a config.json's contents; ArchitectureError (one line) otherwise."""
    if not isinstance(hf, dict):
        raise ArchitectureError(f"'{where}/config.json' is not a model configuration")
    family = hf.get("model_type")
    if family not in SUPPORTED:
        raise unsupported(family, where, hf.get("architectures"))
    n_layer = _int(hf, where, "num_hidden_layers", hi=MAX_LAYERS)
    C = _int(hf, where, "hidden_size")
    n_head = _int(hf, where, "num_attention_heads", hi=MAX_HEADS)
    n_kv = _int(hf, where, "num_key_value_heads", n_head, hi=MAX_HEADS)
    if family == "gpt_neox":  # one K/V head per query head, each C / nh wide, whatever else
        n_kv = n_head  # the file says (transformers' GPT-NeoX reads neither key)
        hf = {k: v for k, v in hf.items() if k != "head_dim"}
    if n_head % n_kv:
        raise ArchitectureError(f"'{where}': {n_head} query heads cannot be grouped over "
                                f"{n_kv} key/value heads")
    head_dim = hf.get("head_dim")
    if head_dim is None:
        if C % n_head:
            raise ArchitectureError(f"'{where}': hidden_size {C} is not divisible by "
                                    f"{n_head} heads and no head_dim is given")
        head_dim = C // n_head
    head_dim = _int({"head_dim": head_dim}, where, "head_dim")
    d_ff = _int(hf, where, "intermediate_size", 4 * C)
    V = _int(hf, where, "vocab_size", hi=MAX_VOCAB)
    ctx = _int(hf, where, "max_position_embeddings", 2048, hi=MAX_CONTEXT)
    theta, rope = _rope(hf, where)
    act_name = hf.get("hidden_activation") or hf.get("hidden_act") or "silu"
    act = {"silu": "silu", "swish": "silu", "gelu_pytorch_tanh": "gelu_tanh",
           "gelu_new": "gelu_tanh", "gelu": "gelu", "relu": "relu"}.get(act_name)
    if act is None:
        raise ArchitectureError(f"'{where}': activation {act_name!r} is not supported "
                                "(silu, gelu, gelu_pytorch_tanh, gelu_new, relu)")
    eps_key = "layer_norm_eps" if family in ("gpt_neox", "phi") else "rms_norm_eps"
    common: dict[str, Any] = dict(
        family=family, vocab_size=V, d_model=C, n_layer=n_layer, n_head=n_head, n_kv_head=n_kv,
        head_dim=head_dim, d_ff=d_ff, context_length=ctx, activation=act, rope_theta=theta,
        norm_eps=_float(hf, where, eps_key, 1e-5 if eps_key == "layer_norm_eps" else 1e-6),
        rope_scaling=_scaling(rope, where), tied=bool(hf.get("tie_word_embeddings", False)),
        bos_id=_eos(hf.get("bos_token_id"))[0] if _eos(hf.get("bos_token_id")) else None,
        eos_ids=_eos(hf.get("eos_token_id")), extra={"config": hf})
    bias = bool(hf.get("attention_bias", False))
    if family in ("llama", "mistral", "qwen2", "qwen3"):
        common.update(qkv_bias=bias or family == "qwen2", out_bias=bias,
                      mlp_bias=bool(hf.get("mlp_bias", False)), qk_norm=family == "qwen3")
        window = hf.get("sliding_window") if family == "mistral" or hf.get(
            "use_sliding_window") else None
    elif family in ("gemma", "gemma2", "gemma3_text"):
        common.update(norm_offset=1.0, qkv_bias=bias, out_bias=bias, tied=bool(
            hf.get("tie_word_embeddings", True)), embed_scale=math.sqrt(C),
            qk_norm=family == "gemma3_text", sandwich=family != "gemma")
        window = hf.get("sliding_window") if family != "gemma" else None
        if family != "gemma":
            qs = _float(hf, where, "query_pre_attn_scalar", float(head_dim))
            common.update(query_scale=qs ** -0.5,
                          attn_softcap=_float(hf, where, "attn_logit_softcapping", None),
                          final_softcap=_float(hf, where, "final_logit_softcapping", None))
        if family == "gemma3_text":
            if hf.get("use_bidirectional_attention"):
                raise ArchitectureError(f"'{where}': gemma3_text with bidirectional attention "
                                        "is an encoder, not a decoder this program runs")
            local_theta, _ = _rope(hf, where, "sliding_attention")
            if isinstance(hf.get("rope_parameters"), dict) and _scaling(
                    dict(hf["rope_parameters"].get("sliding_attention") or {}), where):
                raise ArchitectureError(f"'{where}': a scaled local rotary base is not "
                                        "supported (only the global one may be scaled)")
            if "rope_local_base_freq" in hf:
                local_theta = float(_float(hf, where, "rope_local_base_freq", 10000.0))
            elif not isinstance(hf.get("rope_parameters"), dict) or \
                    "sliding_attention" not in hf["rope_parameters"]:
                local_theta = 10000.0
            common["rope_local_theta"] = local_theta
    else:  # gpt_neox, phi: LayerNorm, dense biases, partial rotary, a parallel block
        frac = rope.get("partial_rotary_factor", hf.get("rotary_pct", hf.get(
            "partial_rotary_factor", 0.25 if family == "gpt_neox" else 0.5)))
        if isinstance(frac, bool) or not isinstance(frac, (int, float)) or not 0 < frac <= 1:
            raise ArchitectureError(f"'{where}': partial rotary factor {frac!r} is not in (0, 1]")
        if family == "phi" and hf.get("qk_layernorm"):
            raise ArchitectureError(f"'{where}': phi with qk_layernorm is not supported")
        neox = family == "gpt_neox"
        common.update(norm="layer", gated=False, rotary_fraction=float(frac),
                      qkv_bias=bool(hf.get("attention_bias", True)) if neox else True,
                      out_bias=bool(hf.get("attention_bias", True)) if neox else True,
                      mlp_bias=True, parallel=not neox or bool(hf.get("use_parallel_residual",
                                                                     True)),
                      shared_norm=not neox, head_bias=not neox)
        window = None
    if window is not None:
        window = _int({"sliding_window": window}, where, "sliding_window", hi=MAX_CONTEXT)
    common["sliding_window"] = window
    common["sliding_layers"] = _layer_types(hf, family, n_layer, window)
    if window is None and any(common["sliding_layers"]):
        common["sliding_layers"] = (False,) * n_layer
    arch = Architecture(**common)
    check_size(arch, where)
    return arch


def check_size(arch: Architecture, where: str, available_bytes: int | None = None) -> int:
    """The float32 bytes the model needs; ArchitectureError before allocating if that is more
    than MAX_PARAMETERS allows or than `available_bytes`."""
    n = arch.parameters()
    need = 4 * n
    if n > MAX_PARAMETERS or (available_bytes is not None and need > available_bytes):
        room = f"{available_bytes / 1e9:,.1f} GB free" if available_bytes is not None else \
            f"at most {MAX_PARAMETERS / 1e9:,.0f} billion parameters are opened"
        raise ArchitectureError(f"'{where}' has {n / 1e9:,.1f} billion parameters and would "
                                f"need {need / 1e9:,.1f} GB as float32; {room}")
    return need


# ---------------------------------------------------------------------------------------------
# Our model's configuration of a family.


# Families whose every part the decoder has (every one engine.storage.imports.families reads).
BUILT = ("llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3_text", "gpt_neox",
         "phi")


def _wiring(arch: Architecture) -> str:
    if arch.parallel:
        return "parallel"
    return "sandwich" if arch.sandwich else "pre"


def model_config(arch: Architecture, where: str) -> ModelConfig:
    """Our ModelConfig of an Architecture; ArchitectureError naming what cannot be run."""
    if arch.family not in BUILT:
        raise ArchitectureError(f"'{where}' is a {arch.family} model, which this program does "
                                f"not open ({', '.join(BUILT)} open today)")
    if arch.out_bias != arch.mlp_bias:
        raise ArchitectureError(f"'{where}': a bias on the attention output but not on the "
                                "feed-forward (or the reverse) is not built yet")
    scaling = None
    if arch.extra.get("rope_divisors"):
        scaling = {"kind": "divisors", "divisors": list(arch.extra["rope_divisors"])}
    elif arch.rope_scaling is not None:
        s = arch.rope_scaling
        scaling = {"kind": s.kind, "factor": s.factor, "low_freq_factor": s.low_freq_factor,
                   "high_freq_factor": s.high_freq_factor, "original_context": s.original_context}
    default_hd = arch.d_model // arch.n_head if arch.d_model % arch.n_head == 0 else None
    # Gemma 3: the local base applies to the sliding blocks even where no window is set.
    sliding = arch.sliding_window is not None or arch.rope_local_theta is not None
    try:
        return ModelConfig(
            vocab_size=arch.vocab_size, d_model=arch.d_model, n_head=arch.n_head,
            n_kv_head=arch.n_kv_head, n_layer=arch.n_layer,
            context_length=min(arch.context_length, MAX_CONTEXT), d_ff=arch.d_ff, dropout=0.0,
            positional="rotary", activation=arch.activation, tied=arch.tied,
            bias=arch.out_bias, ln_eps=arch.norm_eps,
            norm_kind="layernorm" if arch.norm == "layer" else "rmsnorm",
            norm_offset=arch.norm_offset,
            head_dim=None if arch.head_dim == default_hd else arch.head_dim,
            rope_theta=arch.rope_theta,
            rotary_dim=None if arch.rotary_dim == arch.head_dim else arch.rotary_dim,
            rope_scaling=scaling, gated=arch.gated, qkv_bias=arch.qkv_bias,
            qk_norm=arch.qk_norm, sliding_window=arch.sliding_window,
            sliding_layers=list(arch.sliding_layers) if sliding else None,
            embed_scale=arch.embed_scale, norm=_wiring(arch),
            query_scale=arch.query_scale or None, attn_softcap=arch.attn_softcap,
            final_softcap=arch.final_softcap, rope_local_theta=arch.rope_local_theta,
            shared_norm=arch.shared_norm, head_bias=arch.head_bias,
            family=arch.family,
        ).validate()
    except (ConfigError, TypeError, ValueError) as e:
        raise ArchitectureError(f"'{where}' has a configuration this program cannot run: {e}") \
            from None
