"""The gradient of one global batch: this rank's rows, in micro-batches, averaged over ranks.

One optimizer step sees the whole global batch (B windows) whatever the number of ranks W and
micro-batches N: each rank keeps its B / W rows, forwards them N micro-batches at a time and
adds up their gradients (each loss divided by N), and DistributedDataParallel averages the
ranks' gradients in its one all-reduce after the last micro-batch (no_sync() before it).
Equal-sized slices make the result the gradient of the global batch's mean loss, as one
process with the whole batch computes it (up to float summation order).
"""
from __future__ import annotations

import contextlib

import torch
from torch.nn.parallel import DistributedDataParallel

from engine.config import TrainConfig
from engine.devices import autocast_context
from engine.training.distributed import Shard, all_reduce_sum, micro_batch
from engine.model.decoder import GPT


class Gradients:
    """Backward passes of global batches for `model`, on one rank of `shard`."""

    def __init__(
        self,
        model: GPT,
        cfg: TrainConfig,
        device: torch.device,
        shard: Shard,
        *,
        compile: bool = False,
        scaler: torch.amp.GradScaler | None = None,
    ):
        self.cfg, self.device, self.shard, self.scaler = cfg, device, shard, scaler
        self.micro = micro_batch(cfg, shard.world_size)  # rows per forward (ConfigError if not)
        # Compile the inner module and wrap that in DDP, as torch's docs advise: dynamo then
        # never traces DDP's hooks, which stay eager and overlap the all-reduce with backward.
        forward = torch.compile(model) if compile else model
        self.ddp: DistributedDataParallel | None = None
        if shard.world_size > 1:
            ids = [device.index] if device.type == "cuda" else None
            # DDP's constructor broadcasts rank 0's weights, so every rank starts identical.
            # Buffers (the sinusoidal table) are constants: no broadcast before each forward.
            self.ddp = DistributedDataParallel(forward, device_ids=ids, forward_sync_buffers=False)
            forward = self.ddp
        self.forward = forward  # what each micro-batch goes through (tests may wrap it)

    def backward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Accumulate into .grad the gradient of the global batch (x, y: (B, T)); its mean loss.

        The loss is detached, float32 and the same on every rank.
        """
        rows = self.shard.rows(len(x))
        x, y = x[rows], y[rows]  # (B / W, T), (B / W, T)
        n, m = self.cfg.grad_accum, self.micro
        total: torch.Tensor | None = None
        for i in range(n):
            xi, yi = x[i * m : (i + 1) * m], y[i * m : (i + 1) * m]  # (B / (W N), T) each
            # Gradients are averaged over ranks only once, after the last micro-batch.
            sync = self.ddp.no_sync() if self.ddp is not None and i < n - 1 else (
                contextlib.nullcontext())
            with sync:
                with autocast_context(self.device, self.cfg.amp, self.cfg.cpu_bf16):
                    _, loss = self.forward(xi, yi)
                loss = loss.float()
                if n > 1:  # the N micro-means add up to the slice's mean
                    loss = loss / n
                (self.scaler.scale(loss) if self.scaler is not None else loss).backward()
            # One process with one micro-batch (the window's runs) pays for no extra op.
            total = loss.detach() if total is None else total + loss.detach()
        if self.shard.world_size == 1:
            return total
        # The step is judged (finite or not) and reported on the global loss, so every rank
        # makes the same decision; gloo has no AVG, hence the sum.
        return all_reduce_sum(total, self.shard) / self.shard.world_size
