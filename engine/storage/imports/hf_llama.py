"""A Llama-shaped model as Hugging Face's LlamaForCausalLM: config.json and its weight names.

Llama-shaped: pre-norm RMSNorm (γ, not Gemma's 1 + γ), rotary positions on whole heads, a gated
feed-forward, any number of K/V heads, biases on all of attention (q, k, v, o) and the
feed-forward or on none, no QK-norm, window, soft-caps or scales of Gemma's. The Llama preset
(engine.model.presets) is; so are imported Llama and Mistral models without a window.
"""
from __future__ import annotations

import torch

from engine.config import ModelConfig

# Our activation -> transformers' hidden_act.
HIDDEN_ACT = {"silu": "silu", "gelu": "gelu", "gelu_tanh": "gelu_pytorch_tanh", "relu": "relu"}


def llama_mismatch(cfg: ModelConfig) -> list[str]:
    """What keeps `cfg` from being written as LlamaForCausalLM (empty when it can be)."""
    scaling = (cfg.rope_scaling or {}).get("kind")
    return [f"{name}={getattr(cfg, name)!r} (Llama: {want})" for name, ok, want in (
        ("norm_kind", cfg.norm_kind == "rmsnorm" and not cfg.norm_offset, "'rmsnorm'"),
        ("norm", cfg.norm == "pre", "'pre'"),
        ("positional", cfg.positional == "rotary", "'rotary'"),
        ("rotary_dim", cfg.rotary_size == cfg.head_size, "the whole head"),
        ("rope_scaling", scaling in (None, "linear", "llama3"), "none, linear or llama3"),
        ("gated", cfg.gated, "True"),
        ("activation", cfg.activation in HIDDEN_ACT, "silu"),
        ("qkv_bias", cfg.attention_bias == cfg.bias, "as bias"),
        ("qk_norm", not cfg.qk_norm, "False"),
        ("sliding_window", cfg.sliding_window is None, "None"),
        ("embed_scale", cfg.embed_scale == 1.0, "1.0"),
        ("query_scale", cfg.query_scale in (None, cfg.score_scale) and
         abs(cfg.score_scale - cfg.head_size ** -0.5) < 1e-12, "1/√head_size"),
        ("attn_softcap", cfg.attn_softcap is None, "None"),
        ("final_softcap", cfg.final_softcap is None, "None"),
        ("rope_local_theta", cfg.rope_local_theta is None, "None"),
        ("head_bias", not cfg.head_bias, "False"),
    ) if not ok]


def llama_config(cfg: ModelConfig, bos: int | None = None, eos: int | None = None) -> dict:
    """LlamaForCausalLM's config.json of a Llama-shaped model."""
    out = {
        "model_type": "llama", "architectures": ["LlamaForCausalLM"],
        "vocab_size": cfg.vocab_size, "hidden_size": cfg.d_model,
        "intermediate_size": cfg.d_ff, "num_hidden_layers": cfg.n_layer,
        "num_attention_heads": cfg.n_head, "num_key_value_heads": cfg.kv_heads,
        "head_dim": cfg.head_size, "hidden_act": HIDDEN_ACT[cfg.activation],
        "max_position_embeddings": cfg.context_length, "rms_norm_eps": cfg.ln_eps,
        "rope_theta": cfg.rope_theta, "attention_bias": cfg.bias, "mlp_bias": cfg.bias,
        "attention_dropout": cfg.dropout, "tie_word_embeddings": cfg.tied,
        "torch_dtype": "float32",
    }
    s = cfg.rope_scaling
    if s:
        out["rope_scaling"] = {"rope_type": s["kind"], "factor": s["factor"]}
        if s["kind"] == "llama3":
            out["rope_scaling"].update(
                low_freq_factor=s["low_freq_factor"], high_freq_factor=s["high_freq_factor"],
                original_max_position_embeddings=s["original_context"])
    if bos is not None:
        out["bos_token_id"] = bos
    if eos is not None:
        out["eos_token_id"] = eos
    return out


def llama_state(ours: dict[str, torch.Tensor], cfg: ModelConfig) -> dict[str, torch.Tensor]:
    """Our weights under LlamaForCausalLM's names (Wq | Wk | Wv split apart)."""
    q_rows, kv_rows = cfg.n_head * cfg.head_size, cfg.kv_heads * cfg.head_size
    out = {"model.embed_tokens.weight": ours["embed.wte.weight"],
           "model.norm.weight": ours["norm_f.weight"]}
    if not cfg.tied:
        out["lm_head.weight"] = ours["lm_head.weight"]
    for i in range(cfg.n_layer):
        p, o = f"model.layers.{i}.", f"blocks.{i}."
        names = ("weight", "bias") if cfg.bias else ("weight",)
        for kind in names:
            q, k, v = ours[o + f"attn.qkv.{kind}"].split((q_rows, kv_rows, kv_rows))  # rows
            out.update({p + f"self_attn.q_proj.{kind}": q, p + f"self_attn.k_proj.{kind}": k,
                        p + f"self_attn.v_proj.{kind}": v,
                        p + f"self_attn.o_proj.{kind}": ours[o + f"attn.proj.{kind}"]})
            for mine, theirs in (("gate", "gate_proj"), ("up", "up_proj"), ("down", "down_proj")):
                out[p + f"mlp.{theirs}.{kind}"] = ours[o + f"ffn.{mine}.{kind}"]
        out[p + "input_layernorm.weight"] = ours[o + "norm1.weight"]
        out[p + "post_attention_layernorm.weight"] = ours[o + "norm2.weight"]
    return {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in out.items()}
