"""GPT-2's parameter names -> ours: the one table both nanoGPT and Hugging Face files use.

nanoGPT copied GPT-2's module names (`transformer.h.0.attn.c_attn`), but stores nn.Linear
weights as (out, in) as we do; Hugging Face's GPT-2 uses Conv1D, whose weights are (in, out).
Every foreign key must be used and every one of ours filled, with the shape our config expects.
"""
from __future__ import annotations

import re

import torch

from engine.storage.checkpoint import CheckpointError, check_model_fits
from engine.config import ModelConfig
from engine.model.decoder import GPT, param_count

# Per block: GPT-2 suffix -> ours.
BLOCK_NAMES = {
    "ln_1.weight": "norm1.weight", "ln_1.bias": "norm1.bias",
    "attn.c_attn.weight": "attn.qkv.weight", "attn.c_attn.bias": "attn.qkv.bias",
    "attn.c_proj.weight": "attn.proj.weight", "attn.c_proj.bias": "attn.proj.bias",
    "ln_2.weight": "norm2.weight", "ln_2.bias": "norm2.bias",
    "mlp.c_fc.weight": "ffn.fc1.weight", "mlp.c_fc.bias": "ffn.fc1.bias",
    "mlp.c_proj.weight": "ffn.fc2.weight", "mlp.c_proj.bias": "ffn.fc2.bias",
}
TOP_NAMES = {
    "wte.weight": "embed.wte.weight", "wpe.weight": "embed.wpe.weight",
    "ln_f.weight": "norm_f.weight", "ln_f.bias": "norm_f.bias",
}
# The Conv1D weights: stored (in, out) by Hugging Face.
CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
# Buffers older GPT-2 files carry (the causal mask and its fill value): rebuilt, not read.
IGNORED = (".attn.bias", ".attn.masked_bias")

_BLOCK_KEY = re.compile(r"^h\.(\d+)\.(.+)$")


def our_name(key: str) -> tuple[str, bool] | None:
    """(our parameter name, is a Conv1D weight) of a GPT-2 key without 'transformer.', or None."""
    if key in TOP_NAMES:
        return TOP_NAMES[key], False
    found = _BLOCK_KEY.match(key)
    if found and found.group(2) in BLOCK_NAMES:
        suffix = found.group(2)
        return f"blocks.{found.group(1)}.{BLOCK_NAMES[suffix]}", suffix in CONV1D
    return None


def strip_prefix(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """Keys without `prefix` where it is there (nanoGPT's `_orig_mod.` after torch.compile)."""
    return {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in state.items()}


def build_model(
    cfg: ModelConfig, state: dict[str, torch.Tensor], *, conv1d: bool, source: str
) -> GPT:
    """Our GPT with the weights of a GPT-2-named state dict (keys with or without
    'transformer.'); CheckpointError naming the first key or shape that does not fit."""
    state = strip_prefix(state, "transformer.")
    head = state.pop("lm_head.weight", None)
    weights: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        if key.endswith(IGNORED):
            continue
        mapped = our_name(key)
        if mapped is None:
            raise CheckpointError(f"'{source}' has a weight GPT-2 does not: {key!r}")
        name, transpose = mapped
        if not isinstance(tensor, torch.Tensor):
            raise CheckpointError(f"'{source}': {key!r} is not a tensor")
        weights[name] = (tensor.t() if conv1d and transpose else tensor).float().contiguous()
    # The file's config alone does not say how much the model will take: its weights must
    # add up to what the config describes before a model of that size is built.
    stored = sum(t.numel() for t in weights.values())
    if not cfg.tied and isinstance(head, torch.Tensor):
        stored += head.numel()
    expected = param_count(cfg)
    if stored != expected:
        raise CheckpointError(
            f"'{source}' does not match its configuration: the configuration describes "
            f"{expected:,} weights (n_layer {cfg.n_layer:,}, d_model {cfg.d_model:,}, "
            f"vocab_size {cfg.vocab_size:,}), the file holds {stored:,} weights")
    check_model_fits(cfg, source)
    with torch.random.fork_rng(devices=[]):  # nn.Linear still draws weights: keep the stream
        model = GPT(cfg, init_weights=False)  # every weight is replaced below
    if cfg.tied:
        weights["lm_head.weight"] = weights.get("embed.wte.weight")
    elif head is not None:
        weights["lm_head.weight"] = head.float().contiguous()
    expected = model.state_dict()
    missing = [k for k in expected if weights.get(k) is None]
    if missing:
        raise CheckpointError(f"'{source}' lacks the weight for {missing[0]!r} "
                              f"({len(missing)} missing)")
    extra = [k for k in weights if k not in expected]
    if extra:
        raise CheckpointError(f"'{source}' has a weight this configuration has no place for: "
                              f"{extra[0]!r}")
    for key, t in expected.items():
        if tuple(weights[key].shape) != tuple(t.shape):
            raise CheckpointError(f"'{source}': {key} has shape {tuple(weights[key].shape)}, "
                                  f"its configuration needs {tuple(t.shape)}")
    model.load_state_dict(weights, strict=True)
    return model


def head_is_tied(state: dict[str, torch.Tensor]) -> bool:
    """True when a state dict's lm_head is absent or equal to its token table."""
    state = strip_prefix(state, "transformer.")
    head, wte = state.get("lm_head.weight"), state.get("wte.weight")
    return head is None or (wte is not None and head.shape == wte.shape
                            and bool(torch.equal(head, wte)))
