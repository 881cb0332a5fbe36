"""Token data on disk, block by block: compact ids written with their checksum, and verified.

An entry of the token cache (engine.text.tokenfile) is raw little-endian ids. They are written
in blocks of BLOCK ids, and the CRC-32 of what is written (after the entry's vocabulary, so a
shortened vocabulary changes it too) is computed on the way, at no extra read. On reuse the file
is read once in blocks of SCAN_BLOCK ids for the same checksum and the largest id: CRC-32 costs
about half of the sha256 that names the text, over data that is smaller than the text for BPE.
"""
from __future__ import annotations

import os
import zlib
from pathlib import Path

import numpy as np

BLOCK = 1 << 20  # ids handled per numpy block, so temporaries stay a few MB
SCAN_BLOCK = 1 << 20  # ids read per block when an entry is verified (2-4 MB)


def write_ids(f, ids: np.ndarray) -> None:
    """Append ids to an open binary file, as they are in memory."""
    f.write(memoryview(np.ascontiguousarray(ids)))


def write_blocks(target: Path, source: Path, dtype: np.dtype, n: int,
                  table: np.ndarray, vocab: np.ndarray) -> str:
    """table[ids] of the n ids in `source`, block by block, flushed to disk before renaming;
    the checksum of what was written (with `vocab`, the entry's vocabulary, before it).

    Each block is its own memmap, dropped after use: one memmap of the whole file would keep
    every page read so far mapped into this process (page cache, but counted in its RSS).
    """
    crc = checksum_start(vocab)
    with open(target, "wb") as f:
        for start in range(0, n, BLOCK):
            count = min(BLOCK, n - start)
            block = np.memmap(source, dtype=dtype, mode="r", offset=start * dtype.itemsize,
                              shape=(count,))
            out = np.ascontiguousarray(table[block])
            crc = zlib.crc32(memoryview(out).cast("B"), crc)
            write_ids(f, out)
            del block
        f.flush()
        os.fsync(f.fileno())
    return f"crc32:{crc:08x}"


def checksum_start(vocab: np.ndarray) -> int:
    """The running CRC-32 after the vocabulary: a shortened vocab list changes the checksum."""
    return zlib.crc32(np.asarray(vocab, dtype="<i8").tobytes())


def scan(data: Path, dtype: np.dtype, n_tokens: int, vocab: np.ndarray) -> tuple[str, int]:
    """(checksum, largest id; -1 when empty) of an entry's data file, read once in blocks."""
    crc, top = checksum_start(vocab), -1
    with open(data, "rb") as f:
        for start in range(0, n_tokens, SCAN_BLOCK):
            raw = f.read(min(SCAN_BLOCK, n_tokens - start) * dtype.itemsize)
            crc = zlib.crc32(raw, crc)
            if raw:
                top = max(top, int(np.frombuffer(raw, dtype=dtype).max()))
    return f"crc32:{crc:08x}", top
