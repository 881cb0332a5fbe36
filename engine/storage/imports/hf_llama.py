"""Whether a model this program built is Llama-shaped, so it can be written as Hugging Face's
LlamaForCausalLM (engine.storage.imports.family_config writes the config.json, and
engine.storage.imports.family_weights the weights, from the same table an import reads).

Llama-shaped: pre-norm RMSNorm (γ, not Gemma's 1 + γ), rotary positions on whole heads, a gated
feed-forward, any number of K/V heads, biases on all of attention (q, k, v, o) and the
feed-forward or on none, no QK-norm, window, soft-caps or scales of Gemma's. The Llama preset
(engine.model.presets) is. (An imported model is written as its own family instead.)
"""
from __future__ import annotations

from engine.config import ModelConfig
from engine.storage.imports.family_config import HIDDEN_ACT


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
