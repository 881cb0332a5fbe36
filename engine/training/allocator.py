"""Keeping the memory one training step frees for the next one (Linux with glibc).

A CPU training step allocates and frees the same activations and gradients at every step.
glibc's malloc serves blocks over its mmap threshold with fresh mmap()s and returns a heap's
free top to the system once it passes the trim threshold, so every step paid again for the
kernel to map and zero those pages: on nanoGPT's CPU recipe about 2,600 page faults and 13 ms
of system time per step, about a tenth of the step's CPU time (benchmarks/bench_levers.py,
`allocator`). Fixed, higher thresholds keep those pages in the process from step to step; the
memory kept is at most what a step already used. Elsewhere (macOS, Windows, musl) nothing is
changed.
"""
from __future__ import annotations

import ctypes
import sys

# mallopt() parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

# Blocks up to this size come from the heap, not from their own mmap: glibc refuses more than
# half its 64 MiB heap size on some versions, and larger tensors are rare in CPU training.
MMAP_THRESHOLD = 32 << 20
# Free memory a heap may keep at its top before returning it to the system.
TRIM_THRESHOLD = 256 << 20

_kept: bool | None = None


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process (once); whether that was done."""
    global _kept
    if _kept is None:
        _kept = _set_thresholds()
    return _kept


def _set_thresholds() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # this process's C library
    except (OSError, AttributeError):  # not glibc (e.g. musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # Setting either also stops glibc from moving the thresholds itself.
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
