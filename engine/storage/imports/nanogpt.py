"""nanoGPT checkpoints: the `ckpt.pt` karpathy/nanoGPT's train.py writes.

A dict with `model_args` (n_layer, n_head, n_embd, block_size, bias, vocab_size, dropout), the
`model` state dict (GPT-2's names, nn.Linear weights as (out, in), `_orig_mod.` before every key
when trained with compile=True), `iter_num`, `best_val_loss`, `config` and `optimizer`. nanoGPT's
model is GPT-2's shape with the exact GELU and LayerNorm ε = 1e-5; its vocabulary is a
`meta.pkl` in data/<dataset>/ for character runs, else GPT-2's BPE (table padded to 50,304).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from engine.storage.checkpoint import Checkpoint, CheckpointError
from engine.config import ConfigError, ModelConfig
from engine.devices import resolve_device
from engine.wording import said_of, say
from engine.text.fullvocab import FullTokenizer
from engine.storage.imports.torchfile import load_torch
from engine.storage.imports.vocab import GPT2_IDS, installed_gpt2, meta_tokenizer, needed, tokenizer_at
from engine.storage.imports.weights import build_model, strip_prefix

ORIGIN = "nanogpt"
COMPILED_PREFIX = "_orig_mod."  # torch.compile's wrapper, saved into every key
_PARENTS_SEARCHED = 4  # out_dir is usually beside data/, at most a few folders down


MODEL_ARGS = ("n_layer", "n_head", "n_embd", "block_size", "bias", "vocab_size", "dropout")


def _model_config(args: dict[str, Any], name: str) -> ModelConfig:
    # Forks add switches (another norm, another activation) whose weights may even load into
    # GPT-2's names: a switch that is on means a model this importer would run wrongly.
    changed = [k for k, v in args.items() if k not in MODEL_ARGS and v]
    if changed:
        raise CheckpointError(
            f"'{name}': model_args has {changed[0]}={args[changed[0]]!r}, which karpathy/"
            "nanoGPT's model does not have; only its GPT-2-shaped model can be opened")
    try:
        C = int(args["n_embd"])
        return ModelConfig(
            vocab_size=int(args["vocab_size"]), d_model=C, n_head=int(args["n_head"]),
            n_layer=int(args["n_layer"]), context_length=int(args["block_size"]), d_ff=4 * C,
            dropout=float(args.get("dropout", 0.0)), positional="learned", activation="gelu",
            norm="pre", tied=True, bias=bool(args.get("bias", True)), ln_eps=1e-5,
        ).validate()
    except KeyError as e:
        raise CheckpointError(f"'{name}': model_args has no {e.args[0]!r}") from None
    except (ConfigError, TypeError, ValueError) as e:
        raise CheckpointError(say("checkpoint.unrunnable_config", name=name,
                                  problem=said_of(e) or str(e))) from None


def find_meta(path: Path, dataset: str | None) -> Path | None:
    """meta.pkl beside the checkpoint, or data/<dataset>/meta.pkl above its run folder."""
    beside = path.parent / "meta.pkl"
    if beside.is_file():
        return beside
    if not dataset or "/" in dataset or "\\" in dataset or dataset.startswith("."):
        return None
    for parent in list(path.resolve().parents)[:_PARENTS_SEARCHED]:
        found = parent / "data" / dataset / "meta.pkl"
        if found.is_file():
            return found
    return None


def _tokenizer(path: Path, ckpt: dict[str, Any], rows: int,
               tokenizer_from: str | Path | None) -> FullTokenizer:
    if tokenizer_from is not None:
        return tokenizer_at(tokenizer_from, rows)
    config = ckpt.get("config") if isinstance(ckpt.get("config"), dict) else {}
    dataset = config.get("dataset")
    meta = find_meta(path, dataset if isinstance(dataset, str) else None)
    if meta is not None:
        return meta_tokenizer(meta, rows)
    if rows >= GPT2_IDS:  # a GPT-2 BPE run (nanoGPT's default, padded or not)
        found = installed_gpt2(rows)
        if found is not None:
            return found
    raise needed(f"'{path.name}' (dataset {dataset or 'unknown'})", rows)


def is_nanogpt(obj: Any) -> bool:
    """True for a loaded dict shaped like nanoGPT's checkpoint."""
    return isinstance(obj, dict) and isinstance(obj.get("model_args"), dict) \
        and isinstance(obj.get("model"), dict)


def read_nanogpt(
    path: Path, device: str | torch.device = "cpu", tokenizer_from: str | Path | None = None,
    loaded: Any = None,
) -> Checkpoint:
    """A nanoGPT ckpt.pt as a Checkpoint (weights only; nanoGPT's optimizer is not kept)."""
    ckpt = load_torch(path) if loaded is None else loaded
    if not is_nanogpt(ckpt):
        keys = ", ".join(list(ckpt)[:4]) if isinstance(ckpt, dict) else type(ckpt).__name__
        raise CheckpointError(
            f"'{path.name}' is a PyTorch file but not a nanoGPT checkpoint (no model_args and "
            f"model; it holds {keys or 'nothing'})")
    cfg = _model_config(ckpt["model_args"], path.name)
    state = strip_prefix(ckpt["model"], COMPILED_PREFIX)
    model = build_model(cfg, state, conv1d=False, source=path.name)
    tokenizer = _tokenizer(path, ckpt, cfg.vocab_size, tokenizer_from)
    model.to(resolve_device(device)).eval()
    best = ckpt.get("best_val_loss")
    config = ckpt.get("config") if isinstance(ckpt.get("config"), dict) else {}
    return Checkpoint(
        model=model, tokenizer=tokenizer, model_config=cfg, train_config=None,
        step=int(ckpt.get("iter_num") or 0), history=[], trainer_state=None, path=path,
        metadata={"origin": ORIGIN, "source": str(path), "tokenizer": tokenizer.name,
                  "best_val_loss": float(best) if isinstance(best, (int, float, torch.Tensor))
                  else None,
                  "dataset": config.get("dataset"), "model_args": dict(ckpt["model_args"])},
        origin=ORIGIN,
    )
