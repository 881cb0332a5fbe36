"""A model's config.json for its own Hugging Face family: the inverse of reading one.

`family_config` writes the fields `transformers` reads for the family (model_type, sizes, the
rotary parameters, the window and which blocks slide, soft-caps, the query scale, partial
rotary, the parallel residual), then reads the result back with our own reader
(engine.storage.imports.families) and compares what the model computes with what the file says:
any difference (a switch the family's config.json has no field for) is refused in one line,
naming it, rather than written wrong. What transformers hard-codes per class and our reader
does not check (which projections have biases) is listed in BIASES.
"""
from __future__ import annotations

import math
from dataclasses import asdict, replace
from typing import Any

from engine.config import ModelConfig
from engine.storage.imports.families import ArchitectureError, architecture_from_config, \
    model_config

CLASSES = {"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM",
           "qwen2": "Qwen2ForCausalLM", "qwen3": "Qwen3ForCausalLM", "gemma": "GemmaForCausalLM",
           "gemma2": "Gemma2ForCausalLM", "gemma3_text": "Gemma3ForCausalLM",
           "gpt_neox": "GPTNeoXForCausalLM", "phi": "PhiForCausalLM"}
# Our activation -> transformers' hidden_act.
HIDDEN_ACT = {"silu": "silu", "gelu": "gelu", "gelu_tanh": "gelu_pytorch_tanh", "relu": "relu"}
# (biases of Wq Wk Wv, biases of the output projection and feed-forward) each class can hold.
BIASES = {"llama": {(False, False), (True, True)}, "mistral": {(False, False)},
          "qwen2": {(True, False)}, "qwen3": {(False, False)}, "gemma": {(False, False)},
          "gemma2": {(False, False)}, "gemma3_text": {(False, False)},
          "gpt_neox": {(True, True)}, "phi": {(True, True)}}
BIAS_WORDS = {(False, False): "no biases", (True, True): "biases on every projection",
              (True, False): "biases on q, k and v only",
              (False, True): "biases on the output and feed-forward only"}
GEMMAS = ("gemma", "gemma2", "gemma3_text")
# Fields whose meaning `_meaning` compares through what they compute instead.
DERIVED = ("n_kv_head", "head_dim", "rotary_dim", "qkv_bias", "sliding_window",
           "sliding_layers", "query_scale", "rope_scaling", "rope_local_theta", "dropout",
           "family")


class ExportError(ValueError):
    """The model cannot be written as a Hugging Face folder, or the folder is not free; one
    line."""


def _rope(cfg: ModelConfig, theta: float, scaled: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"rope_type": "default", "rope_theta": theta}
    s = cfg.rope_scaling if scaled else None
    if s:
        out.update(rope_type=s["kind"], factor=s["factor"])
        if s["kind"] == "llama3":
            out.update(low_freq_factor=s["low_freq_factor"],
                       high_freq_factor=s["high_freq_factor"],
                       original_max_position_embeddings=s["original_context"])
    return out


def _whole(x: float) -> float | int:
    """A number read back from x**-2 and the like, as the integer it was when it was one."""
    return round(x) if abs(x - round(x)) < 1e-6 * max(1.0, abs(x)) else x


def _sliding(cfg: ModelConfig, family: str) -> dict[str, Any]:
    """The window and which blocks slide, in the family's fields."""
    slides = [cfg.window_of(i) is not None for i in range(cfg.n_layer)]
    window = cfg.sliding_window if any(slides) else None
    if family == "mistral":
        return {"sliding_window": window}
    types = ["sliding_attention" if s else "full_attention" for s in (
        cfg.sliding_layers if cfg.sliding_layers is not None and family == "gemma3_text"
        else slides)]
    if family in ("qwen2", "qwen3"):
        return {"use_sliding_window": window is not None, "sliding_window": window,
                "max_window_layers": slides.index(True) if any(slides) else cfg.n_layer,
                "layer_types": types}
    return {"sliding_window": cfg.sliding_window, "layer_types": types}


def _write(cfg: ModelConfig, family: str, bos: int | None, eos: int | None) -> dict[str, Any]:
    layer_norm = family in ("gpt_neox", "phi")
    out: dict[str, Any] = {
        "model_type": family, "architectures": [CLASSES[family]],
        "vocab_size": cfg.vocab_size, "hidden_size": cfg.d_model,
        "intermediate_size": cfg.d_ff, "num_hidden_layers": cfg.n_layer,
        "num_attention_heads": cfg.n_head, "num_key_value_heads": cfg.kv_heads,
        "head_dim": cfg.head_size, "max_position_embeddings": cfg.context_length,
        "layer_norm_eps" if layer_norm else "rms_norm_eps": cfg.ln_eps,
        "hidden_activation" if family in ("gemma2", "gemma3_text") else "hidden_act":
            HIDDEN_ACT.get(cfg.activation, cfg.activation),
        "tie_word_embeddings": cfg.tied, "attention_dropout": 0.0, "torch_dtype": "float32",
        "rope_theta": cfg.rope_theta,
        "rope_parameters": _rope(cfg, cfg.rope_theta, scaled=True)}
    if family == "llama":
        out.update(attention_bias=cfg.bias, mlp_bias=cfg.bias)
    elif family in ("qwen3", *GEMMAS):
        out["attention_bias"] = False
    if family in ("mistral", "qwen2", "qwen3", "gemma2", "gemma3_text"):
        out.update(_sliding(cfg, family))
    if family in ("gemma2", "gemma3_text"):
        out.update(query_pre_attn_scalar=_whole(cfg.score_scale ** -2),
                   attn_logit_softcapping=cfg.attn_softcap,
                   final_logit_softcapping=cfg.final_softcap)
    if family == "gemma3_text":  # the global base (scaled) and the sliding blocks' own
        local = cfg.rope_local_theta or cfg.rope_theta
        out.update(rope_local_base_freq=local, rope_parameters={
            "full_attention": _rope(cfg, cfg.rope_theta, scaled=True),
            "sliding_attention": _rope(cfg, local, scaled=False)})
    if layer_norm:  # partial rotary; GPT-NeoX may run its two parts one after the other
        fraction = cfg.rotary_size / cfg.head_size
        out["rope_parameters"]["partial_rotary_factor"] = fraction
        if family == "gpt_neox":
            out.update(rotary_pct=fraction, rotary_emb_base=cfg.rope_theta,
                       use_parallel_residual=cfg.norm == "parallel", attention_bias=True)
        else:
            out.update(partial_rotary_factor=fraction, qk_layernorm=False, resid_pdrop=0.0,
                       embd_pdrop=0.0)
    if bos is not None:
        out["bos_token_id"] = bos
    if eos is not None:
        out["eos_token_id"] = eos
    return out


def _meaning(cfg: ModelConfig) -> dict[str, Any]:
    """What a configuration computes, independent of how its fields spell it."""
    out = {k: v for k, v in asdict(cfg).items() if k not in DERIVED}
    s = cfg.rope_scaling or {}
    out.update(
        kv_heads=cfg.kv_heads, head_size=cfg.head_size, rotary_size=cfg.rotary_size,
        qkv_bias=cfg.attention_bias, score_scale=round(cfg.score_scale, 12),
        windows=tuple(cfg.window_of(i) for i in range(cfg.n_layer)),
        local_rope=tuple(cfg.rope_local_theta if cfg.local_rope(i) else None
                         for i in range(cfg.n_layer)),
        rope_scaling=(s.get("kind"), s.get("factor"), s.get("divisors")) + ((
            s.get("low_freq_factor"), s.get("high_freq_factor"), s.get("original_context"))
            if s.get("kind") == "llama3" else ()))
    return out


def family_config(cfg: ModelConfig, family: str, bos: int | None = None,
                  eos: int | None = None) -> dict[str, Any]:
    """config.json of `cfg` as a Hugging Face `family` model; ExportError naming the first
    thing that family's file cannot say."""
    where = f"this model cannot be written as a Hugging Face {family} folder"
    if family not in CLASSES:
        raise ExportError(f"{family} models cannot be written as a Hugging Face folder (the "
                          f"families written are gpt2, {', '.join(CLASSES)})")
    biases = (cfg.attention_bias, cfg.bias)
    if biases not in BIASES[family]:
        can = " or ".join(BIAS_WORDS[b] for b in sorted(BIASES[family]))
        raise ExportError(f"{where}: a {family} model has {can}, and this one has "
                          f"{BIAS_WORDS[biases]}")
    if (cfg.rope_scaling or {}).get("kind") == "divisors":
        raise ExportError(f"{where}: its rotary divisors (a GGUF file's rope_freqs) have no "
                          "config.json field")
    written = _write(cfg, family, bos, eos)
    try:
        back = model_config(architecture_from_config(written, where), where)
    except ArchitectureError as e:
        raise ExportError(str(e)) from None
    ours, theirs = _meaning(cfg), _meaning(back)
    wrong = [f"{k}={ours[k]!r} (it would read back as {theirs[k]!r})"
             for k in ours if not _same(ours[k], theirs.get(k))]
    if wrong:
        raise ExportError(f"{where}: its config.json cannot say " + ", ".join(wrong))
    return written


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9)
    return a == b


def as_family(cfg: ModelConfig, family: str) -> ModelConfig:
    """`cfg` as a model of `family` (our own Llama-shaped models are written as llama)."""
    return cfg if cfg.family == family else replace(cfg, family=family)
