"""Traced-forward latency: every intermediate of one 64-token prompt through the default model
(8 blocks, d_model 64, 4 heads, vocab 3771, context 64). Target: under 30 ms. Prints JSON."""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from engine.config import ModelConfig  # noqa: E402
from engine.model.decoder import GPT  # noqa: E402
from engine.model.trace import run_trace  # noqa: E402


def timed(fn, repeats: int = 50) -> list[float]:
    for _ in range(5):  # warm-up: first calls allocate
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    torch.manual_seed(0)
    model = GPT(ModelConfig(context_length=64)).eval()
    ids = torch.randint(0, model.config.vocab_size, (1, 64))
    result = {"prompt_tokens": 64, "target_ms": 30.0}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        traced = timed(lambda: run_trace(model, ids))
        with torch.no_grad():
            fast = timed(lambda: model(ids))
        result[f"threads_{threads}"] = {
            "trace_ms_median": round(statistics.median(traced), 2),
            "trace_ms_p90": round(sorted(traced)[int(0.9 * len(traced))], 2),
            "fast_forward_ms_median": round(statistics.median(fast), 2),
            "steps_captured": len(run_trace(model, ids)),
        }
    result["met_target"] = all(
        v["trace_ms_median"] < 30.0 for k, v in result.items() if k.startswith("threads_"))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
