"""CPU cores for a viewer and its training process, kept apart where the OS allows (Linux).

On 2 cores, a training process and a viewer whose threads (redraws, traces, samples) drift onto
the trainer's core slowed training by 13-28 % (benchmarks/bench_gui.py); with the viewer held
on one core and the trainer on the others, see that benchmark's figures. Elsewhere (macOS,
Windows have no sched_setaffinity) these functions do nothing and the OS scheduler decides.
"""
from __future__ import annotations

import os


def available() -> set[int]:
    """Cores this process may run on (all of them where affinity is not supported)."""
    if hasattr(os, "sched_getaffinity"):
        return set(os.sched_getaffinity(0))
    return set(range(os.cpu_count() or 1))


def split(cores: set[int] | None = None) -> tuple[set[int], set[int]]:
    """(viewer cores, training cores): the lowest core for the viewer, the rest for training.

    With a single core both get it.
    """
    cores = sorted(cores if cores is not None else available())
    if len(cores) < 2:
        return set(cores), set(cores)
    return {cores[0]}, set(cores[1:])


def pin_process(cores: set[int]) -> bool:
    """Run every thread of this process (and threads it starts later) on `cores` only.

    False where that is not possible; the process then keeps running where it was.
    """
    if not hasattr(os, "sched_setaffinity") or not cores:
        return False
    try:
        # On Linux the call applies to one thread; new threads inherit their creator's mask.
        tasks = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        tasks = [0]
    pinned = False
    for tid in tasks:
        try:
            os.sched_setaffinity(tid, cores)
            pinned = True
        except OSError:  # the thread ended meanwhile, or the cores are not allowed
            continue
    return pinned


def pin_thread(cores: set[int]) -> set[int] | None:
    """Run the calling thread on `cores` (what it starts later inherits); the previous set.

    None where that is not possible.
    """
    if not hasattr(os, "sched_setaffinity") or not cores:
        return None
    try:
        previous = set(os.sched_getaffinity(0))
        os.sched_setaffinity(0, cores)
        return previous
    except OSError:
        return None


def lower_thread_priority(niceness: int = 19) -> bool:
    """Make the calling thread yield its core to the others of its process (Linux only).

    For background work that shares the viewer's core with its event loop, e.g. a sample
    written while the panels redraw. False where per-thread priorities are not available.
    """
    import threading

    if not hasattr(os, "setpriority") or not os.path.isdir("/proc/self/task"):
        return False
    try:
        # On Linux, niceness belongs to each thread, which PRIO_PROCESS addresses by its id.
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
        return True
    except OSError:
        return False
