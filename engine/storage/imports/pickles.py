"""Reading a plain-data pickle (nanoGPT's meta.pkl) without ever running code.

A pickle runs code only through the objects it asks for by name (GLOBAL / STACK_GLOBAL opcodes,
and the copyreg extension codes, which resolve to names too): every such request goes through
`find_class`. Refusing all of them leaves the opcodes that build dicts, lists, tuples, sets,
strings, numbers, booleans and None, which is all a vocabulary needs.

Memory is bounded before anything is built: the file's size first (every character of Unicode
as a vocabulary is under 3 MB), then what its opcodes would build, summed by a scan that runs
nothing (`pickletools.genops`). One byte of pickle can build an object of a few hundred bytes
(an empty set), and one memo index of 2**30 grows the unpickler's memo to 16 GB.
"""
from __future__ import annotations

import io
import os
import pickle
import pickletools
import sys
from pathlib import Path
from typing import Any

from engine.devices import format_bytes
from engine.storage.checkpoint import CheckpointError
from engine.text.filetype import NotARegularFile, open_regular

MAX_PICKLE_BYTES = 4 << 20  # all of Unicode as itos + stoi is 2.9 MB; a vocabulary is kBs
MAX_BUILT_BYTES = 128 << 20  # what unpickling may build (all of Unicode: 26 MB counted, 30 real)

# Bytes an opcode's new object takes in memory (an empty container, a number), by opcode name;
# strings and bytes add their length. Everything else only moves references (8 bytes).
_COST = {name: sys.getsizeof(obj) for names, obj in (
    (("EMPTY_DICT", "DICT"), {}), (("EMPTY_LIST", "LIST"), []),
    (("EMPTY_TUPLE", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3"), (1, 2, 3)),
    (("EMPTY_SET", "FROZENSET"), set()),
    (("INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "BINFLOAT", "FLOAT"),
     1 << 62),
) for name in names}


class PickleRefused(CheckpointError):
    """A pickle that asks for code (or is not a pickle at all); it was not run."""


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"it asks for {module}.{name}")

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("it refers to objects stored outside it")


def built_bytes(data: bytes, limit: int) -> int:
    """About what unpickling `data` would allocate, counted without building anything; the
    count stops once past `limit`. ValueError where the opcodes are not a pickle."""
    total, memo = 0, 0
    for op, arg, _ in pickletools.genops(io.BytesIO(data)):
        total += _COST.get(op.name, 8)
        if isinstance(arg, (str, bytes, bytearray)):
            total += sys.getsizeof(arg)
        if op.name in ("PUT", "BINPUT", "LONG_BINPUT") and isinstance(arg, int):
            # The unpickler's memo is an array indexed by these numbers (grown to twice the
            # largest): one LONG_BINPUT of 2**31 asks for 32 GB.
            memo = max(memo, 16 * (arg + 1))
        elif op.name == "MEMOIZE":
            memo += 16
        if total + memo > limit:
            break
    return total + memo


def read_plain_pickle(path: str | Path) -> Any:
    """The dicts, lists, strings and numbers in a pickle file; PickleRefused for anything more."""
    path = Path(path)
    try:
        with open_regular(path) as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_PICKLE_BYTES:  # refused before it is read
                raise PickleRefused(f"'{path.name}' is {format_bytes(size)}, too large for a "
                                    f"vocabulary (at most {format_bytes(MAX_PICKLE_BYTES)})")
            data = f.read()
    except NotARegularFile as e:
        raise PickleRefused(str(e)) from None
    try:  # every file, however small: 9 bytes of LONG_BINPUT ask for 16 GB of memo
        built = built_bytes(data, MAX_BUILT_BYTES)
    except ValueError as e:
        reason = " ".join(str(e).split())[:120]
        raise PickleRefused(f"'{path.name}' is not a readable pickle ({reason})") from None
    if built > MAX_BUILT_BYTES:
        raise PickleRefused(
            f"'{path.name}' would take more than {format_bytes(MAX_BUILT_BYTES)} of memory to "
            f"unpickle ({format_bytes(len(data))} on disk); a vocabulary needs far less, so it "
            "was not loaded")
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
