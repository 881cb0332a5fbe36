"""Which devices this machine can train on, and how to pick one by name.

Names are what users type: "auto", "cpu", "cuda", "cuda:1", "mps". "auto" prefers a GPU.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import ContextManager

import torch

from engine.wording import say


class DeviceError(ValueError):
    """A device name that is unknown or not present on this machine; one-line message."""


@dataclass
class DeviceInfo:
    name: str  # what resolve_device accepts: "cpu", "cuda:0", "mps"
    label: str  # for menus: "CPU (8 cores)", "cuda:0 - NVIDIA RTX 4090 (24.0 GB)"
    memory_bytes: int | None  # total device memory (system RAM for the CPU), None if unknown


def _system_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not on every platform (e.g. Windows)
        return None


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _address_space_left() -> int | None:
    """Room under this process's RLIMIT_AS (ulimit -v), if one is set."""
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
        if limit == resource.RLIM_INFINITY:
            return None
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return max(0, limit - int(line.split()[1]) * 1024)
    except (ImportError, OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_left() -> int | None:
    """Room under a container's memory limit (cgroup v2), if one is set."""
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            limit = f.read().strip()
        if limit == "max":
            return None
        with open("/sys/fs/cgroup/memory.current") as f:
            return max(0, int(limit) - int(f.read()))
    except (OSError, ValueError):
        return None


def free_memory(device: torch.device) -> int | None:
    """Bytes this process can still allocate on `device`, or None where it is unknown (MPS).

    On the CPU: the system's available memory, or less under a ulimit or container limit.
    """
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    if device.type != "cpu":
        return None
    known = [n for n in (_meminfo_available(), _address_space_left(), _cgroup_left())
             if n is not None]
    return min(known) if known else None


def format_bytes(n: int) -> str:
    """A size as people read it in a refusal: "7.3 GB", "412 MB", "4.1 kB" or "11 bytes"."""
    if n >= 1e9:
        return f"{n / 1e9:,.1f} GB"
    if n >= 1e6:
        return f"{n / 1e6:,.0f} MB"
    return f"{n / 1e3:,.1f} kB" if n >= 1e3 else f"{n:,} bytes"


def memory_shortfall(need: int, what: str, device: torch.device | str = "cpu",
                     free: int | None = None) -> str | None:
    """Would `need` bytes fit in what `device` has free? None if so (or if unknown); else the
    refusal's words, with both figures: "<what> need(s) 7.3 GB, but only 2.1 GB of memory
    are free on cpu".

    The one "would this fit" question every reader of a file asks before it allocates what a
    header claims (a model's config, a tokenizer's ids, token data): the caller adds the file's
    name and raises its own error, so the refusal is one line naming the file and the limit.
    `free` (bytes) overrides the measurement (tests).
    """
    device = torch.device(device)
    free = free_memory(device) if free is None else free
    if free is None or need <= free:
        return None
    return (f"{what} need {format_bytes(need)}, but only {format_bytes(free)} of memory are "
            f"free on {device}")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def list_devices() -> list[DeviceInfo]:
    """Every device training can use here: the CPU always, then each CUDA GPU, then MPS."""
    cores = os.cpu_count() or 1
    devices = [DeviceInfo("cpu", f"CPU ({cores} cores)", _system_memory())]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            gb = props.total_memory / 1e9
            devices.append(DeviceInfo(f"cuda:{i}", f"cuda:{i} - {props.name} ({gb:.1f} GB)",
                                      props.total_memory))
    if _mps_available():
        devices.append(DeviceInfo("mps", "Apple GPU (mps)", None))
    return devices


def resolve_device(name: str | torch.device) -> torch.device:
    """"auto" -> cuda:0, else mps, else cpu; any other name must exist on this machine."""
    if isinstance(name, torch.device):
        name = str(name)
    name = name.strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda:0")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    available = [d.name for d in list_devices()]
    try:
        device = torch.device(name)
    except RuntimeError:
        raise DeviceError(say("device.unknown", name=name,
                              available=", ".join(available))) from None
    present = device.type == "cpu" or (
        device.type == "cuda"
        and torch.cuda.is_available()
        and (device.index or 0) < torch.cuda.device_count()
    ) or (device.type == "mps" and _mps_available())
    if not present:
        raise DeviceError(say("device.absent", name=name, available=", ".join(available)))
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda:0")  # an explicit index, so state and RNG calls agree
    return device


def cpu_has_bf16() -> bool:
    """Whether this CPU says it has native bf16 instructions (AVX-512 BF16 or AMX; Linux
    /proc/cpuinfo). Without them torch emulates bf16 matmuls, many times slower than fp32."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def amp_dtype(device: torch.device, cpu_bf16: bool = False) -> torch.dtype | None:
    """The autocast dtype used on `device`: bf16 (or fp16 on older GPUs) on CUDA; bf16 on the
    CPU only when asked (`cpu_bf16`); else None."""
    if device.type == "cpu":
        # Opt-in: fp32 master weights with bf16 matmuls change the numbers, and without
        # native bf16 (see cpu_has_bf16) the step is many times slower than fp32.
        return torch.bfloat16 if cpu_bf16 else None
    if device.type != "cuda":
        return None  # MPS autocast is young
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def autocast_context(device: torch.device, enabled: bool = True,
                     cpu_bf16: bool = False) -> ContextManager:
    """Mixed precision on CUDA (bf16 if supported, else fp16), on the CPU with `cpu_bf16`
    (bf16); a no-op context elsewhere."""
    dtype = amp_dtype(device, cpu_bf16)
    if not enabled or dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)
