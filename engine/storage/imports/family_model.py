"""A family's model built from its Architecture and Hugging Face-named weights, and opened from
a Hugging Face folder or a GGUF file as a Checkpoint the whole app can show.

Our decoder runs every family through the same components (engine.model.components): RMSNorm
or LayerNorm, rotary positions (whole or partial, one base or Gemma 3's local and global ones),
grouped K/V heads, QK-norm, a sliding window, a gated or plain feed-forward, and a sequential,
sandwich or parallel block. A configuration outside them is refused in one line.
"""
from __future__ import annotations

from pathlib import Path

import torch

from engine.config import MAX_CONTEXT, ConfigError, ModelConfig
from engine.devices import resolve_device
from engine.model.decoder import GPT
from engine.storage.checkpoint import Checkpoint, CheckpointError, check_model_fits
from engine.storage.imports.families import Architecture, ArchitectureError, \
    architecture_from_config
from engine.storage.imports.family_weights import read_safetensors
from engine.storage.imports.gguf import read_gguf
from engine.storage.imports.gguf_header import GgufError
from engine.storage.imports.hf_files import FolderError, read_config_json, safetensor_files
from engine.text.fullvocab import FullTokenizer
from engine.text.tokenizer_json import TokenizerJsonBase, TokenizerJsonError, \
    read_tokenizer_json

ORIGIN = "huggingface"
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
        ).validate()
    except (ConfigError, TypeError, ValueError) as e:
        raise ArchitectureError(f"'{where}' has a configuration this program cannot run: {e}") \
            from None


def _neox_qkv(fused: torch.Tensor, n_head: int) -> torch.Tensor:
    """GPT-NeoX's query_key_value rows (or bias) -> Wq | Wk | Wv. Hugging Face views its output
    as (…, nh, 3·hs) and chunks the last axis in three, so the rows run head by head, each
    head's q, k and v rows together: regroup them as all q rows, then all k, then all v."""
    rows = fused.shape[0]
    per_head = fused.reshape(n_head, 3, rows // (3 * n_head), *fused.shape[1:])  # (nh, 3, hs, …)
    return torch.cat([per_head[:, j].reshape(rows // 3, *fused.shape[1:]) for j in range(3)])


def _layernorm(out: dict, ours: str, hf: dict, theirs: str) -> None:
    out[ours + ".weight"], out[ours + ".bias"] = hf[theirs + ".weight"], hf[theirs + ".bias"]


def _neox_state(arch: Architecture, hf: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """GPT-NeoX's names -> ours."""
    out = {"embed.wte.weight": hf["gpt_neox.embed_in.weight"],
           "lm_head.weight": hf["gpt_neox.embed_in.weight"] if arch.tied else hf["lm_head.weight"]}
    _layernorm(out, "norm_f", hf, "gpt_neox.final_layer_norm")
    for i in range(arch.n_layer):
        p, o = f"gpt_neox.layers.{i}.", f"blocks.{i}."
        for n in ("weight", "bias"):
            fused = hf[p + f"attention.query_key_value.{n}"]
            out[o + f"attn.qkv.{n}"] = _neox_qkv(fused, arch.n_head)
            out[o + f"attn.proj.{n}"] = hf[p + f"attention.dense.{n}"]
            out[o + f"ffn.fc1.{n}"] = hf[p + f"mlp.dense_h_to_4h.{n}"]
            out[o + f"ffn.fc2.{n}"] = hf[p + f"mlp.dense_4h_to_h.{n}"]
        _layernorm(out, o + "norm1", hf, p + "input_layernorm")
        _layernorm(out, o + "norm2", hf, p + "post_attention_layernorm")
    return out


def _phi_state(arch: Architecture, hf: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Phi's names -> ours (one shared norm a block; the head has a bias)."""
    out = {"embed.wte.weight": hf["model.embed_tokens.weight"],
           "lm_head.weight": hf["model.embed_tokens.weight"] if arch.tied else hf["lm_head.weight"],
           "lm_head.bias": hf["lm_head.bias"]}
    _layernorm(out, "norm_f", hf, "model.final_layernorm")
    for i in range(arch.n_layer):
        p, o = f"model.layers.{i}.", f"blocks.{i}."
        for n in ("weight", "bias"):
            out[o + f"attn.qkv.{n}"] = torch.cat([hf[p + f"self_attn.{x}_proj.{n}"]
                                                  for x in "qkv"])
            out[o + f"attn.proj.{n}"] = hf[p + f"self_attn.dense.{n}"]
            out[o + f"ffn.fc1.{n}"] = hf[p + f"mlp.fc1.{n}"]
            out[o + f"ffn.fc2.{n}"] = hf[p + f"mlp.fc2.{n}"]
        _layernorm(out, o + "norm1", hf, p + "input_layernorm")
    return out


def our_state(arch: Architecture, hf: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Hugging Face's names -> ours (Wq | Wk | Wv side by side in one matrix)."""
    if arch.family == "gpt_neox":
        return _neox_state(arch, hf)
    if arch.family == "phi":
        return _phi_state(arch, hf)
    out = {"embed.wte.weight": hf["model.embed_tokens.weight"],
           "norm_f.weight": hf["model.norm.weight"],
           "lm_head.weight": hf["model.embed_tokens.weight"] if arch.tied else hf["lm_head.weight"]}
    for i in range(arch.n_layer):
        p, o = f"model.layers.{i}.", f"blocks.{i}."
        a = p + "self_attn."
        out[o + "attn.qkv.weight"] = torch.cat([hf[a + f"{n}_proj.weight"] for n in "qkv"])
        if arch.qkv_bias:
            out[o + "attn.qkv.bias"] = torch.cat([hf[a + f"{n}_proj.bias"] for n in "qkv"])
        out[o + "attn.proj.weight"] = hf[a + "o_proj.weight"]
        if arch.out_bias:
            out[o + "attn.proj.bias"] = hf[a + "o_proj.bias"]
        if arch.qk_norm:
            out[o + "attn.qnorm.weight"] = hf[a + "q_norm.weight"]
            out[o + "attn.knorm.weight"] = hf[a + "k_norm.weight"]
        for ours, theirs in (("gate", "gate_proj"), ("up", "up_proj"), ("down", "down_proj")):
            out[o + f"ffn.{ours}.weight"] = hf[p + f"mlp.{theirs}.weight"]
            if arch.mlp_bias:
                out[o + f"ffn.{ours}.bias"] = hf[p + f"mlp.{theirs}.bias"]
        out[o + "norm1.weight"] = hf[p + "input_layernorm.weight"]
        if arch.sandwich:  # Gemma 2/3: a norm before and after each part
            out[o + "norm_pa.weight"] = hf[p + "post_attention_layernorm.weight"]
            out[o + "norm2.weight"] = hf[p + "pre_feedforward_layernorm.weight"]
            out[o + "norm_pf.weight"] = hf[p + "post_feedforward_layernorm.weight"]
        else:
            out[o + "norm2.weight"] = hf[p + "post_attention_layernorm.weight"]
    return out


def build_family_model(arch: Architecture, hf: dict[str, torch.Tensor], where: str
                       ) -> tuple[GPT, ModelConfig]:
    """Our model with a family's weights (names and shapes already checked)."""
    cfg = model_config(arch, where)
    model = GPT(cfg, init_weights=False)
    # assign: the tensors just read become the model's, rather than being copied into it
    # (one float32 copy of the weights in memory instead of two: 2 GB at 0.5B parameters).
    missing, unexpected = model.load_state_dict(our_state(arch, hf), strict=False, assign=True)
    model.tie()  # assign replaced the token table the output projection was tied to
    missing = [k for k in missing if not k.endswith("lm_head.weight") or not cfg.tied]
    if missing or unexpected:  # the table and the model disagree: a bug, said plainly
        raise CheckpointError(f"'{where}': weights do not fit the model ({(missing or unexpected)[0]})")
    return model.eval(), cfg


def _checkpoint(model: GPT, cfg: ModelConfig, tokenizer: FullTokenizer, path: Path,
                metadata: dict, device: str | torch.device) -> Checkpoint:
    model.to(resolve_device(device)).eval()
    return Checkpoint(model=model, tokenizer=tokenizer, model_config=cfg, train_config=None,
                      step=0, history=[], trainer_state=None, path=path,
                      metadata={"origin": ORIGIN, "tokenizer": tokenizer.name, **metadata},
                      origin=ORIGIN)


def _tokenizer(base: TokenizerJsonBase, rows: int) -> FullTokenizer:
    try:
        return FullTokenizer(base, rows)
    except ValueError as e:
        raise CheckpointError(str(e)) from None


def read_family_folder(folder: Path, device: str | torch.device = "cpu") -> Checkpoint:
    """A Hugging Face folder of one of the families (config.json, safetensors, tokenizer.json)."""
    try:
        hf_config = read_config_json(folder)
        arch = architecture_from_config(hf_config, folder.name)
        # Refuse what is not built, or cannot fit in free memory (the weights read as float32,
        # then the model's own copy), before reading weights.
        check_model_fits(model_config(arch, folder.name), folder.name, copies=2)
        files = safetensor_files(folder)
        state = read_safetensors(files, arch, folder.name)
        if not (folder / "tokenizer.json").is_file():
            raise CheckpointError(f"'{folder.name}' has no tokenizer.json; its own tokenizer "
                                  "is needed to read text the way the model does")
        base = read_tokenizer_json(folder / "tokenizer.json")
    except (ArchitectureError, FolderError, TokenizerJsonError) as e:
        raise CheckpointError(str(e)) from None
    model, cfg = build_family_model(arch, state, folder.name)
    return _checkpoint(model, cfg, _tokenizer(base, cfg.vocab_size), folder,
                       {"source": str(files[0]), "family": arch.family,
                        "architecture": arch.to_dict(), "quantization": {}}, device)


def read_gguf_checkpoint(path: Path, device: str | torch.device = "cpu") -> Checkpoint:
    """A GGUF file (llama.cpp, Ollama, LM Studio) of one of the families."""
    try:
        got = read_gguf(path, before_reading=lambda arch: check_model_fits(
            model_config(arch, path.name), path.name, copies=2))  # as a folder's, above
        if got.tokenizer_json is None:
            raise CheckpointError(f"'{path.name}' has no vocabulary of its own")
        base = TokenizerJsonBase(path.name, got.tokenizer_json, from_gguf=True)
    except (ArchitectureError, GgufError, TokenizerJsonError) as e:
        raise CheckpointError(str(e)) from None
    try:
        model, cfg = build_family_model(got.arch, got.state, path.name)
    except ArchitectureError as e:
        raise CheckpointError(str(e)) from None
    return _checkpoint(model, cfg, _tokenizer(base, cfg.vocab_size), path,
                       {"source": str(path), "family": got.arch.family,
                        "architecture": got.arch.to_dict(), "quantization": got.quantization,
                        "quantized": got.quantized}, device)
