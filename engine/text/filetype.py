"""What kind of file a path holds, told from its first bytes: a model file or (maybe) text.

One home for the magic numbers, so opening a `.pt` file as text and as a model gives the same
message (the CLI's checkpoint reader and the text reader both ask here).
"""
from __future__ import annotations

import json
import os
import stat
import struct
from pathlib import Path
from typing import BinaryIO

from engine.wording import say

# The safetensors metadata entry holding our JSON: what tells our checkpoints from other
# programs' safetensors (engine.storage.checkpoint writes it, this module recognises it).
META_KEY = "transformer-explorer"

HEAD_BYTES = 64  # enough for every test below; the safetensors test reads more itself


class NotARegularFile(OSError):
    """A FIFO, socket or device where a file was expected: refused before it is opened (opening
    a FIFO for reading waits for a writer, for ever); one-line message naming it."""


_SPECIAL = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
            (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _special_words(mode: int) -> str | None:
    for test, words in _SPECIAL:
        if test(mode):
            return words
    return None


def special_kind(path: str | Path) -> str | None:
    """"a FIFO (named pipe)", "a socket", ... when `path` is one (asked of its status, never by
    opening it); None for a regular file, a folder, or nothing there."""
    try:
        return _special_words(os.stat(path).st_mode)
    except (OSError, ValueError):
        return None


def not_regular(path: str | Path, kind: str) -> NotARegularFile:
    """The refusal of a special file, naming it."""
    return NotARegularFile(say("file.not_regular", name=Path(path).name, kind=kind))


def open_regular(path: str | Path) -> BinaryIO:
    """`open(path, "rb")` for a regular file; NotARegularFile, at once, for anything else.

    Opened without blocking, then checked on the open descriptor, so a FIFO put in the file's
    place between a check and the open cannot make the reader wait.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        kind = _special_words(os.fstat(fd).st_mode)
        if kind is not None:
            raise not_regular(path, kind)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a regular file: reads as usual
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


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
    """"missing", "folder", "special" (a FIFO, socket or device: never opened), "empty",
    "checkpoint" (ours), "safetensors" (another program's), "pickle", "zip", or "other"
    (possibly text): which opener a file dialog should use."""
    path = Path(path)
    if not path.exists():
        return "missing"
    if path.is_dir():
        return "folder"
    try:
        with open_regular(path) as f:
            head = f.read(HEAD_BYTES)
    except NotARegularFile:
        return "special"
    if not head:
        return "empty"
    kind = model_kind(head)
    if kind != "safetensors":
        return kind or "other"
    return "checkpoint" if _is_ours(path) else "safetensors"


def _is_ours(path: Path) -> bool:
    try:
        with open_regular(path) as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n).decode("utf-8"))
        return META_KEY in (header.get("__metadata__") or {})
    except (ValueError, UnicodeDecodeError, struct.error, OSError, AttributeError):
        return False
