"""What kind of file a path holds, told from its first bytes: a model file or (maybe) text.

One home for the magic numbers, so opening a `.pt` file as text and as a model gives the same
message (the CLI's checkpoint reader and the text reader both ask here).
"""
from __future__ import annotations

import json
import struct
from pathlib import Path

from engine.wording import say

# The safetensors metadata entry holding our JSON: what tells our checkpoints from other
# programs' safetensors (engine.storage.checkpoint writes it, this module recognises it).
META_KEY = "transformer-explorer"

HEAD_BYTES = 64  # enough for every test below; the safetensors test reads more itself


def model_kind(head: bytes) -> str | None:
    """"pickle", "zip" or "safetensors" when `head` starts like a model file, else None."""
    if len(head) > 1 and head[0] == 0x80 and 2 <= head[1] <= 5:  # pickle protocol 2-5
        return "pickle"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if len(head) >= 10:
        # safetensors: an 8-byte little-endian header length, then the JSON header.
        (n,) = struct.unpack("<Q", head[:8])
        if 2 <= n <= 100_000_000 and head[8:9] == b"{" and head[9:10] in (b'"', b"}", b" "):
            return "safetensors"
    return None


def foreign_model_message(name: str, head: bytes) -> str | None:
    """Where a pickle or zip (PyTorch .pt) file is not what was asked for (a text, our own
    .safetensors): what it is, and how such a file is opened. None for anything else."""
    kind = model_kind(head)
    return say(f"text.{kind}", name=name) if kind in ("pickle", "zip") else None


def classify(path: str | Path) -> str:
    """"missing", "folder", "empty", "checkpoint" (ours), "safetensors" (another program's),
    "pickle", "zip", or "other" (possibly text): which opener a file dialog should use."""
    path = Path(path)
    if not path.exists():
        return "missing"
    if path.is_dir():
        return "folder"
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    if not head:
        return "empty"
    kind = model_kind(head)
    if kind != "safetensors":
        return kind or "other"
    return "checkpoint" if _is_ours(path) else "safetensors"


def _is_ours(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n).decode("utf-8"))
        return META_KEY in (header.get("__metadata__") or {})
    except (ValueError, UnicodeDecodeError, struct.error, OSError, AttributeError):
        return False
