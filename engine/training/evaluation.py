"""Mean loss over a fixed set of windows of each split, shared out among ranks.

The windows come from their own seeded generator, so every evaluation of a run (and of a
resumed run, on any number of ranks) scores the same windows. Under torchrun each rank
forwards a near-equal share and the sums are all-reduced: the result is identical on every
rank and equals one process's (up to float summation order).
"""
from __future__ import annotations

import torch

from engine.config import TrainConfig
from engine.text.corpus import Corpus
from engine.devices import autocast_context
from engine.training.distributed import Shard, all_reduce_sum, micro_batch
from engine.model.decoder import GPT

# Evaluation forwards many windows at once; this caps the logits of one forward (elements).
EVAL_LOGITS_BUDGET = 1 << 23


@torch.no_grad()
def mean_losses(
    model: GPT, corpus: Corpus, cfg: TrainConfig, seed: int, device: torch.device,
    shard: Shard = Shard(),
) -> dict[str, float]:
    """{"train": loss, "val": loss} over cfg.eval_batches x cfg.batch_size windows each.

    `model` is the plain module (eager even when training is compiled: other shapes, no
    recompiles); the caller switches it to eval mode.
    """
    T = model.config.context_length
    generator = torch.Generator().manual_seed(seed)
    # At most what one training forward holds (the memory check counted that), more when the
    # logits budget allows: a GPT-2 vocabulary at 1,024 tokens leaves room for one micro-batch.
    chunk = max(micro_batch(cfg, shard.world_size),
                EVAL_LOGITS_BUDGET // (T * model.config.vocab_size))
    result = {}
    for split in ("train", "val"):
        # Every rank draws all the windows (cheap), so the generator stays in step.
        batches = [corpus.get_batch(split, cfg.batch_size, T, generator, device)
                   for _ in range(cfg.eval_batches)]
        n = cfg.eval_batches * cfg.batch_size
        mine = shard.span(n)
        x = torch.cat([b[0] for b in batches])[mine]  # (n / W, T)
        y = torch.cat([b[1] for b in batches])[mine]  # (n / W, T)
        # Many windows per forward: the same mean as batch by batch, far fewer calls.
        total = torch.zeros((), device=device)
        for i in range(0, len(x), chunk):
            with autocast_context(device, cfg.amp, cfg.cpu_bf16):
                _, loss = model(x[i : i + chunk], y[i : i + chunk])
            total += loss.float() * len(x[i : i + chunk])
        result[split] = (all_reduce_sum(total, shard) / n).item()
    return result
