"""One `.safetensors` file per model: weights, optimizer state, RNG states and a JSON header.

safetensors holds only tensors and a str->str metadata map, so loading can never run code (a
pickle can). Layout:
  model.<name>              weights (a tied matrix once, under its first name)
  optim.state.<i>.<key>     AdamW moments and step counts, i = parameter index
  rng.generator             the trainer's batch generator (uint8)
  rng.global.<device>       the trainer's global RNG states for dropout (uint8)
  metadata["transformer-explorer"] = JSON: format, version, model_config, tokenizer,
      train_config, step, history, corpus, optimizer (non-tensor parts), trainer, checksum
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import safetensors
import safetensors.torch
import torch

from engine.config import ConfigError, ModelConfig, TrainConfig
from engine.devices import memory_shortfall, resolve_device
from engine.wording import said_of, say
from engine.text.filetype import META_KEY, foreign_model_message, not_regular, special_kind
from engine.text.fullvocab import tokenizer_from_dict, tokenizer_summary
from engine.model.decoder import GPT, param_count
from engine.text.tokenizers import Tokenizer

if TYPE_CHECKING:  # a type only: training sits above storage
    from engine.training.trainer import Trainer

FORMAT = "transformer-explorer"
VERSION = 1
DEFAULT_NAME = "model.safetensors"  # file written when a directory is given
_MAX_HEADER = 100_000_000  # safetensors' own limit on the JSON header
# Top-level keys `extra` may not replace: they define how the file is read back.
_RESERVED = ("format", "version", "model_config", "tokenizer", "train_config", "step",
             "optimizer", "trainer", "checksum")


class CheckpointError(ValueError):
    """A file that is not a readable Transformer Explorer checkpoint; one-line message."""


class SaveError(OSError):
    """Writing a checkpoint failed (disk full, permissions); the file at the path is unchanged."""


@dataclass
class Checkpoint:
    model: GPT  # in eval mode, on the requested device
    tokenizer: Tokenizer
    model_config: ModelConfig
    train_config: TrainConfig | None
    step: int
    history: list[dict[str, Any]]  # StepRecord.to_dict() of every record
    trainer_state: dict[str, Any] | None  # for Trainer.load_state_dict; None in a bundle
    path: Path
    metadata: dict[str, Any]  # the whole JSON header (of an imported model: what was read)
    # Where the model came from: "transformer-explorer" (our file), "nanogpt", "huggingface".
    origin: str = FORMAT


# ---------------------------------------------------------------------------------------------
# Saving


def output_path(path: str | Path) -> Path:
    """The file a save to `path` writes: `<dir>/model.safetensors` for a folder."""
    path = Path(path)
    if path.is_dir() or (not path.exists() and path.suffix != ".safetensors"):
        return path / DEFAULT_NAME
    return path


def _unique_weights(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Drop later names of a shared tensor (tied weights): safetensors refuses shared memory."""
    seen: set[tuple[int, int]] = set()
    out = {}
    for name, t in state.items():
        key = (t.untyped_storage().data_ptr(), t.storage_offset())
        if key in seen:
            continue
        seen.add(key)
        out[f"model.{name}"] = t.detach().to("cpu").contiguous()
    return out


def _checksum(tensors: dict[str, torch.Tensor]) -> str:
    """sha256 over names and raw bytes in name order (independent of the file layout)."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous().reshape(-1)
        h.update(name.encode())
        h.update(str(t.dtype).encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def _split_trainer_state(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict, dict]:
    """Trainer.state_dict() -> (tensors, optimizer JSON, other JSON)."""
    tensors: dict[str, torch.Tensor] = {}
    optim_state: dict[str, dict[str, Any]] = {}
    for i, entry in state["optimizer"]["state"].items():
        plain = {}
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.state.{i}.{key}"] = value.detach().to("cpu").contiguous()
            else:
                plain[key] = value
        optim_state[str(i)] = plain
    optimizer = {"param_groups": state["optimizer"]["param_groups"], "state": optim_state}
    tensors["rng.generator"] = state["generator"]
    for device, rng in state["rng"].items():
        tensors[f"rng.global.{device}"] = rng
    other = {"tokens": state["tokens"], "elapsed": state["elapsed"], "scaler": state["scaler"],
             "rng_devices": sorted(state["rng"])}
    return tensors, optimizer, other


def save_checkpoint(
    path: str | Path,
    model: GPT,
    tokenizer: Tokenizer,
    trainer: Trainer | None = None,
    train_cfg: TrainConfig | None = None,
    extra: dict[str, Any] | None = None,
    step: int | None = None,
    trainer_state: dict[str, Any] | None = None,
) -> Path:
    """Write one .safetensors file (into `<dir>/model.safetensors` for a directory).

    `trainer`, or `trainer_state` (its `state_dict(with_weights=True)`, e.g. sent by a training
    process), makes the file resumable; the weights are then the state's. Without either only
    the model's weights are saved; `step` then records how far the model was trained, so a
    bundled or re-saved model still says so.
    """
    out = output_path(path)
    if tokenizer.vocab_size > model.config.vocab_size:
        raise ValueError(
            f"tokenizer has {tokenizer.vocab_size} ids but the model only "
            f"{model.config.vocab_size} rows"
        )
    meta: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "model_config": model.config.to_dict(),
        "tokenizer": tokenizer.to_dict(),
        "train_config": None,
        "step": 0,
        "history": [],
        "corpus": None,
    }
    if trainer is not None:
        if trainer.model is not model:
            raise ValueError("the trainer trains a different model than the one being saved")
        trainer_state = trainer.state_dict(with_weights=True)  # weights, state: the same step
    if trainer_state is not None:
        state = dict(trainer_state)
        tensors = _unique_weights(state.pop("model"))
        more, meta["optimizer"], meta["trainer"] = _split_trainer_state(state)
        tensors.update(more)
        meta["step"] = state["step"]
        meta["history"] = state["history"]
        if trainer is not None:
            meta["corpus"] = getattr(trainer.corpus, "source", None)
            train_cfg = train_cfg or trainer.cfg
    else:
        tensors = _unique_weights(model.state_dict())
        meta["step"] = int(step or 0)
    if train_cfg is not None:
        meta["train_config"] = train_cfg.to_dict()
    for key, value in (extra or {}).items():
        if key in _RESERVED:
            raise ValueError(f"extra may not replace the checkpoint's {key!r}")
        meta[key] = value
    meta["checksum"] = _checksum(tensors)
    metadata = {"format": "pt", META_KEY: json.dumps(meta)}

    _write(out, tensors, metadata)
    return out


def _leftovers(out: Path) -> list[Path]:
    """Temporary files of earlier saves to `out` that were killed before their rename."""
    pattern = re.compile(rf"^\.{re.escape(out.name)}\.[0-9a-f]{{8}}\.tmp$")
    try:
        return [p for p in out.parent.iterdir() if pattern.match(p.name)]
    except OSError:
        return []


def _io_reason(message: str) -> str:
    """"No space left on device" out of safetensors' "Error while serializing: I/O error: ..."."""
    found = re.search(r"I/O error: (.*?)(?: \(os error \d+\))?$", message.strip())
    return found.group(1) if found else " ".join(message.split())


def _write(out: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    """Atomically write a safetensors file; SaveError (one line) if the disk refuses."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SaveError(f"could not save '{out}': cannot create its folder ({e.strerror or e})")
    for stale in _leftovers(out):
        stale.unlink(missing_ok=True)
    # A temporary file in the same folder, then an atomic rename: a crash never leaves half a
    # checkpoint under the real name (and never destroys the previous one).
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        safetensors.torch.save_file(tensors, str(tmp), metadata=metadata)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # safetensors creates files private (0600); a model is shareable
        os.replace(tmp, out)
    except (OSError, safetensors.SafetensorError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else _io_reason(str(e))
        kept = "the file there is unchanged" if out.exists() else "nothing was written there"
        raise SaveError(f"could not save '{out}' ({reason}); {kept}") from None
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------
# Reading


def check_model_fits(cfg: ModelConfig, name: str, copies: int = 1) -> None:
    """CheckpointError (one line, naming `name` and both figures) when a model of `cfg` cannot
    fit in the memory this process has free, asked before anything of that size is built.

    `copies`: fp32 copies of the weights held at once (a state dict read from a file, then the
    model's own: 2).
    """
    n = param_count(cfg)
    short = memory_shortfall(4 * n * copies, f"its {n:,} parameters (n_layer {cfg.n_layer:,}, "
                             f"d_model {cfg.d_model:,}, vocab_size {cfg.vocab_size:,})")
    if short is not None:
        raise CheckpointError(f"'{name}' describes a model too large to open: {short}")


def _stored_params(header: dict[str, Any]) -> int:
    """Elements of the model's weights as the safetensors header describes them."""
    total = 0
    for key, entry in header.items():
        if key.startswith("model."):
            count = 1
            for d in entry.get("shape", []):
                count *= int(d)
            total += count
    return total


def _input_path(path: str | Path) -> Path:
    path = Path(path)
    if path.is_dir():
        path = path / DEFAULT_NAME
    special = special_kind(path)
    if special is not None:
        raise CheckpointError(str(not_regular(path, special)))
    if not path.is_file():
        raise CheckpointError(f"'{path}' does not exist; choose a saved model (.safetensors)")
    return path


def _read_header(path: Path) -> tuple[dict[str, Any], dict[str, Any], int]:
    """(safetensors header, our metadata, file size); CheckpointError for anything else."""
    size = path.stat().st_size
    name = path.name
    if size == 0:
        raise CheckpointError(f"'{name}' is empty (0 bytes); it is not a saved model")
    with open(path, "rb") as f:
        head = f.read(8)
        foreign = foreign_model_message(name, head)
        if foreign is not None:
            raise CheckpointError(foreign)
        if size < 8:
            raise CheckpointError(f"'{name}' is too short ({size} bytes) to be a saved model")
        (n,) = struct.unpack("<Q", head)
        if n > _MAX_HEADER or n < 2:
            raise CheckpointError(f"'{name}' is not a safetensors file (invalid header length)")
        raw = f.read(n)
    if len(raw) < n:
        if raw.lstrip().startswith(b"{"):
            raise CheckpointError(f"'{name}' is truncated (the header is incomplete)")
        raise CheckpointError(f"'{name}' is not a safetensors file (invalid header length)")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CheckpointError(f"'{name}' is not a safetensors file (its header is not JSON)")
    if not isinstance(header, dict):
        raise CheckpointError(f"'{name}' is not a safetensors file (its header is not a map)")
    extent = 0
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        try:
            extent = max(extent, int(entry["data_offsets"][1]))
        except (TypeError, KeyError, IndexError, ValueError):
            raise CheckpointError(f"'{name}' is corrupt (bad entry for tensor {key!r})")
    if 8 + n + extent > size:
        raise CheckpointError(
            f"'{name}' is truncated ({size} bytes, the header describes {8 + n + extent})"
        )
    stored = (header.get("__metadata__") or {}).get(META_KEY)
    if stored is None:
        raise CheckpointError(
            f"'{name}' is a safetensors file from another program (no {META_KEY!r} metadata); "
            "only models saved by Transformer Explorer can be opened"
        )
    try:
        meta = json.loads(stored)
    except ValueError:
        raise CheckpointError(f"'{name}' is corrupt (its {META_KEY!r} metadata is not JSON)")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"'{name}' is corrupt (unexpected metadata format)")
    version = meta.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise CheckpointError(
            f"'{name}' has format version {version!r}, newer than this program reads "
            f"({VERSION}); update Transformer Explorer"
        )
    for key in ("model_config", "tokenizer"):
        if not isinstance(meta.get(key), dict):
            raise CheckpointError(f"'{name}' is corrupt (metadata has no {key})")
    return header, meta, size


def _rebuild_trainer_state(
    meta: dict[str, Any], tensors: dict[str, torch.Tensor], name: str
) -> dict[str, Any] | None:
    """Inverse of _split_trainer_state: the dict Trainer.load_state_dict accepts."""
    if "optimizer" not in meta or "trainer" not in meta:
        return None
    try:
        optim = meta["optimizer"]
        state: dict[int, dict[str, Any]] = {int(i): dict(v) for i, v in optim["state"].items()}
        for key, t in tensors.items():
            if key.startswith("optim.state."):
                i, field = key[len("optim.state."):].split(".", 1)
                state.setdefault(int(i), {})[field] = t
        groups = []
        for g in optim["param_groups"]:
            g = dict(g)
            if isinstance(g.get("betas"), list):
                g["betas"] = tuple(g["betas"])
            groups.append(g)
        other = meta["trainer"]
        return {
            "step": int(meta["step"]),
            "tokens": int(other["tokens"]),
            "elapsed": float(other["elapsed"]),
            "optimizer": {"state": state, "param_groups": groups},
            "generator": tensors["rng.generator"],
            "rng": {d: tensors[f"rng.global.{d}"] for d in other["rng_devices"]},
            "scaler": other.get("scaler"),
            "history": list(meta.get("history") or []),
        }
    except (KeyError, TypeError, ValueError, AttributeError):
        raise CheckpointError(f"'{name}' is corrupt (incomplete training state)") from None


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> Checkpoint:
    """Read a model saved by save_checkpoint (no code runs); CheckpointError if unusable."""
    path = _input_path(path)
    name = path.name
    header, meta, _ = _read_header(path)
    try:
        tensors = safetensors.torch.load_file(str(path), device="cpu")
    except (safetensors.SafetensorError, OSError, RuntimeError, ValueError) as e:
        raise CheckpointError(f"'{name}' is corrupt ({' '.join(str(e).split())})") from None
    if meta.get("checksum") is not None and _checksum(tensors) != meta["checksum"]:
        raise CheckpointError(f"'{name}' is corrupt (tensor data does not match its checksum)")
    try:
        model_config = ModelConfig.from_dict(meta["model_config"])
        tokenizer = tokenizer_from_dict(meta["tokenizer"])
        train_config = (
            TrainConfig.from_dict(meta["train_config"]) if meta.get("train_config") else None
        )
    except (ConfigError, ValueError, TypeError) as e:
        raise CheckpointError(say("checkpoint.invalid_config", name=name,
                                  problem=said_of(e) or str(e))) from None
    if tokenizer.vocab_size > model_config.vocab_size:
        raise CheckpointError(
            f"'{name}' is corrupt (tokenizer has {tokenizer.vocab_size} ids, the model "
            f"{model_config.vocab_size} rows)"
        )
    # The config is the one part of the file no checksum covers: held against the tensors'
    # shapes before a model of its size is built (an edited config would otherwise allocate
    # what it claims: GBs, for a file of kBs).
    stored = _stored_params(header)
    expected = param_count(model_config)  # a tied matrix counted once, as it is stored
    if stored != expected:
        raise CheckpointError(
            f"'{name}' does not match its model configuration: the configuration describes "
            f"{expected:,} weights, the file holds {stored:,} weights")
    check_model_fits(model_config, name)

    # Building the model draws initial weights; the caller's random stream must not move.
    with torch.random.fork_rng(devices=[]):
        model = GPT(model_config, init_weights=False)  # strict load_state_dict replaces all
    weights = {k[len("model."):]: t for k, t in tensors.items() if k.startswith("model.")}
    # A tied matrix was saved once, under its first name: point its other names at it.
    first: dict[tuple[int, int], str] = {}
    for key, t in model.state_dict().items():
        ptr = (t.untyped_storage().data_ptr(), t.storage_offset())
        if ptr in first and key not in weights and first[ptr] in weights:
            weights[key] = weights[first[ptr]]
        first.setdefault(ptr, key)
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as e:
        detail = " ".join(str(e).split())
        raise CheckpointError(
            f"'{name}' does not match its model configuration: {detail}"
        ) from None
    model.to(resolve_device(device)).eval()
    return Checkpoint(
        model=model,
        tokenizer=tokenizer,
        model_config=model_config,
        train_config=train_config,
        step=int(meta.get("step") or 0),
        history=list(meta.get("history") or []),
        trainer_state=_rebuild_trainer_state(meta, tensors, name),
        path=path,
        metadata=meta,
    )


def verify_checksum(path: str | Path) -> bool | None:
    """True if the tensor data matches the checksum saved with it, None if none was saved."""
    path = _input_path(path)
    _, meta, _ = _read_header(path)
    if meta.get("checksum") is None:
        return None
    try:
        tensors = safetensors.torch.load_file(str(path), device="cpu")
    except (safetensors.SafetensorError, OSError, RuntimeError, ValueError) as e:
        raise CheckpointError(f"'{path.name}' is corrupt ({' '.join(str(e).split())})") from None
    return _checksum(tensors) == meta["checksum"]


def checkpoint_info(path: str | Path, verify: bool = False) -> dict[str, Any]:
    """A summary of a saved model: for `info` and file dialogs.

    Without `verify` only the header is read (fast; "checksum": "not verified"); with it the
    tensor data is read and checked, and a damaged file raises CheckpointError.
    """
    path = _input_path(path)
    header, meta, size = _read_header(path)
    checksum = "not verified"
    if verify:
        ok = verify_checksum(path)
        if ok is False:
            raise CheckpointError(
                f"'{path.name}' is corrupt (tensor data does not match its checksum)")
        checksum = "verified" if ok else "none saved (an old file)"
    n_params = _stored_params(header)
    history = meta.get("history") or []
    evals = [r for r in history if isinstance(r, dict) and r.get("val_loss") is not None]
    tok = meta["tokenizer"]
    return {
        "path": str(path),
        "file_size": size,
        "format": f"{meta['format']} v{meta['version']}",
        "step": int(meta.get("step") or 0),
        "parameters": n_params,
        "model_config": meta["model_config"],
        "tokenizer": tokenizer_summary(tok),
        "train_config": meta.get("train_config"),
        "corpus": meta.get("corpus"),
        "resumable": "optimizer" in meta,
        "train_loss": evals[-1].get("eval_train_loss") if evals else None,
        "val_loss": evals[-1].get("val_loss") if evals else None,
        "records": len(history),
        "diverged": meta.get("diverged"),
        "checksum": checksum,
    }
