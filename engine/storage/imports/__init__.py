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
from engine.storage.imports.huggingface import read_huggingface
from engine.storage.imports.nanogpt import read_nanogpt
from engine.storage.imports.vocab import TokenizerNeeded

__all__ = ["open_model", "model_info", "ACCEPTED", "TokenizerNeeded", "CheckpointError"]

ACCEPTED = ("accepted are a Transformer Explorer model (.safetensors), a nanoGPT checkpoint "
            "(ckpt.pt) and a Hugging Face GPT-2 folder (config.json with model.safetensors or "
            "pytorch_model.bin)")
_VOCAB_NAMES = ("meta.pkl", "vocab.json", "merges.txt", "tokenizer.json")


def _folder(path: Path, device: str | torch.device,
            tokenizer_from: str | Path | None) -> Checkpoint:
    if (path / "config.json").is_file():
        return read_huggingface(path, device, tokenizer_from)
    if classify(path / DEFAULT_NAME) == "checkpoint":
        return load_checkpoint(path / DEFAULT_NAME, device)
    if (path / "ckpt.pt").is_file():
        return read_nanogpt(path / "ckpt.pt", device, tokenizer_from)
    raise CheckpointError(f"'{path.name}' is a folder with no model in it; {ACCEPTED}")


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
        return read_huggingface(path.parent, device, tokenizer_from)
    if name in _VOCAB_NAMES:  # never unpickled here: a vocabulary is not a model
        raise CheckpointError(f"'{name}' is a vocabulary, not a model; open the model beside "
                              "it (its vocabulary is found there)")
    kind = classify(path)
    if kind == "checkpoint":
        return load_checkpoint(path, device)
    hf_beside = (path.parent / "config.json").is_file()
    if kind == "safetensors":
        if hf_beside:
            return read_huggingface(path, device, tokenizer_from)
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
