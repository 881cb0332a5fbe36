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

from engine.config import ModelConfig
from engine.devices import resolve_device
from engine.model.decoder import GPT
from engine.storage.checkpoint import Checkpoint, CheckpointError, check_model_fits
from engine.storage.imports.families import Architecture, ArchitectureError, \
    architecture_from_config, model_config
from engine.storage.imports.family_weights import our_state, read_safetensors
from engine.storage.imports.gguf import read_gguf
from engine.storage.imports.gguf_header import GgufError
from engine.storage.imports.hf_files import FolderError, read_config_json, safetensor_files
from engine.text.fullvocab import FullTokenizer
from engine.text.tokenizer_json import TokenizerJsonBase, TokenizerJsonError, \
    read_tokenizer_json

ORIGIN = "huggingface"


def build_family_model(arch: Architecture, hf: dict[str, torch.Tensor], where: str
                       ) -> tuple[GPT, ModelConfig]:
    """Our model with a family's weights (names and shapes already checked)."""
    cfg = model_config(arch, where)
    model = GPT(cfg, init_weights=False)
    # assign: the tensors just read become the model's, rather than being copied into it
    # (one float32 copy of the weights in memory instead of two: 2 GB at 0.5B parameters).
    missing, unexpected = model.load_state_dict(our_state(cfg, hf), strict=False, assign=True)
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
