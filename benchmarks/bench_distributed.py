"""Training on several processes (gloo, CPU): tokens/s for 1 rank against 2 ranks, the cost of
the gradient all-reduce per step, and torch.compile against eager (with its compile time).

Every process uses one thread (OMP_NUM_THREADS=1 semantics), so 2 ranks use 2 cores. On the
2-core machine this was written on, those cores are shared with everything else: the figures
measure the overhead of running under torchrun, not a speed-up (a second rank gains only when
the second core happens to be idle). The compiled run compiles cold (caches off), so its first
step is the real compile time.

The gradient all-reduce is timed twice: as the difference between a normal step and a step
under DDP's no_sync() (which skips it; the loss's one-element all-reduce still runs in both),
and alone, as one all-reduce of every gradient outside a step.

Prints one JSON object. Usage: python benchmarks/bench_distributed.py [--steps 60]
    [--rounds 2] [--no-compile]
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402

from engine.config import ModelConfig, TrainConfig  # noqa: E402
from engine.text.corpus import load_corpus  # noqa: E402
from engine.training.distributed import Shard  # noqa: E402
from engine.model.decoder import new_model  # noqa: E402
from engine.training.trainer import Trainer  # noqa: E402

CORPUS = ROOT / "resources" / "corpus" / "transformer_guide.txt"
# nanoGPT's CPU recipe (bench_train's "nanogpt"), with a global batch two ranks can share.
MODEL = dict(d_model=128, n_head=4, n_layer=4, context_length=64, d_ff=512, dropout=0.0)
BATCH = 16
WARMUP = 5


def _trainer(shard: Shard, compile: bool, steps: int) -> Trainer:
    corpus = load_corpus(str(CORPUS), tokenizer="char", context_length=MODEL["context_length"])
    config = ModelConfig(vocab_size=corpus.tokenizer.vocab_size, **MODEL)
    cfg = TrainConfig(batch_size=BATCH, steps=10 * steps, warmup_steps=0, eval_interval=10**9,
                      eval_batches=1, seed=1, device="cpu")
    return Trainer(new_model(config, cfg.seed), corpus, cfg, device="cpu", compile=compile,
                   shard=shard)


def _rate(trainer: Trainer, steps: int) -> float:
    """Tokens/s over `steps` optimizer steps (a barrier first, so ranks start together).

    The record's rate counts training time only, not the evaluation run() ends with.
    """
    if dist.is_initialized():
        dist.barrier()
    records = list(trainer.run(steps=steps, log_every=steps))
    return records[0].tokens_per_s


def _allreduce_alone(trainer: Trainer, repeats: int = 50) -> float:
    """Median seconds of one all-reduce of every gradient at once, outside any step."""
    flat = torch.cat([p.detach().reshape(-1) for p in trainer.model.parameters()])  # (P,)
    times = []
    for _ in range(repeats):
        dist.barrier()  # both ranks start together: the time is the transfer, not the skew
        t0 = time.perf_counter()
        dist.all_reduce(flat)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _worker(rank: int, world: int, port: int, steps: int, compile: bool, out: str) -> None:
    torch.set_num_threads(1)
    if world > 1:
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        trainer = _trainer(Shard(rank, world), compile, steps)
        t0 = time.perf_counter()
        for _ in trainer.run(steps=1, log_every=1):  # the first step (compiles, if asked)
            pass
        first_s = time.perf_counter() - t0
        _rate(trainer, WARMUP)
        tokens = BATCH * MODEL["context_length"]  # per optimizer step, over all ranks
        rates = [_rate(trainer, steps) for _ in range(3)]
        result = {"tokens_per_s": statistics.median(rates), "first_step_s": first_s,
                  "parameters": trainer.model.num_params()}
        if world > 1:
            synced, skipped = [], []
            for _ in range(3):  # alternating blocks: s per step with and without it
                synced.append(tokens / _rate(trainer, steps))
                with trainer.gradients.ddp.no_sync():  # the gradient all-reduce skipped
                    skipped.append(tokens / _rate(trainer, steps))
            step_s, step_skipped_s = statistics.median(synced), statistics.median(skipped)
            result["step_ms"] = 1000 * step_s
            result["allreduce_ms_per_step"] = 1000 * (step_s - step_skipped_s)
            result["allreduce_ms_alone"] = 1000 * _allreduce_alone(trainer)
        if rank == 0:
            Path(out).write_text(json.dumps(result))
        if world > 1:
            dist.barrier()  # leave together: gloo's teardown can abort a rank that leaves first
        del trainer  # its DDP goes before the group does (engine.training.distributed says why)
    finally:
        if dist.is_initialized():
            gc.collect()
            dist.destroy_process_group()


def _measure(world: int, steps: int, compile: bool = False) -> dict:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "result.json")
        mp.spawn(_worker, args=(world, port, steps, compile, out), nprocs=world, join=True)
        return json.loads(Path(out).read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="steps per timed block")
    parser.add_argument("--rounds", type=int, default=2, help="alternating 1-/2-rank rounds")
    parser.add_argument("--no-compile", action="store_true", help="skip the compile figures")
    args = parser.parse_args()
    one, two = [], []
    for _ in range(args.rounds):  # alternating, so load from others hits both alike
        one.append(_measure(1, args.steps))
        two.append(_measure(2, args.steps))
    med = lambda runs, key: round(statistics.median(r[key] for r in runs), 2)  # noqa: E731
    out = {
        "model": {**MODEL, "batch": BATCH, "tokenizer": "char"},
        "threads_per_rank": 1,
        "cpu_cores": os.cpu_count(),
        "tokens_per_s_1_rank": med(one, "tokens_per_s"),
        "tokens_per_s_2_ranks": med(two, "tokens_per_s"),
        "step_ms_2_ranks": med(two, "step_ms"),
        "allreduce_ms_per_step_2_ranks": med(two, "allreduce_ms_per_step"),
        "allreduce_ms_alone_2_ranks": med(two, "allreduce_ms_alone"),
        "parameters": two[0]["parameters"],
        "note": "2 ranks on a 2-core machine shared with other work: this measures the "
                "overhead of torchrun/DDP (gloo all-reduce, a process per rank), not a "
                "dependable speed-up; the ratio swings with whatever else uses the cores",
    }
    out["speedup_2_ranks"] = round(out["tokens_per_s_2_ranks"] / out["tokens_per_s_1_rank"], 3)
    if not args.no_compile:
        eager = _measure(1, args.steps)  # next to the compiled run: the same load on both
        # A cold compile each time (the inductor cache would make a rerun seconds long).
        os.environ["TORCHINDUCTOR_FORCE_DISABLE_CACHES"] = "1"
        compiled = _measure(1, args.steps, compile=True)
        out.update(
            tokens_per_s_eager=round(eager["tokens_per_s"], 1),
            tokens_per_s_compiled=round(compiled["tokens_per_s"], 1),
            first_step_s_eager=round(eager["first_step_s"], 3),
            first_step_s_compiled=round(compiled["first_step_s"], 2),
        )
    print(json.dumps(out))  # one line: run_all.py reads the last line
    return 0


if __name__ == "__main__":
    sys.exit(main())
