"""Attribution at the SmolLM2-135M shape (30 blocks, 9 heads, 3 K/V heads, d 576, gated FFN
1,536, RMSNorm, rotary, vocabulary 49,152, tied), random weights, a 64-token prompt, on the CPU.
Prints one JSON object: the seconds of the traced forward, of the direct logit attribution read
from it (and its check), of gradient × input (one forward and backward, plus the baseline's
forward and one path point: input_attribution with 1 step), and of integrated gradients with
STEPS points (and its completeness against its tolerance).

    .venv/bin/python benchmarks/bench_attribution.py [--steps N]

Targets (issue 20, on this 2-core machine): direct logit attribution <= 1 s, gradient × input
<= 2 s for 64 tokens.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


NAMES = ("trace", "direct_logit_attribution", "direct_logit_attribution_difference",
         "gradient_x_input", "integrated_gradients")


def main() -> None:
    import numpy as np
    import torch

    from engine.config import ModelConfig
    from engine.model.attribution import direct_logit_attribution
    from engine.model.decoder import GPT
    from engine.model.input_attribution import STEPS, input_attribution
    from engine.model.trace import run_trace

    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=STEPS)
    steps = parser.parse_args().steps
    cfg = ModelConfig(vocab_size=49152, d_model=576, n_head=9, n_kv_head=3, n_layer=30,
                      context_length=2048, d_ff=1536, dropout=0.0, positional="rotary",
                      activation="silu", norm="pre", norm_kind="rmsnorm", gated=True,
                      tied=True, bias=False, rope_theta=100000.0)
    torch.manual_seed(0)
    model = GPT(cfg).eval()
    ids = np.random.default_rng(0).integers(0, cfg.vocab_size, 64)
    # The machine may be shared: each figure is given as wall seconds and as this process's
    # CPU seconds (which other processes do not inflate; divide by the threads for a floor).
    clock = [(time.perf_counter(), time.process_time())]
    trace = run_trace(model, ids)
    clock.append((time.perf_counter(), time.process_time()))
    dla = direct_logit_attribution(model, trace)
    clock.append((time.perf_counter(), time.process_time()))
    direct_logit_attribution(model, trace, versus=5)
    clock.append((time.perf_counter(), time.process_time()))
    input_attribution(model, ids, -1, dla.target, steps=1)
    clock.append((time.perf_counter(), time.process_time()))
    ig = input_attribution(model, ids, -1, dla.target, steps=steps)
    clock.append((time.perf_counter(), time.process_time()))
    wall = [round(b[0] - a[0], 3) for a, b in zip(clock, clock[1:])]
    cpu = [round(b[1] - a[1], 3) for a, b in zip(clock, clock[1:])]
    print(json.dumps({
        "shape": "SmolLM2-135M, random weights, 64 tokens", "threads": torch.get_num_threads(),
        "load_average": os.getloadavg()[0], "wall_s": dict(zip(NAMES, wall)),
        "cpu_s": dict(zip(NAMES, cpu)), "dla_sum_error": dla.error,
        "integrated_gradients_steps": steps,
        "completeness_error": ig.completeness_error, "completeness_tolerance": ig.tolerance,
    }))


if __name__ == "__main__":
    main()
