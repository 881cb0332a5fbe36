"""The trainer's own random streams, kept apart from the caller's.

Dropout draws from torch's global generators, so the trainer swaps its state in for each step
and out again: a seeded run is repeatable and resumable, and the caller's torch.manual_seed
stream is left alone (the GUI samples and traces with it while training runs).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch


def device_rng_get(device: torch.device) -> torch.Tensor | None:
    """The CUDA or MPS generator state of `device`; None on the CPU (the global one serves)."""
    if device.type == "cuda":
        return torch.cuda.get_rng_state(device)
    if device.type == "mps":
        return torch.mps.get_rng_state()
    return None


def device_rng_set(device: torch.device, state: torch.Tensor) -> None:
    """Set the CUDA or MPS generator state of `device` (nothing on the CPU)."""
    if device.type == "cuda":
        torch.cuda.set_rng_state(state, device)
    elif device.type == "mps":
        torch.mps.set_rng_state(state)


def seeded_rng_states(device: torch.device, seed: int) -> dict[str, torch.Tensor]:
    """RNG states equal to the global ones after manual_seed(seed), without touching them."""
    states = {"cpu": torch.Generator().manual_seed(seed).get_state()}
    previous = device_rng_get(device)
    if previous is not None:
        if device.type == "cuda":
            torch.cuda.default_generators[device.index or 0].manual_seed(seed)
        else:
            torch.mps.manual_seed(seed)
        states[device.type] = device_rng_get(device)
        device_rng_set(device, previous)
    return states


@contextmanager
def swapped_in(states: dict[str, torch.Tensor], device: torch.device) -> Iterator[None]:
    """Within the block the global generators run from `states` (updated in place on exit)."""
    kind = device.type
    on_device = kind != "cpu" and kind in states  # CUDA/MPS dropout uses its own RNG
    caller_cpu = torch.get_rng_state()
    torch.set_rng_state(states["cpu"])
    if on_device:
        caller_device = device_rng_get(device)
        device_rng_set(device, states[kind])
    try:
        yield
    finally:
        states["cpu"] = torch.get_rng_state()
        torch.set_rng_state(caller_cpu)
        if on_device:
            states[kind] = device_rng_get(device)
            device_rng_set(device, caller_device)
