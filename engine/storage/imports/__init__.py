"""Opening any model the app can show: ours, a nanoGPT run, or a Hugging Face GPT-2.

`open_model` tells the formats apart by their bytes and file names (engine.text.filetype) before
reading anything, and reads PyTorch files with torch's weights_only (tensors and plain values
only), meta.pkl with an unpickler that refuses every Python object, so no file runs code.
Anything else gets one line saying what it is and what is accepted.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from engine.storage.checkpoint import (DEFAULT_NAME, Checkpoint, CheckpointError, checkpoint_info,
                          load_checkpoint)
from engine.text.filetype import classify, not_regular, special_kind
from engine.storage.imports.family_model import read_family_folder, read_gguf_checkpoint
from engine.storage.imports.hf_files import FolderError, read_config_json
from engine.storage.imports.huggingface import read_huggingface
from engine.storage.imports.nanogpt import read_nanogpt
from engine.storage.imports.vocab import TokenizerNeeded

__all__ = ["open_model", "model_info", "ACCEPTED", "TokenizerNeeded", "CheckpointError"]

ACCEPTED = ("accepted are a Transformer Explorer model (.safetensors), a nanoGPT checkpoint "
            "(ckpt.pt), a Hugging Face folder (config.json with its weights: GPT-2, Llama, "
            "Mistral, Qwen2, Qwen3) and a GGUF file")


def _hf(folder: Path, device: str | torch.device, tokenizer_from: str | Path | None,
        chosen: Path | None = None) -> Checkpoint:
    """A Hugging Face folder: GPT-2 by its own reader, the other families by theirs."""
    try:
        kind = read_config_json(folder).get("model_type")
    except FolderError as e:
        raise CheckpointError(str(e)) from None
    if kind == "gpt2":
        return read_huggingface(chosen or folder, device, tokenizer_from)
    return read_family_folder(folder, device)
_VOCAB_NAMES = ("meta.pkl", "vocab.json", "merges.txt", "tokenizer.json")


def _folder(path: Path, device: str | torch.device,
            tokenizer_from: str | Path | None) -> Checkpoint:
    if (path / "config.json").is_file():
        return _hf(path, device, tokenizer_from)
    if classify(path / DEFAULT_NAME) == "checkpoint":
        return load_checkpoint(path / DEFAULT_NAME, device)
    if (path / "ckpt.pt").is_file():
        return read_nanogpt(path / "ckpt.pt", device, tokenizer_from)
    raise CheckpointError(f"'{path.name}' is a folder with no model in it; {ACCEPTED}")


def _is_gguf(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"GGUF"
    except OSError:
        return False


def open_model(
    path: str | Path, device: str | torch.device = "cpu", *,
    tokenizer_from: str | Path | None = None,
) -> Checkpoint:
    """Any supported model as a Checkpoint (imported ones: origin "nanogpt" or "huggingface",
    no training state). `tokenizer_from` names the vocabulary when the file has none (a
    meta.pkl, GPT-2's vocab.json/merges.txt or tokenizer.json, or their folder). Raises
    CheckpointError with one line; TokenizerNeeded when a vocabulary must be chosen."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"'{path}' does not exist; {ACCEPTED}")
    if path.is_dir():
        return _folder(path, device, tokenizer_from)
    special = special_kind(path)
    if special is not None:  # asked before anything opens it: a FIFO would wait for ever
        raise CheckpointError(str(not_regular(path, special)))
    name = path.name
    if name == "config.json":
        return _hf(path.parent, device, tokenizer_from)
    if path.suffix.lower() == ".gguf" or _is_gguf(path):
        return read_gguf_checkpoint(path, device)
    if name in _VOCAB_NAMES:  # never unpickled here: a vocabulary is not a model
        raise CheckpointError(f"'{name}' is a vocabulary, not a model; open the model beside "
                              "it (its vocabulary is found there)")
    kind = classify(path)
    if kind == "checkpoint":
        return load_checkpoint(path, device)
    hf_beside = (path.parent / "config.json").is_file()
    if kind == "safetensors":
        if hf_beside:
            return _hf(path.parent, device, tokenizer_from, chosen=path)
        raise CheckpointError(f"'{name}' is a safetensors file from another program with no "
                              f"config.json beside it; {ACCEPTED}")
    if kind in ("zip", "pickle"):
        if hf_beside and name != "ckpt.pt":
            return read_huggingface(path, device, tokenizer_from)
        return read_nanogpt(path, device, tokenizer_from)
    if kind == "empty":
        raise CheckpointError(f"'{name}' is empty (0 bytes); it is not a model")
    raise CheckpointError(f"'{name}' is not a model file; {ACCEPTED}")


def model_info(path: str | Path, *, tokenizer_from: str | Path | None = None) -> dict[str, Any]:
    """A summary of any supported model (our own file: checkpoint_info, verified)."""
    path = Path(path)
    ours = path / DEFAULT_NAME if path.is_dir() else path
    if classify(ours) == "checkpoint" and not (path.is_dir() and (path / "config.json").is_file()):
        return {"origin": "transformer-explorer", **checkpoint_info(ours, verify=True)}
    ckpt = open_model(path, tokenizer_from=tokenizer_from)
    meta = ckpt.metadata
    return {
        "origin": ckpt.origin, "path": str(ckpt.path), "source": meta.get("source"),
        "step": ckpt.step, "parameters": ckpt.model.num_params(),
        "model_config": ckpt.model_config.to_dict(),
        "tokenizer": {"name": ckpt.tokenizer.name, "vocab_size": ckpt.tokenizer.vocab_size,
                      "tokens": int(len(ckpt.tokenizer.vocab))},
        "best_val_loss": meta.get("best_val_loss"), "resumable": False,
    }


def training_start(
    resume: str | Path | None, init_from: str | Path | None,
    tokenizer_from: str | Path | None = None,
) -> Checkpoint | None:
    """The model a `train` run starts from: `resume` continues (with its training state, when
    it has one), `init_from` fine-tunes (its weights, tokenizer and config; a new optimizer)."""
    if resume and init_from:
        raise ValueError("give --resume (continue a run) or --init-from (fine-tune a model), "
                         "not both")
    source = resume or init_from
    if not source:
        return None
    ckpt = open_model(source, tokenizer_from=tokenizer_from)
    if init_from:
        ckpt.trainer_state, ckpt.history, ckpt.step = None, [], 0
    return ckpt
