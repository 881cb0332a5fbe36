"""Hugging Face GPT-2 folders: config.json + model.safetensors (or pytorch_model.bin).

GPT-2 is our pre-norm decoder with learned positions, tied embeddings, d_ff = n_inner (None:
4·n_embd) and the tanh GELU ("gelu_new"); its Conv1D weights are transposed on the way in.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import safetensors
import safetensors.torch
import torch

from engine.text.bpe import bpe_files_in
from engine.text.filetype import open_regular
from engine.storage.checkpoint import Checkpoint, CheckpointError, check_model_fits
from engine.config import ConfigError, ModelConfig
from engine.devices import resolve_device
from engine.wording import said_of, say
from engine.storage.imports.torchfile import load_torch
from engine.storage.imports.vocab import installed_gpt2, needed, tokenizer_at
from engine.storage.imports.weights import build_model, head_is_tied

ORIGIN = "huggingface"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
# HF activation names -> ours.
ACTIVATIONS = {"gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh", "gelu_fast": None,
               "gelu": "gelu", "relu": "relu"}


def read_config(folder: Path) -> dict[str, Any]:
    """config.json of a Hugging Face folder; CheckpointError if absent or not GPT-2."""
    path = folder / "config.json"
    try:
        with open_regular(path) as f:  # a FIFO is refused, not waited on
            data = json.loads(f.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        reason = " ".join(str(e).split())[:160] or type(e).__name__
        raise CheckpointError(f"'{folder.name}/config.json' could not be read ({reason})") \
            from None
    if not isinstance(data, dict):
        raise CheckpointError(f"'{folder.name}/config.json' is not a model configuration")
    kind = data.get("model_type")
    if kind != "gpt2":
        archs = ", ".join(data.get("architectures") or []) or "no architecture named"
        raise CheckpointError(
            f"'{folder.name}' is a Hugging Face {kind or 'unknown'} model ({archs}); only GPT-2 "
            "models (model_type \"gpt2\") can be opened")
    return data


def model_config(hf: dict[str, Any], name: str) -> ModelConfig:
    """Our ModelConfig of a GPT-2 config.json; CheckpointError for what we cannot run."""
    act = ACTIVATIONS.get(hf.get("activation_function", "gelu_new"))
    if act is None:
        raise CheckpointError(f"'{name}': activation {hf.get('activation_function')!r} is not "
                              "supported (gelu_new, gelu_pytorch_tanh, gelu or relu)")
    for key, default in (("scale_attn_weights", True), ("scale_attn_by_inverse_layer_idx", False),
                         ("add_cross_attention", False)):
        if bool(hf.get(key, default)) != default:
            raise CheckpointError(f"'{name}': {key}={hf.get(key)} changes attention in a way "
                                  "this program does not model")
    try:
        C = _whole(hf, "n_embd", 768)
        cfg = ModelConfig(
            vocab_size=_whole(hf, "vocab_size", 50257), d_model=C,
            n_head=_whole(hf, "n_head", 12), n_layer=_whole(hf, "n_layer", 12),
            context_length=(_whole(hf, "n_positions", None, nullable=True)
                            or _whole(hf, "n_ctx", 1024, nullable=True)),
            d_ff=_whole(hf, "n_inner", None, nullable=True) or 4 * C,  # null: 4 x n_embd
            dropout=_number(hf, "resid_pdrop", 0.1), positional="learned", activation=act,
            norm="pre", tied=bool(hf.get("tie_word_embeddings", True)), bias=True,
            ln_eps=_number(hf, "layer_norm_epsilon", 1e-5),
        ).validate()
    except (ConfigError, TypeError, ValueError) as e:
        raise CheckpointError(say("checkpoint.unrunnable_config", name=name,
                                  problem=said_of(e) or str(e))) from None
    # Before anything is read or built: the file's config alone says what the weights need
    # (the state dict read from the file, then the model's own copy).
    check_model_fits(cfg, name, copies=2)
    return cfg


def _whole(hf: dict[str, Any], key: str, default: int | None,
           nullable: bool = False) -> int | None:
    """A config.json count: a whole JSON number (absent, or null where GPT-2 allows it: the
    default); ConfigError otherwise."""
    value = hf.get(key)
    if key not in hf or (value is None and nullable):
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(key, say("config.whole_number", value=value))
    return value


def _number(hf: dict[str, Any], key: str, default: float) -> float:
    value = hf.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(key, say("config.number", value=value))
    return float(value)


def _weights(folder: Path, chosen: Path | None) -> tuple[dict[str, torch.Tensor], Path]:
    candidates = [chosen] if chosen is not None else [folder / n for n in WEIGHT_FILES]
    index = folder / "model.safetensors.index.json"
    if chosen is None and not any(p.is_file() for p in candidates) and index.is_file():
        state: dict[str, torch.Tensor] = {}
        try:  # a sharded model: the index names the files
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
            for shard in sorted(set(weight_map.values())):
                state.update(safetensors.torch.load_file(str(folder / Path(shard).name),
                                                         device="cpu"))
        except (OSError, ValueError, KeyError, TypeError, AttributeError,
                safetensors.SafetensorError) as e:
            raise CheckpointError(f"'{index.name}' names shards that cannot be read "
                                  f"({' '.join(str(e).split())[:160]})") from None
        return state, index
    for path in candidates:
        if not path.is_file():
            continue
        if path.suffix == ".safetensors":
            try:
                return safetensors.torch.load_file(str(path), device="cpu"), path
            except (safetensors.SafetensorError, OSError, RuntimeError, ValueError) as e:
                raise CheckpointError(f"'{path.name}' is corrupt ({e})") from None
        state = load_torch(path)
        if not isinstance(state, dict):
            raise CheckpointError(f"'{path.name}' is not a state dict")
        return state, path
    raise CheckpointError(f"'{folder.name}' has config.json but no weights ("
                          f"{' or '.join(WEIGHT_FILES)})")


def read_huggingface(
    path: Path, device: str | torch.device = "cpu", tokenizer_from: str | Path | None = None
) -> Checkpoint:
    """A Hugging Face GPT-2 folder (or one of its files) as a Checkpoint with its own BPE."""
    folder = path if path.is_dir() else path.parent
    chosen = path if path.is_file() and path.name != "config.json" else None
    hf = read_config(folder)
    cfg = model_config(hf, f"{folder.name}/config.json")
    state, weights_path = _weights(folder, chosen)
    if cfg.tied and not head_is_tied(state):  # a file whose head was trained apart after all
        cfg = ModelConfig.from_dict({**cfg.to_dict(), "tied": False})
    model = build_model(cfg, state, conv1d=True, source=weights_path.name)
    if tokenizer_from is not None:
        tokenizer = tokenizer_at(tokenizer_from, cfg.vocab_size)
    elif bpe_files_in(folder):
        tokenizer = tokenizer_at(folder, cfg.vocab_size)
    else:
        tokenizer = installed_gpt2(cfg.vocab_size) if cfg.vocab_size >= 50257 else None
        if tokenizer is None:
            raise needed(f"'{folder.name}'", cfg.vocab_size, may_be_chars=False)
    model.to(resolve_device(device)).eval()
    return Checkpoint(
        model=model, tokenizer=tokenizer, model_config=cfg, train_config=None, step=0,
        history=[], trainer_state=None, path=folder,
        metadata={"origin": ORIGIN, "source": str(weights_path), "hf_config": hf,
                  "tokenizer": tokenizer.name},
        origin=ORIGIN,
    )
