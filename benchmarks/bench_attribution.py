"""Attribution at the SmolLM2-135M shape (30 blocks, 9 heads, 3 K/V heads, d 576, gated FFN
1,536, RMSNorm, rotary, vocabulary 49,152, tied), random weights, a 64-token prompt, on the CPU.
Prints one JSON object with the seconds of:

- the traced forward, and the direct logit attribution read from it (and its check);
- gradient × input: one forward and one backward (engine.model.input_attribution);
- integrated gradients with STEPS points (and its completeness against its tolerance);
- residual activation patching over 30 layers × 64 positions (1,984 patched runs; progress on
  stderr), and its checks: the last layer restores 1 at the last position, and patching every
  position of one layer restores 1 (engine.model.patching.patching_checks);
- the snapshot comparison: two snapshots read from a SnapshotStore, built into models and
  compared on the prompt (engine.model.training_diff).

    .venv/bin/python benchmarks/bench_attribution.py [--steps N] [--batch N] [--skip-ig]

Targets (issue 20, on this 2-core machine): direct logit attribution <= 1 s, gradient × input
<= 2 s, residual patching <= 60 s, snapshot comparison <= 5 s.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TARGETS_S = {"direct_logit_attribution": 1.0, "gradient_x_input": 2.0,
             "residual_patching": 60.0, "snapshot_comparison": 5.0}


class Clock:
    """Wall and CPU seconds of named parts. The machine may be shared: CPU seconds are this
    process's own, which other processes do not inflate (divide by the threads for a floor)."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._at = (time.perf_counter(), time.process_time())

    def lap(self, name: str) -> None:
        now = (time.perf_counter(), time.process_time())
        self.wall[name] = round(now[0] - self._at[0], 3)
        self.cpu[name] = round(now[1] - self._at[1], 3)
        self._at = (time.perf_counter(), time.process_time())


def _progress(start: float):
    last = [start]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] >= 5 or done == total:
            print(f"patching {done}/{total} ({now - start:.0f} s)", file=sys.stderr, flush=True)
            last[0] = now
    return progress


def main() -> None:
    import numpy as np
    import torch

    from engine.config import ModelConfig
    from engine.model.attribution import direct_logit_attribution
    from engine.model.decoder import GPT
    from engine.model.input_attribution import STEPS, gradient_x_input, input_attribution
    from engine.model.patching import activation_patching, patching_checks
    from engine.model.trace import run_trace
    from engine.model.training_diff import compare_models
    from engine.training.snapshots import SnapshotStore, snapshot_model

    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--batch", type=int, default=31,
                        help="patched runs per forward (31: every layer of one position)")
    parser.add_argument("--skip-ig", action="store_true", help="no integrated gradients")
    args = parser.parse_args()
    cfg = ModelConfig(vocab_size=49152, d_model=576, n_head=9, n_kv_head=3, n_layer=30,
                      context_length=2048, d_ff=1536, dropout=0.0, positional="rotary",
                      activation="silu", norm="pre", norm_kind="rmsnorm", gated=True,
                      tied=True, bias=False, rope_theta=100000.0)
    torch.manual_seed(0)
    model = GPT(cfg).eval()
    rng = np.random.default_rng(0)
    ids = rng.integers(0, cfg.vocab_size, 64)
    corrupt = ids.copy()
    corrupt[[10, 40]] = rng.integers(0, cfg.vocab_size, 2)  # two words replaced
    out: dict = {"shape": "SmolLM2-135M, random weights, 64 tokens",
                 "threads": torch.get_num_threads(), "load_average_before": os.getloadavg()}
    clock = Clock()
    trace = run_trace(model, ids)
    clock.lap("trace")
    dla = direct_logit_attribution(model, trace)
    clock.lap("direct_logit_attribution")
    direct_logit_attribution(model, trace, versus=5)
    clock.lap("direct_logit_attribution_difference")
    gradient_x_input(model, ids, -1, dla.target)
    clock.lap("gradient_x_input")
    if not args.skip_ig:
        ig = input_attribution(model, ids, -1, dla.target, steps=args.steps)
        clock.lap("integrated_gradients")
        out.update(integrated_gradients_steps=args.steps,
                   completeness_error=ig.completeness_error,
                   completeness_tolerance=ig.tolerance)
    patched = activation_patching(model, ids.tolist(), corrupt.tolist(), "residual",
                                  batch=args.batch, progress=_progress(time.perf_counter()))
    clock.lap("residual_patching")
    checks = patching_checks(model, ids.tolist(), corrupt.tolist())
    clock.lap("patching_checks")
    with tempfile.TemporaryDirectory() as folder:
        store = SnapshotStore(folder)
        store.add(0, model.state_dict(), {})
        later = {k: v + 0.01 * torch.randn_like(v) for k, v in model.state_dict().items()}
        store.add(100, later, {})
        clock.lap("snapshot_writing")  # not part of the comparison
        a = snapshot_model(store, 0, cfg)
        b = snapshot_model(store, 100, cfg)
        diff = compare_models(a, b, ids)
        clock.lap("snapshot_comparison")
    out.update(wall_s=clock.wall, cpu_s=clock.cpu, load_average_after=os.getloadavg(),
               targets_s=TARGETS_S, dla_sum_error=dla.error,
               patching={"runs": int(patched.restored.size), "batch": args.batch,
                         "last_layer_at_last_position": float(patched.restored[-1, -1]),
                         "checks": checks.to_dict()},
               snapshot_comparison={"mean_loss_a": diff.mean_loss_a,
                                    "mean_loss_b": diff.mean_loss_b,
                                    "max_head_distance": float(diff.head_distance.max())})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
