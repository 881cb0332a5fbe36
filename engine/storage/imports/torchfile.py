"""Reading a PyTorch file (.pt, .bin) as tensors and plain values only: torch's weights_only."""
from __future__ import annotations

import pickle
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch

from engine.storage.checkpoint import CheckpointError

# How torch's weights-only unpickler names what it refused (the wording varies by version).
_GLOBAL = re.compile(r"GLOBAL ([\w.]+)|Trying to call reduce for ([\w.]+)")


def _is_torch_zip(path: Path) -> bool:
    # torch.save's zip holds <archive>/data.pkl; any other zip (a .docx, a dataset) is not one.
    try:
        with zipfile.ZipFile(path) as z:
            return any(n == "data.pkl" or n.endswith("/data.pkl") for n in z.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def load_torch(path: Path) -> Any:
    """torch.load(path, weights_only=True) on the CPU; CheckpointError (one line) otherwise."""
    name = path.name
    with open(path, "rb") as f:
        head = f.read(4)
    is_zip = head.startswith(b"PK\x03\x04")
    if is_zip and not _is_torch_zip(path):
        raise CheckpointError(f"'{name}' is a zip archive but not a PyTorch file (it has no "
                              "data.pkl); accepted are nanoGPT and Hugging Face checkpoints")
    try:
        # mmap (zip files only): nanoGPT's optimizer state, twice the weights, is never read.
        # torch warns (two lines, before our refusal) of any pickle protocol but 2; whether
        # the file is read or refused, the user hears it from us in one line.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Detected pickle protocol",
                                    category=UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True, mmap=is_zip)
    except pickle.UnpicklingError as e:
        found = _GLOBAL.search(str(e))
        what = next((g for g in found.groups() if g), None) if found else None
        asks = f"it asks for {what}" if what else "it holds Python objects beyond tensors"
        raise CheckpointError(
            f"'{name}' was not loaded: {asks}, and such a pickle can run code; only tensors "
            "and plain values are read from PyTorch files") from None
    except (RuntimeError, EOFError, ValueError, OSError, AttributeError, KeyError) as e:
        # torch's own words ("Expected hasRecord(...)") say little to a user: say what it is.
        what = "a zip archive" if is_zip else "a file"
        raise CheckpointError(f"'{name}' is {what} but not a readable PyTorch checkpoint "
                              "(damaged, or written by another program)") from None
