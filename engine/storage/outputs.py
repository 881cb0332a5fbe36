"""Where a model may be saved, checked before training; and not losing it when a save fails.

The rules are the same for the CLI's --out and the window's Save: a save never replaces the
training text, an unrelated file, or (unless asked) another model, and a path that cannot be
written is refused before a long run, not after it.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from engine.storage.checkpoint import SaveError, output_path, save_checkpoint
from engine.text.filetype import classify


class OutputError(ValueError):
    """A path a model must not or cannot be saved to; checked before any training."""


@dataclass(frozen=True)
class OutputPlan:
    """Where a save will go and what it replaces, decided before training starts."""

    path: Path  # the .safetensors file that will be written
    replaces: str | None = None  # None (a new file), "resume" or "overwrite"

    def describe(self) -> str:
        """One line for the user: what happens to the file at `path`."""
        if self.replaces == "resume":
            return f"continuing {self.path} in place (--resume names the same file)"
        if self.replaces == "overwrite":
            return f"replacing the model at {self.path} (--overwrite)"
        return f"saving to {self.path}"


def _same_file(a: Path, b: str | Path) -> bool:
    try:
        return a.exists() and Path(b).exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _existing_ancestor(path: Path) -> Path:
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


def _probe_writable(folder: Path) -> None:
    # Permission bits do not bind root and say nothing about read-only mounts: try it.
    try:
        fd, probe = tempfile.mkstemp(prefix=".te-write-test-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise OutputError(
            f"cannot write in '{folder}' ({e.strerror or e}); choose another path"
        ) from None


def check_output(
    path: str | Path,
    *,
    inputs: Sequence[str | Path] = (),
    resume: str | Path | None = None,
    overwrite: bool = False,
    need_bytes: int = 0,
) -> OutputPlan:
    """Validate a save path before any work: OutputError with a one-line reason if refused.

    The rules (the CLI's --out and the window's Save): never the training text or another
    input; never an existing file that is not a model; an existing model only when it is the
    one being resumed or `overwrite` says so; the folder must be writable and (given
    `need_bytes`) hold the file.
    """
    out = output_path(path)
    for other in inputs:
        if _same_file(out, other):
            raise OutputError(
                f"'{path}' is the input file '{other}'; saving the model there would destroy it. "
                "Choose another path, e.g. a folder such as runs/"
                f"{Path(other).stem or 'model'}"
            )
    anchor = _existing_ancestor(out.parent)
    if not anchor.is_dir():
        raise OutputError(
            f"'{anchor}' is a file, so '{out.parent}' cannot be a folder; choose another path"
        )
    replaces = None
    if out.is_dir():
        raise OutputError(f"'{out}' is a folder; choose a file name or another folder")
    if out.exists():
        kind = classify(out)
        if kind == "safetensors" and (out.parent / "config.json").is_file():
            raise OutputError(
                f"'{out}' holds a Hugging Face model's weights (config.json beside it); it is "
                "never replaced, even with --overwrite. Choose another path, e.g. runs/"
                f"{out.parent.name or 'model'}")
        if kind == "checkpoint" and resume is not None and _same_file(out, resume):
            replaces = "resume"
        elif kind in ("checkpoint", "safetensors", "empty") and overwrite:
            replaces = "overwrite"
        elif kind == "checkpoint":
            raise OutputError(
                f"'{out}' already holds a model; it is kept. Pass --overwrite to replace it, "
                "--resume it to continue training it, or choose another --out"
            )
        else:
            raise OutputError(
                f"'{out}' already exists and is not a Transformer Explorer model; it is never "
                "replaced. Choose another path"
            )
    _probe_writable(anchor)
    if need_bytes:
        free = shutil.disk_usage(anchor).free
        if free < need_bytes:
            raise OutputError(
                f"not enough disk space in '{anchor}': the model needs about "
                f"{need_bytes / 1e6:,.1f} MB, {free / 1e6:,.1f} MB are free; free some space "
                "or choose another path"
            )
    return OutputPlan(out, replaces)


def checkpoint_bytes(n_params: int, vocab_size: int, resumable: bool = True) -> int:
    """About how large a checkpoint file is: weights (+ two AdamW moments) and the header."""
    tensors = 4 * n_params * (3 if resumable else 1)
    return tensors + 12 * vocab_size + (1 << 20)  # vocabulary and history as JSON


def rescue_paths(out: str | Path) -> list[Path]:
    """Other places to put weights whose save failed: the temp folder, then the user's home."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"{Path(out).stem}-rescued-{stamp}.safetensors"
    return [Path(tempfile.gettempdir()) / "transformer-explorer-rescued" / name,
            Path.home() / ".cache" / "transformer-explorer" / "rescued" / name]


def save_with_rescue(path: str | Path, *args: Any, **kwargs: Any) -> tuple[Path, SaveError | None]:
    """save_checkpoint, and if that fails, the same data to the first rescue path that works.

    Returns (where it was saved, the original failure or None); raises SaveError naming every
    place tried when none works. The trained weights are never silently lost.
    """
    out = output_path(path)
    try:
        return save_checkpoint(out, *args, **kwargs), None
    except SaveError as first:
        tried = rescue_paths(out)
        for other in tried:
            try:
                return save_checkpoint(other, *args, **kwargs), first
            except SaveError:
                continue
        raise SaveError(
            f"{first}; the weights could not be saved elsewhere either (tried "
            f"{', '.join(str(t.parent) for t in tried)}): free some space and train again"
        ) from None


