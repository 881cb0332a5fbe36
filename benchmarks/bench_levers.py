"""What each training-speed lever is worth on nanoGPT's CPU recipe, one figure per lever.

The model is nanoGPT's README CPU recipe (vocab 65, 4 layers, 4 heads, d 128, context 64,
batch 12, learned positions, pre-norm, GELU, tied head, no dropout). Each lever is timed as
alternating blocks of steps (A, B, B, A, ...) in one process, and reported as medians of the
blocks, in wall time and in this process's CPU time (time.process_time): on a machine shared
with other work the CPU time moves less. Positive `saved_pct`: the lever makes the step faster.

  step           one whole Trainer step (batch, forward, backward, clip, AdamW, the sync)
  batch_path     Corpus.get_batch from the memory-mapped token file, per step
  sync           the per-step host sync (the non-finite check of loss + grad norm)
  adamw          fused AdamW against foreach AdamW (torch's default on the CPU)
  bias           bias=False (nanoGPT's recipe) against bias=True (our CLI's model)
  threads        1 intra-op thread against torch's default (the cores of this process)
  bf16           CPU bf16 autocast (fp32 master weights) against fp32; see `cpu_bf16` for
                 whether this CPU has native bf16 (without it the kernels are emulated)
  allocator      page faults, system and CPU ms per step with glibc's default malloc thresholds
                 against the trainer's (engine.training.allocator), each in a fresh process
  snapshot       the trainer's CPU copy of finite weights (every 2 s at most), per copy
  checkpoint     a resumable checkpoint written at an evaluation, per write
  compile        torch.compile of the model: steady step and the first (compiling) step;
                 only with --compile (minutes on 2 loaded cores)

Usage: python benchmarks/bench_levers.py [--blocks 6] [--block 10] [--compile]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.config import ModelConfig, TrainConfig  # noqa: E402
from engine.devices import cpu_has_bf16  # noqa: E402
from engine.model.decoder import GPT  # noqa: E402
from engine.storage.checkpoint import save_checkpoint  # noqa: E402
from engine.text.corpus import Corpus  # noqa: E402
from engine.text.tokenizers import Tokenizer  # noqa: E402
from engine.training.trainer import Trainer  # noqa: E402


def recipe(bias: bool = True) -> ModelConfig:
    return ModelConfig(vocab_size=66, d_model=128, n_head=4, n_layer=4, context_length=64,
                       d_ff=512, dropout=0.0, positional="learned", activation="gelu",
                       norm="pre", tied=True, bias=bias)


def corpus_file(tmp: Path) -> Corpus:
    """Random ids (vocab 65) in a memory-mapped uint16 file, as the token cache holds them."""
    ids = np.random.default_rng(0).integers(0, 65, 1_100_000).astype(np.uint16)
    path = tmp / "ids.bin"
    ids.tofile(path)
    mm = np.memmap(path, dtype=np.uint16, mode="r")
    tok = Tokenizer("char", np.arange(65, dtype=np.int64))
    return Corpus(tok, mm[:1_000_000], mm[1_000_000:], str(path), "none", 0)


def trainer_for(corpus: Corpus, bias: bool = True, cpu_bf16: bool = False,
                compile: bool = False) -> Trainer:
    torch.manual_seed(1337)
    cfg = TrainConfig(batch_size=12, steps=10**6, lr=1e-3, warmup_steps=100, beta2=0.99,
                      weight_decay=0.1, grad_clip=1.0, eval_interval=10**9, device="cpu",
                      cpu_bf16=cpu_bf16)
    return Trainer(GPT(recipe(bias)), corpus, cfg, device="cpu", compile=compile)


def alternate(a: Callable[[], None], b: Callable[[], None], blocks: int, block: int
              ) -> dict[str, float]:
    """Median ms per call of a and b over alternating blocks (wall and this process's CPU)."""
    times: dict[str, list[tuple[float, float]]] = {"a": [], "b": []}
    for fn in (a, b):  # warm-up
        for _ in range(3):
            fn()
    for i in range(blocks):
        pair = (("a", a), ("b", b)) if i % 2 == 0 else (("b", b), ("a", a))
        for name, fn in pair:
            w, c = time.perf_counter(), time.process_time()
            for _ in range(block):
                fn()
            times[name].append(((time.perf_counter() - w) / block,
                                (time.process_time() - c) / block))
    med = {f"{k}_{kind}_ms": round(1e3 * statistics.median(t[j] for t in v), 3)
           for k, v in times.items() for j, kind in enumerate(("wall", "cpu"))}
    med["saved_pct"] = round(100 * (1 - med["b_cpu_ms"] / med["a_cpu_ms"]), 1)
    return med


def once_ms(fn: Callable[[], None], repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return round(1e3 * best, 3)


def allocator_child(keep: bool) -> None:
    """Steps of the recipe in this fresh process; prints faults, system and CPU ms per step."""
    from engine.training.allocator import keep_freed_memory

    if keep:
        keep_freed_memory()
    torch.manual_seed(0)
    model = GPT(recipe())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, fused=True)
    x = torch.randint(0, 65, (12, 64))  # (B, T)

    def step() -> None:
        _, loss = model(x, x)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(5):
        step()
    r0, c0 = resource.getrusage(resource.RUSAGE_SELF), time.process_time()
    for _ in range(20):
        step()
    r1, c1 = resource.getrusage(resource.RUSAGE_SELF), time.process_time()
    print(json.dumps({"faults": (r1.ru_minflt - r0.ru_minflt) / 20,
                      "sys_ms": round(50 * (r1.ru_stime - r0.ru_stime), 2),
                      "cpu_ms": round(50 * (c1 - c0), 2)}))


def allocator_lever() -> dict:
    out = {}
    for name in ("default", "keep", "default", "keep"):
        proc = subprocess.run([sys.executable, __file__, "--allocator-child", name],
                              capture_output=True, text=True, check=True)
        out.setdefault(name, []).append(json.loads(proc.stdout.splitlines()[-1]))
    return {name: {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            for name, runs in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=6, help="alternating blocks per lever")
    parser.add_argument("--block", type=int, default=10, help="steps per block")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--allocator-child", choices=("default", "keep"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.allocator_child:
        allocator_child(args.allocator_child == "keep")
        return
    t_start = time.perf_counter()
    out: dict = {"machine": {"cpu_count": os.cpu_count(), "torch_threads":
                             torch.get_num_threads(), "torch": torch.__version__,
                             "load_average": round(os.getloadavg()[0], 2),
                             "cpu_bf16": cpu_has_bf16()}}
    out["allocator"] = allocator_lever()  # first: the trainer sets it for this process
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = corpus_file(tmp)
        tr = trainer_for(corpus)
        step = tr._train_step
        n, B = args.blocks, args.block

        # The step itself, and what the batch path and the sync take of it.
        gen = torch.Generator().manual_seed(0)
        batch = lambda: corpus.get_batch("train", 12, 64, gen)  # noqa: E731
        out["step_ms"] = alternate(step, step, n, B)["a_wall_ms"]
        out["batch_path_ms"] = once_ms(lambda: [batch() for _ in range(100)]) / 100
        loss, norm = torch.tensor(1.0), torch.tensor(1.0)
        out["sync_ms"] = once_ms(lambda: [bool(torch.isfinite(loss + norm))
                                          for _ in range(1000)]) / 1000

        # AdamW: fused (ours) against foreach (torch's CPU default, nanoGPT's).
        params = tr._params
        for p in params:
            p.grad = torch.randn_like(p) * 1e-3
        groups = [{"params": params, "weight_decay": 0.1}]
        foreach = torch.optim.AdamW(groups, lr=1e-4, foreach=True)
        fused = torch.optim.AdamW([{"params": params, "weight_decay": 0.1}], lr=1e-4,
                                  fused=True)
        out["adamw_foreach_vs_fused"] = alternate(foreach.step, fused.step, n, B * 5)
        tr.optimizer.zero_grad(set_to_none=True)

        # bias=False (nanoGPT's recipe) against our CLI's bias=True.
        no_bias = trainer_for(corpus, bias=False)
        out["bias_vs_no_bias"] = alternate(step, no_bias._train_step, n, B)

        # 1 thread against the default.
        threads = torch.get_num_threads()

        def one_thread() -> None:
            torch.set_num_threads(1)
            try:
                step()
            finally:
                torch.set_num_threads(threads)

        out["default_threads_vs_1"] = alternate(step, one_thread, n, B)

        # CPU bf16 autocast with fp32 master weights (TrainConfig.cpu_bf16).
        bf16 = trainer_for(corpus, cpu_bf16=True)
        out["fp32_vs_bf16"] = alternate(step, bf16._train_step, max(2, n // 3), max(1, B // 5))

        # Writes: the finite-weights copy and a resumable checkpoint.
        out["snapshot_copy_ms"] = once_ms(tr._snapshot_good)
        out["checkpoint_write_ms"] = once_ms(lambda: save_checkpoint(
            tmp / "ckpt.safetensors", tr.model, corpus.tokenizer, trainer=tr), 3)

        if args.compile:
            compiled = trainer_for(corpus, compile=True)
            t = time.perf_counter()
            compiled._train_step()
            out["compile_first_step_s"] = round(time.perf_counter() - t, 1)
            out["eager_vs_compile"] = alternate(step, compiled._train_step, n, B)
    out["seconds"] = round(time.perf_counter() - t_start, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
