"""Reading a plain-data pickle (nanoGPT's meta.pkl) without ever running code.

A pickle runs code only through the objects it asks for by name (GLOBAL / STACK_GLOBAL opcodes,
and the copyreg extension codes, which resolve to names too): every such request goes through
`find_class`. Refusing all of them leaves the opcodes that build dicts, lists, tuples, sets,
strings, numbers, booleans and None, which is all a vocabulary needs.
"""
from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

from engine.storage.checkpoint import CheckpointError

MAX_PICKLE_BYTES = 64 << 20  # a character vocabulary is a few kB; refuse anything absurd


class PickleRefused(CheckpointError):
    """A pickle that asks for code (or is not a pickle at all); it was not run."""


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"it asks for {module}.{name}")

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("it refers to objects stored outside it")


def read_plain_pickle(path: str | Path) -> Any:
    """The dicts, lists, strings and numbers in a pickle file; PickleRefused for anything more."""
    path = Path(path)
    data = path.read_bytes()
    if len(data) > MAX_PICKLE_BYTES:
        raise PickleRefused(f"'{path.name}' is {len(data):,} bytes, too large for a vocabulary")
    try:
        return _PlainUnpickler(io.BytesIO(data)).load()
    except pickle.UnpicklingError as e:
        raise PickleRefused(
            f"'{path.name}' was not loaded: {e}, and a pickle that names Python objects can "
            "run code; only plain dicts, lists, strings and numbers are read from it"
        ) from None
    except (EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError,
            UnicodeDecodeError, MemoryError) as e:
        raise PickleRefused(f"'{path.name}' is not a readable pickle ({type(e).__name__})") \
            from None
