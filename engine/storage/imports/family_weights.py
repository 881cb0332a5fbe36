"""The weights a family's Hugging Face checkpoint holds: every name and shape expected from its
Architecture, read from safetensors with each shape checked before its data is loaded.

GGUF files are translated to the same names (engine.storage.imports.gguf), so one table
serves both; the model's own parameter names are mapped from these at build time.
"""
from __future__ import annotations

from pathlib import Path

import safetensors
import torch

from engine.storage.imports.families import Architecture
from engine.storage.imports.hf_files import FolderError

# Buffers some checkpoints carry that are rebuilt, not read.
IGNORED = ("rotary_emb.inv_freq", "attention.bias", "attention.masked_bias")
# Older names of the same tensor (GPT-NeoX's head was embed_out before transformers 5).
ALIASES = {"embed_out.weight": "lm_head.weight"}


def _llama_like(a: Architecture) -> dict[str, tuple[int, ...]]:
    C, hd, F = a.d_model, a.head_dim, a.d_ff
    q, kv = a.n_head * hd, a.n_kv_head * hd
    out: dict[str, tuple[int, ...]] = {"model.embed_tokens.weight": (a.vocab_size, C),
                                       "model.norm.weight": (C,)}
    for i in range(a.n_layer):
        p = f"model.layers.{i}."
        out.update({p + "self_attn.q_proj.weight": (q, C), p + "self_attn.k_proj.weight": (kv, C),
                    p + "self_attn.v_proj.weight": (kv, C), p + "self_attn.o_proj.weight": (C, q),
                    p + "mlp.gate_proj.weight": (F, C), p + "mlp.up_proj.weight": (F, C),
                    p + "mlp.down_proj.weight": (C, F), p + "input_layernorm.weight": (C,),
                    p + "post_attention_layernorm.weight": (C,)})
        if a.qkv_bias:
            out.update({p + "self_attn.q_proj.bias": (q,), p + "self_attn.k_proj.bias": (kv,),
                        p + "self_attn.v_proj.bias": (kv,)})
        if a.out_bias:
            out[p + "self_attn.o_proj.bias"] = (C,)
        if a.mlp_bias:
            out.update({p + "mlp.gate_proj.bias": (F,), p + "mlp.up_proj.bias": (F,),
                        p + "mlp.down_proj.bias": (C,)})
        if a.qk_norm:
            out.update({p + "self_attn.q_norm.weight": (hd,), p + "self_attn.k_norm.weight": (hd,)})
        if a.sandwich:
            out.update({p + "pre_feedforward_layernorm.weight": (C,),
                        p + "post_feedforward_layernorm.weight": (C,)})
    if not a.tied:
        out["lm_head.weight"] = (a.vocab_size, C)
    return out


def _neox(a: Architecture) -> dict[str, tuple[int, ...]]:
    C, F = a.d_model, a.d_ff
    out: dict[str, tuple[int, ...]] = {
        "gpt_neox.embed_in.weight": (a.vocab_size, C), "gpt_neox.final_layer_norm.weight": (C,),
        "gpt_neox.final_layer_norm.bias": (C,)}
    if not a.tied:
        out["lm_head.weight"] = (a.vocab_size, C)
    for i in range(a.n_layer):
        p = f"gpt_neox.layers.{i}."
        for n in ("input_layernorm", "post_attention_layernorm"):
            out.update({p + n + ".weight": (C,), p + n + ".bias": (C,)})
        out.update({p + "attention.query_key_value.weight": (3 * C, C),
                    p + "attention.query_key_value.bias": (3 * C,),
                    p + "attention.dense.weight": (C, C), p + "attention.dense.bias": (C,),
                    p + "mlp.dense_h_to_4h.weight": (F, C), p + "mlp.dense_h_to_4h.bias": (F,),
                    p + "mlp.dense_4h_to_h.weight": (C, F), p + "mlp.dense_4h_to_h.bias": (C,)})
    return out


def _phi(a: Architecture) -> dict[str, tuple[int, ...]]:
    C, F, hd = a.d_model, a.d_ff, a.head_dim
    q, kv = a.n_head * hd, a.n_kv_head * hd
    out: dict[str, tuple[int, ...]] = {
        "model.embed_tokens.weight": (a.vocab_size, C), "model.final_layernorm.weight": (C,),
        "model.final_layernorm.bias": (C,), "lm_head.bias": (a.vocab_size,)}
    if not a.tied:  # tied, the head's matrix is the token table; its bias is its own
        out["lm_head.weight"] = (a.vocab_size, C)
    for i in range(a.n_layer):
        p = f"model.layers.{i}."
        out.update({p + "input_layernorm.weight": (C,), p + "input_layernorm.bias": (C,),
                    p + "self_attn.dense.weight": (C, q), p + "self_attn.dense.bias": (C,),
                    p + "mlp.fc1.weight": (F, C), p + "mlp.fc1.bias": (F,),
                    p + "mlp.fc2.weight": (C, F), p + "mlp.fc2.bias": (C,)})
        for n, rows in (("q_proj", q), ("k_proj", kv), ("v_proj", kv)):
            out.update({p + f"self_attn.{n}.weight": (rows, C), p + f"self_attn.{n}.bias": (rows,)})
    return out


def expected_weights(arch: Architecture) -> dict[str, tuple[int, ...]]:
    """Every tensor name a checkpoint of `arch` holds, with its shape."""
    if arch.family == "gpt_neox":
        return _neox(arch)
    if arch.family == "phi":
        return _phi(arch)
    return _llama_like(arch)


def check_weights(arch: Architecture, shapes: dict[str, tuple[int, ...]], where: str) -> None:
    """FolderError naming the first tensor missing, unexpected or of the wrong shape."""
    want = expected_weights(arch)
    shapes = {ALIASES.get(k, k): v for k, v in shapes.items()}
    if arch.tied:  # a tied model may still carry a copy of its head
        shapes = {k: v for k, v in shapes.items() if k != "lm_head.weight"}
    for name, shape in want.items():
        if name not in shapes:
            raise FolderError(f"'{where}' has no tensor {name!r}, which a {arch.family} model "
                              "of this config needs")
        if tuple(shapes[name]) != shape:
            raise FolderError(f"'{where}': tensor {name!r} is {list(shapes[name])}, the config "
                              f"needs {list(shape)}")
    extra = [k for k in shapes if k not in want and not k.endswith(IGNORED)]
    if extra:
        raise FolderError(f"'{where}' has a tensor this {arch.family} config does not explain "
                          f"({extra[0]!r})")


def read_safetensors(files: list[Path], arch: Architecture, where: str) -> dict[str, torch.Tensor]:
    """The float32 tensors of `files`, their names and shapes checked against `arch` from the
    headers before any data is read."""
    handles = []
    shapes: dict[str, tuple[int, ...]] = {}
    owner: dict[str, int] = {}
    stored: dict[str, str] = {}  # our name -> the name in the file
    try:
        for n, path in enumerate(files):
            f = safetensors.safe_open(str(path), framework="pt", device="cpu")
            handles.append(f)
            for key in f.keys():
                name = ALIASES.get(key, key)
                if name in owner:
                    raise FolderError(f"'{where}': tensor {key!r} is in two shards")
                shapes[name] = tuple(f.get_slice(key).get_shape())
                owner[name] = n
                stored[name] = key
        check_weights(arch, shapes, where)
        want = expected_weights(arch)
        return {k: handles[owner[k]].get_tensor(stored[k]).to(torch.float32) for k in want}
    except (safetensors.SafetensorError, OSError, RuntimeError, ValueError) as e:
        if isinstance(e, FolderError):
            raise
        raise FolderError(f"'{where}': the weights could not be read "
                          f"({' '.join(str(e).split())[:160]})") from None
