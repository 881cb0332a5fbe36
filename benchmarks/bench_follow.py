"""What following a run directory costs (engine.training.runreader.RunReader.poll, the helper thread's
work each second in File → Open run). Prints one JSON object.

    .venv/bin/python benchmarks/bench_follow.py [--records 100000] [--snapshots 40]

A run of N records and 40 snapshots of a small model: the first poll reads and parses every
record; each later poll reads only the lines added since (here 10, about what a run writes in a
second) and re-lists the snapshots, reading the header of a new or changed file only.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--snapshots", type=int, default=40)
    args = parser.parse_args()

    from engine.config import ModelConfig, TrainConfig
    from engine.model.decoder import new_model
    from engine.training.records import StepRecord
    from engine.training.rundir import RECORDS, RunWriter, run_configs
    from engine.training.runreader import RunReader
    from engine.text.tokenizers import build_tokenizer

    def row(step: int) -> dict:
        return StepRecord(step, 4096 * step, 2.5, 1e-3, 0.9, 12_345.6, step / 10).to_dict()

    tok = build_tokenizer("char", "the cat sat on the mat")
    cfg = ModelConfig(vocab_size=tok.vocab_size, d_model=64, n_head=4, n_layer=2,
                      context_length=64, d_ff=256)
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        writer = RunWriter(run, max_snapshots=args.snapshots)
        writer.start(run_configs(cfg, TrainConfig(), tok, None, source="bench"))
        writer.records([row(s) for s in range(1, args.records + 1)])
        state = new_model(cfg, 0).state_dict()
        for i in range(args.snapshots):
            writer.snapshot(i * 100, state, {"step": i * 100})
        reader = RunReader(run)
        t0 = time.perf_counter()
        first = reader.poll()
        first_s = time.perf_counter() - t0
        assert len(first.records) == args.records and len(first.snapshots) == args.snapshots
        times = []
        step = args.records
        for _ in range(50):
            writer.records([row(s) for s in range(step + 1, step + 11)])
            step += 10
            t0 = time.perf_counter()
            update = reader.poll()
            times.append(time.perf_counter() - t0)
            assert len(update.records) == 10
        print(json.dumps({
            "records": args.records,
            "records_mb": round((run / RECORDS).stat().st_size / 1e6, 1),
            "snapshots": args.snapshots,
            "first_poll_ms": round(first_s * 1e3, 1),
            "poll_10_new_lines_ms_median": round(statistics.median(times) * 1e3, 2),
            "poll_10_new_lines_ms_max": round(max(times) * 1e3, 2),
        }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
