"""Training on several processes or machines under torchrun: who this process is, its
process group, and which rows of each batch it trains on.

torchrun (nanoGPT's launcher) starts one process per rank and tells each who it is through
RANK, WORLD_SIZE and LOCAL_RANK, with MASTER_ADDR/MASTER_PORT for the rendezvous. Without
them nothing here changes how a single process trains.

The rules that keep a run independent of the number of ranks:
- every rank draws the same global batch (batch_size rows) from the trainer's one seeded
  generator and keeps rows [rank * B / W, (rank + 1) * B / W), so a checkpoint saved by N
  ranks resumes on M ranks and sees the same batches;
- gradients are the mean over the global batch (DDP averages the ranks' means of equal-sized
  slices), and the reported loss is averaged over ranks too;
- dropout draws from per-rank streams, which cannot match across rank counts: exact equality
  across rank counts (and across a resume on more than one rank) holds with dropout 0.

Every collective has a timeout, so a rank that dies or hangs ends the run instead of leaving
the others waiting forever; a lost peer becomes a RankFailure with a one-line message.
"""
from __future__ import annotations

import os
import re
import signal
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Iterator, Mapping

import torch
import torch.distributed as dist

from engine.config import ConfigError, TrainConfig
from engine.devices import DeviceError, resolve_device
from engine.wording import say

# Long enough for rank 0 to save a large checkpoint while the others wait in the next step's
# all-reduce; short enough that a lost machine ends the run in minutes, not torch's 30.
DEFAULT_TIMEOUT_S = 300.0

_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


class RankFailure(RuntimeError):
    """This rank cannot go on: a peer failed, was killed or timed out; one-line message."""


class _Terminated(BaseException):
    # BaseException so that no `except Exception` on the way swallows torchrun's SIGTERM.
    pass


@dataclass(frozen=True)
class Shard:
    """Which share of each global batch (and of evaluation) this process computes."""

    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        """Rank 0 evaluates for the record, logs and saves."""
        return self.rank == 0

    def rows(self, n: int) -> slice:
        """This rank's rows of n (divisible by world_size): [rank * n / W, (rank + 1) * n / W)."""
        per = n // self.world_size
        return slice(self.rank * per, (self.rank + 1) * per)

    def span(self, n: int) -> slice:
        """This rank's near-equal share of n items that need not divide evenly (evaluation)."""
        return slice(self.rank * n // self.world_size, (self.rank + 1) * n // self.world_size)


def micro_batch(cfg: TrainConfig, world_size: int) -> int:
    """Rows one process forwards at a time; ConfigError if the global batch does not divide."""
    parts = world_size * cfg.grad_accum
    if cfg.batch_size % parts:
        larger = -(-cfg.batch_size // parts) * parts
        raise ConfigError("batch_size", say(
            "config.batch_ranks", batch=cfg.batch_size, ranks=world_size, accum=cfg.grad_accum,
            parts=parts, larger=larger))
    return cfg.batch_size // parts


def per_process(cfg: TrainConfig, world_size: int) -> TrainConfig:
    """`cfg` with one process's micro-batch: what one forward of one rank holds in memory."""
    return replace(cfg, batch_size=micro_batch(cfg, world_size), grad_accum=1)


def dropout_seed(seed: int, rank: int, step: int) -> int:
    """The dropout stream of rank > 0 at `step`: distinct per rank, re-derived on a resume."""
    return seed + 1_000_003 * rank + 7919 * step


def all_reduce_sum(t: torch.Tensor, shard: Shard) -> torch.Tensor:
    """`t` summed over the ranks, in place (itself with one rank)."""
    if shard.world_size > 1:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


@dataclass(frozen=True)
class TorchrunEnv:
    """What torchrun tells each process it starts."""

    rank: int
    world_size: int
    local_rank: int


def torchrun_env(environ: Mapping[str, str] | None = None) -> TorchrunEnv | None:
    """The torchrun variables of this process, or None when it was not started by torchrun."""
    environ = os.environ if environ is None else environ
    present = [name for name in _ENV if name in environ]
    if not present:
        return None
    if len(present) < len(_ENV):
        missing = ", ".join(name for name in _ENV if name not in environ)
        raise RankFailure(f"{missing} not set: start several processes with torchrun")
    try:
        env = TorchrunEnv(*(int(environ[name]) for name in _ENV))
    except ValueError:
        raise RankFailure(
            "RANK, WORLD_SIZE and LOCAL_RANK must be integers: "
            + ", ".join(f"{name}={environ[name]!r}" for name in _ENV)
        ) from None
    if not 0 <= env.rank < env.world_size or env.local_rank < 0:
        raise RankFailure(f"RANK={env.rank} must be in [0, WORLD_SIZE={env.world_size})")
    return env


def rank_device(name: str, local_rank: int) -> torch.device:
    """The device of the process with `local_rank`: cuda:LOCAL_RANK on CUDA, else the CPU."""
    name = name.strip().lower()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name not in ("cpu", "cuda"):
        raise DeviceError(
            f"under torchrun each rank picks its own device: give --device cpu, cuda or auto, "
            f"not {name!r} (the rank with LOCAL_RANK n trains on cuda:n)"
        )
    if name == "cpu":
        return torch.device("cpu")
    resolve_device("cuda")  # the usual message when there is no GPU at all
    count = torch.cuda.device_count()
    if local_rank >= count:
        raise DeviceError(
            f"LOCAL_RANK {local_rank} needs cuda:{local_rank} but this machine has {count} "
            f"GPU(s); start at most {count} process(es) per machine (--nproc_per_node {count})"
        )
    return torch.device(f"cuda:{local_rank}")


@dataclass(frozen=True)
class Session:
    """This process's place in an initialised process group."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    backend: str  # "gloo" on the CPU, "nccl" on CUDA

    @property
    def shard(self) -> Shard:
        return Shard(self.rank, self.world_size)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        """Wait until every rank is here (bounded by the session's timeout)."""
        dist.barrier()


@contextmanager
def torchrun_session(device: str, timeout_s: float = DEFAULT_TIMEOUT_S
                     ) -> Iterator[Session | None]:
    """Join torchrun's process group for the block (None outside torchrun), then leave it.

    gloo on the CPU, nccl on CUDA (one GPU per LOCAL_RANK). A failed collective, a timeout
    or torchrun's SIGTERM (it stops every rank when one fails) become RankFailure; the group
    is destroyed on the way out in every case.
    """
    env = torchrun_env()
    if env is None:
        yield None
        return
    if not timeout_s > 0:
        raise ConfigError("dist_timeout", say("config.seconds", value=timeout_s))
    where = f"rank {env.rank} of {env.world_size}"
    dev = rank_device(device, env.local_rank)
    backend = "nccl" if dev.type == "cuda" else "gloo"
    if dev.type == "cuda":
        torch.cuda.set_device(dev)  # nccl's collectives run on the current device
    try:
        dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s))
    except (dist.DistError, RuntimeError, ValueError) as exc:
        raise RankFailure(f"{where}: could not join the other ranks at "
                          f"{_rendezvous()}: {_first_line(exc)}") from None

    def terminated(signum, frame):  # noqa: ARG001 - signal handler signature
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        yield Session(env.rank, env.world_size, env.local_rank, dev, backend)
    except _Terminated:
        raise RankFailure(f"{where}: stopped by SIGTERM (torchrun stops every rank when one "
                          "fails; its report names the rank)") from None
    except (dist.DistError, RuntimeError) as exc:
        if not _lost_contact(exc):
            raise  # a bug, not a peer: let it show
        raise RankFailure(
            f"{where}: lost contact with another rank (it failed, was killed, or did not "
            f"answer within {timeout_s:g} s); the run is stopped: {_first_line(exc)}"
        ) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
        if dist.is_initialized():
            dist.destroy_process_group()


def _lost_contact(exc: BaseException) -> bool:
    """Whether `exc` is a failed collective (gloo raises plain RuntimeErrors for them)."""
    if isinstance(exc, dist.DistError):
        return True
    text = str(exc)
    return any(mark in text for mark in ("gloo", "Gloo", "NCCL", "c10d", "ProcessGroup",
                                         "Connection reset", "Connection closed"))


def _rendezvous() -> str:
    return f"{os.environ.get('MASTER_ADDR', '?')}:{os.environ.get('MASTER_PORT', '?')}"


def _first_line(exc: BaseException) -> str:
    # gloo's messages start with a source location and end with advice to read the other
    # ranks' logs; the one sentence between is what happened.
    text = (str(exc).strip() or type(exc).__name__).splitlines()[0]
    text = re.sub(r"^\[[^\]]*\]\s*", "", text)
    return text.split(". This is typically")[0][:300]
