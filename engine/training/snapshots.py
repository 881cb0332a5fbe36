"""Training history on disk: weight snapshots taken during training, in bounded space.

Each snapshot is one float32 safetensors file `step_000123.safetensors` whose header metadata
holds the step's metrics as JSON, so a snapshot and its numbers can never be separated. When more
than `max_snapshots` exist, interior ones are dropped so the rest stay evenly spread over the run:
the first and the newest are always kept (the newest is the one a user is most likely to open).
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

if TYPE_CHECKING:
    from engine.config import ModelConfig
    from engine.model.decoder import GPT

SNAPSHOT_NAME = re.compile(r"^step_(\d+)\.safetensors$")  # a snapshot file
_NAME = SNAPSHOT_NAME


def _file_name(step: int) -> str:
    return f"step_{step:06d}.safetensors"


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: once, at import
    os.umask(mask)
    return mask


_UMASK = _umask()


def share_mode(path: str | os.PathLike) -> None:
    """Give a file made by mkstemp (0600) the permissions of any new file (the umask's), so a
    run on a shared folder can be read by the people following it."""
    try:
        os.chmod(path, 0o666 & ~_UMASK)
    except OSError:
        pass  # e.g. a file system without permissions; the file is still written


class SnapshotStore:
    """A directory of weight snapshots, at most `max_snapshots` of them."""

    def __init__(self, directory: str | os.PathLike, max_snapshots: int = 40):
        if max_snapshots < 2:
            raise ValueError("max_snapshots must be at least 2 (the first and the newest)")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_snapshots = max_snapshots

    # -- reading ------------------------------------------------------------------------------
    def _files(self) -> dict[int, Path]:
        out = {}
        for p in self.directory.iterdir():
            m = _NAME.match(p.name)
            if m:
                out[int(m.group(1))] = p
        return dict(sorted(out.items()))

    def _path(self, step: int) -> Path:
        path = self.directory / _file_name(step)
        if not path.exists():
            raise KeyError(f"no snapshot of step {step} in {self.directory}")
        return path

    def steps(self) -> list[int]:
        """Steps that have a snapshot, oldest first."""
        return list(self._files())

    def load(self, step: int) -> dict[str, torch.Tensor]:
        """The saved state dict of `step` (float32 tensors on the CPU)."""
        return load_file(str(self._path(step)))

    def metrics(self, step: int) -> dict[str, Any]:
        """The metrics saved with `step`."""
        with safe_open(str(self._path(step)), framework="pt") as f:
            meta = f.metadata() or {}
        return json.loads(meta.get("metrics", "{}"))

    def total_bytes(self) -> int:
        """Disk space used by all snapshots."""
        return sum(p.stat().st_size for p in self._files().values())

    def __len__(self) -> int:
        return len(self._files())

    # -- writing ------------------------------------------------------------------------------
    def add(self, step: int, state_dict: Mapping[str, torch.Tensor], metrics: dict[str, Any]) -> Path:
        """Save a snapshot of `step` atomically, then thin the store if it holds too many."""
        tensors = {}
        for key, t in state_dict.items():
            t = t.detach().cpu()
            if t.is_floating_point():
                t = t.float()
            # A copy per key: safetensors refuses tensors sharing memory (tied weights).
            tensors[key] = t.contiguous().clone()
        meta = {"step": str(int(step)), "metrics": json.dumps(metrics, default=float)}
        path = self.directory / _file_name(step)
        fd, tmp = tempfile.mkstemp(prefix=".tmp_", suffix=".safetensors", dir=self.directory)
        os.close(fd)
        try:
            save_file(tensors, tmp, metadata=meta)
            share_mode(tmp)
            os.replace(tmp, path)  # readers see the old file or the whole new one, never half
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
        self._thin()
        return path

    def _thin(self) -> None:
        files = self._files()
        steps = list(files)
        while len(steps) > self.max_snapshots:
            # Drop the interior snapshot whose neighbours are closest together: what remains
            # is as evenly spread as possible, and first and newest are never candidates.
            gaps = [steps[i + 1] - steps[i - 1] for i in range(1, len(steps) - 1)]
            i = 1 + min(range(len(gaps)), key=lambda j: (gaps[j], -j))
            files[steps[i]].unlink(missing_ok=True)
            del steps[i]

    def remove(self, step: int) -> None:
        """Delete the snapshot of `step` (absent: nothing to do)."""
        (self.directory / _file_name(step)).unlink(missing_ok=True)

    def clear(self) -> None:
        """Delete every snapshot (and any interrupted temporary file) in the directory."""
        for p in self.directory.iterdir():
            if _NAME.match(p.name) or (p.name.startswith(".tmp_") and p.suffix == ".safetensors"):
                p.unlink(missing_ok=True)


def snapshot_model(store: SnapshotStore, step: int, config: "ModelConfig") -> "GPT":
    """A model of `config` holding the weights saved at `step`, in eval mode (KeyError, one
    line, when the store has no such step)."""
    from engine.model.decoder import GPT

    weights = store.load(step)
    model = GPT(config, init_weights=False)  # every weight is replaced: no init needed
    model.load_state_dict(weights, strict=True)
    return model.eval()
