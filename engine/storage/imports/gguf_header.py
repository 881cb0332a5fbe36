"""A GGUF file's header, walked and checked: its metadata and where each tensor lies.

`gguf.GGUFReader` trusts the counts and lengths it reads: a string length of 2⁴⁰ or 10⁹ tensors
would have it allocate or loop without end, and it builds NumPy views for every token of the
vocabulary (most of the 30 s it takes to open a 135M model). `check_header` walks the same
layout with bounds (each count against the bytes left in the file, each tensor's data inside
the file, each type one gguf can dequantize), so a lying file gets one line and nothing is
allocated for it, and it keeps the scalars, short strings and the tokenizer's arrays. The
types, block sizes and dequantization stay llama.cpp's own (the `gguf` package).
Layout (GGUF v2/v3, little-endian): magic "GGUF", u32 version, u64 tensor count, u64 key/value
count, the key/values, the tensor infos (name, u32 n_dims, u64 dims, u32 type, u64 offset),
padding to the alignment, then the tensor data.
"""
from __future__ import annotations

import functools
import math
import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import gguf.quants
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFValueType

MAGIC = b"GGUF"
# The arrays kept from the metadata (the tokenizer's); every other array is skipped.
KEEP_ARRAYS = frozenset({"tokenizer.ggml.tokens", "tokenizer.ggml.merges",
                         "tokenizer.ggml.scores", "tokenizer.ggml.token_type"})
MAX_STRING = 64 << 20  # a chat template is tens of kilobytes; a token a few bytes
MAX_DIMS = 4
MAX_ELEMENTS = 1 << 40
# Fixed sizes of scalar value types, by GGUFValueType.
_SCALAR = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_FORMAT = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q",
           12: "d"}
_MIN_TENSOR_INFO = 8 + 4 + 8 + 4 + 8  # empty name, one dim
_MIN_KV = 8 + 4 + 1  # empty key, type, a one-byte value


@functools.cache
def dequantizable(qtype: GGMLQuantizationType) -> bool:
    """Whether gguf can dequantize `qtype`: asked of its public `gguf.quants.dequantize` on one
    zero block (its table of types is private), once per type."""
    block, type_size = GGML_QUANT_SIZES[qtype]
    try:
        gguf.quants.dequantize(np.zeros((1, type_size), dtype=np.uint8), qtype)  # (1, block)
    except (NotImplementedError, ValueError, TypeError):
        return False
    return True


class GgufError(ValueError):
    """A GGUF file that cannot be used; one line naming the file and what is wrong."""


@dataclass(frozen=True)
class TensorInfo:
    """One tensor as the header describes it (dims innermost first, as GGUF writes them)."""

    name: str
    dims: tuple[int, ...]
    qtype: GGMLQuantizationType
    offset: int  # from the start of the file
    n_bytes: int


@dataclass(frozen=True)
class Header:
    """What the checked header holds."""

    version: int
    tensors: tuple[TensorInfo, ...]
    data_offset: int
    file_size: int
    values: dict = field(default_factory=dict)  # scalars, short strings, the vocabulary

    def quantization(self) -> dict[str, int]:
        """Bytes stored per tensor type (what the file was quantized with)."""
        out: dict[str, int] = {}
        for t in self.tensors:
            out[t.qtype.name] = out.get(t.qtype.name, 0) + t.n_bytes
        return out

    def parameters(self) -> int:
        """Elements of every tensor."""
        return sum(math.prod(t.dims) for t in self.tensors)


class _Walker:
    def __init__(self, data: mmap.mmap | bytes, name: str):
        self.data, self.name, self.pos, self.size = data, name, 0, len(data)

    def fail(self, what: str) -> GgufError:
        return GgufError(f"'{self.name}' is not a usable GGUF file: {what}")

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > self.size:
            raise self.fail(f"{what} runs past the end of the file (at byte {self.pos:,})")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u32(self, what: str) -> int:
        return struct.unpack("<I", self.take(4, what))[0]

    def u64(self, what: str) -> int:
        return struct.unpack("<Q", self.take(8, what))[0]

    def string(self, what: str) -> bytes:
        n = self.u64(f"the length of {what}")
        if n > MAX_STRING or n > self.size - self.pos:
            raise self.fail(f"{what} claims {n:,} bytes, more than the file has left")
        return self.take(n, what)

    def count(self, n: int, min_bytes: int, what: str) -> int:
        if n * min_bytes > self.size - self.pos:
            raise self.fail(f"it claims {n:,} {what}, more than its {self.size:,} bytes can hold")
        return n

    def value(self, vtype: int, what: str, depth: int = 0, keep: bool = False) -> object:
        """Read one value: a scalar or a string; an array only when `keep` (a list of
        strings, or a NumPy array of numbers), else skipped (None)."""
        if vtype in _SCALAR:
            return struct.unpack("<" + _FORMAT[vtype], self.take(_SCALAR[vtype], what))[0]
        elif vtype == GGUFValueType.STRING:
            return self.string(what).decode("utf-8", "replace")
        elif vtype == GGUFValueType.ARRAY and depth < 2:
            itype = self.u32(f"the item type of {what}")
            n = self.u64(f"the length of {what}")
            size = _SCALAR.get(itype)
            self.count(n, size or 8, f"items in {what}")
            if size is not None:  # fixed-size items: read or skipped at once
                raw = self.take(n * size, what)
                return np.frombuffer(raw, dtype="<" + _FORMAT[itype]) if keep else None
            if itype == GGUFValueType.STRING:
                return self._strings(n, what, keep)
            items = [self.value(itype, what, depth + 1, keep) for _ in range(n)]
            return items if keep else None
        raise self.fail(f"{what} has an unknown value type {vtype}")

    def _strings(self, n: int, what: str, keep: bool) -> list[str] | None:
        # The hot loop of a vocabulary (150,000 tokens): lengths read in place, no copies.
        data, pos, size, unpack = self.data, self.pos, self.size, struct.unpack_from
        out: list[str] | None = [] if keep else None
        for _ in range(n):
            if pos + 8 > size:
                self.pos = pos
                raise self.fail(f"{what} runs past the end of the file (at byte {pos:,})")
            length = unpack("<Q", data, pos)[0]
            pos += 8
            if length > MAX_STRING or length > size - pos:
                raise self.fail(f"an item of {what} claims {length:,} bytes, more than the "
                                "file has left")
            if out is not None:
                out.append(data[pos:pos + length].decode("utf-8", "replace"))
            pos += length
        self.pos = pos
        return out


def _alignment(kv_align: int | None) -> int:
    return kv_align if kv_align else 32


def check_header(path: str | Path) -> Header:
    """Walk and check a GGUF file's header; GgufError (one line) for anything that lies."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            size = path.stat().st_size
            if size < 24:
                raise GgufError(f"'{path.name}' is {size} bytes, too short for a GGUF file")
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return _walk(_Walker(data, path.name))
    except OSError as e:
        raise GgufError(f"'{path.name}' could not be read ({e})") from None


def _walk(w: _Walker) -> Header:
    if w.take(4, "the magic") != MAGIC:
        raise w.fail("it does not start with 'GGUF'")
    version = w.u32("the version")
    if version not in (2, 3):
        raise w.fail(f"version {version} (versions 2 and 3 are read)")
    n_tensors = w.count(w.u64("the tensor count"), _MIN_TENSOR_INFO, "tensors")
    n_kv = w.count(w.u64("the key/value count"), _MIN_KV, "key/values")
    align = None
    values: dict[str, object] = {}
    for _ in range(n_kv):
        key = w.string("a key").decode("utf-8", "replace")
        vtype = w.u32(f"the type of {key!r}")
        if key == "general.alignment" and vtype == GGUFValueType.UINT32:
            align = w.u32(key)
            if align == 0 or align & (align - 1):
                raise w.fail(f"alignment {align} is not a power of two")
        else:
            keep = key in KEEP_ARRAYS
            value = w.value(vtype, repr(key), keep=keep)
            if value is not None and (keep or len(values) < 4096 and len(str(value)) <= 4096):
                values[key] = value
    infos = []
    for _ in range(n_tensors):
        name = w.string("a tensor name").decode("utf-8", "replace")
        n_dims = w.u32(f"the dims of {name!r}")
        if not 1 <= n_dims <= MAX_DIMS:
            raise w.fail(f"tensor {name!r} has {n_dims} dimensions")
        dims = tuple(w.u64(f"a dim of {name!r}") for _ in range(n_dims))
        raw = w.u32(f"the type of {name!r}")
        offset = w.u64(f"the offset of {name!r}")
        try:
            qtype = GGMLQuantizationType(raw)
        except ValueError:
            raise w.fail(f"tensor {name!r} has an unknown quantization type {raw}") from None
        if qtype not in GGML_QUANT_SIZES or not dequantizable(qtype):
            raise w.fail(f"tensor {name!r} is {qtype.name}, a type gguf cannot dequantize")
        n = 1
        for d in dims:
            if d <= 0 or d > MAX_ELEMENTS:
                raise w.fail(f"tensor {name!r} has a dimension of {d:,}")
            n *= d
        block, type_size = GGML_QUANT_SIZES[qtype]
        if n > MAX_ELEMENTS or dims[0] % block:
            raise w.fail(f"tensor {name!r} has {n:,} elements, not whole {qtype.name} blocks")
        infos.append((name, dims, qtype, offset, n // block * type_size))
    align = _alignment(align)
    data_offset = -(-w.pos // align) * align
    tensors = []
    for name, dims, qtype, offset, n_bytes in infos:
        start = data_offset + offset
        if offset % align or start + n_bytes > w.size:
            raise w.fail(f"tensor {name!r} lies past the end of the file (bytes {start:,}.."
                         f"{start + n_bytes:,} of {w.size:,})")
        tensors.append(TensorInfo(name, dims, qtype, start, n_bytes))
    if len({t.name for t in tensors}) != len(tensors):
        raise w.fail("two tensors have the same name")
    return Header(version, tuple(tensors), data_offset, w.size, values)
