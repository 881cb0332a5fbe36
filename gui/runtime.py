"""The process runtime of the window: garbage collector, interpreter switching, CPU cores.

One home for the process-wide settings that the window's responsiveness depends on; panels
and the run controller call these instead of touching `gc`, `sys` or affinity themselves.
"""
from __future__ import annotations

import gc
import sys

from engine.training import cores

# The GUI thread shares the interpreter lock with the trace and sample threads, which hold it
# for up to the switch interval at a time; a repaint takes it hundreds of times. At the default
# 5 ms the event loop's p99 stall while training was ~55-70 ms; at 1 ms it was ~20 ms.
SWITCH_INTERVAL_S = 0.001

_all_cores: set[int] | None = None  # the process's cores before a run held it on fewer


def configure_interpreter() -> None:
    """Called once by the app at start-up."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def freeze_garbage_collector() -> None:
    """Exempt every object alive now (modules, widgets, plot items) from the cyclic collector.

    A full collection walks all ~350,000 of them while holding the interpreter lock: measured
    24-254 ms, in whichever thread happened to allocate, which made the event loop's longest
    stalls while training. What is frozen is still freed by reference counting.
    """
    gc.freeze()


def split_cores_for_training() -> set[int]:
    """Hold this process on the window's share of the cores; return the cores for training.

    On Linux with 2 cores the window keeps one and the training process gets the other, so
    redraws and the trainer's small torch calls never wait for each other. Elsewhere (no
    affinity) the OS decides; the returned set is then all cores.
    """
    global _all_cores
    if _all_cores is None:
        _all_cores = cores.available()
    viewer, training = cores.split(_all_cores)
    cores.pin_process(viewer)
    return training


def release_cores() -> None:
    """After a run: this process may use every core again."""
    if _all_cores is not None:
        cores.pin_process(_all_cores)


def lower_thread_priority() -> None:
    """The calling helper thread yields to the GUI thread (nice 19 on Linux)."""
    cores.lower_thread_priority()
