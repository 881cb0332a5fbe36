"""A run written by another process, in two phases, for tests/test_gui_follow.py.

    python run_writer_script.py RUN_DIR GO_FILE

Phase 1: run.json, records of steps 1-10 and snapshots of steps 0 and 10, then a file
RUN_DIR/phase1 says so. Once GO_FILE exists, phase 2: a record line written in two halves a
moment apart (as a slow writer or a sync leaves it), steps 11-20, the snapshot of step 20, and
the end. Each snapshot holds a tiny model seeded by its step, so the follower's weights can
be compared with exactly what was written.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

TEXT = "the cat sat on the mat. the dog sat on the log. " * 20


def model_config(vocab_size: int):
    from engine.config import ModelConfig

    return ModelConfig(vocab_size=vocab_size, d_model=16, n_head=2, n_layer=1,
                       context_length=8, d_ff=32)


def record(step: int, val: bool = False) -> dict:
    from engine.training.records import StepRecord

    return StepRecord(step=step, tokens=32 * step, train_loss=3.0 - step / 50, lr=1e-3,
                      grad_norm=1.0, tokens_per_s=500.0, elapsed=step / 10,
                      val_loss=3.1 - step / 50 if val else None,
                      event="eval" if val else "step").to_dict()


def main(run: Path, go: Path) -> None:
    from engine.config import TrainConfig
    from engine.model.decoder import new_model
    from engine.training.rundir import RECORDS, RunWriter, run_configs
    from engine.text.tokenizers import build_tokenizer

    tok = build_tokenizer("char", TEXT)
    cfg = model_config(tok.vocab_size)
    writer = RunWriter(run)
    writer.start(run_configs(cfg, TrainConfig(steps=20, eval_interval=10), tok, None,
                             source="test"))
    writer.snapshot(0, new_model(cfg, 0).state_dict(), {"step": 0})
    writer.records([record(s, val=s == 10) for s in range(1, 11)])
    writer.snapshot(10, new_model(cfg, 10).state_dict(), {"step": 10, "val_loss": 2.9})
    (run / "phase1").write_text("done")
    while not go.exists():
        time.sleep(0.05)
    line = json.dumps(record(11)) + "\n"
    with open(run / RECORDS, "a") as f:
        f.write(line[:20])
        f.flush()
        time.sleep(1.5)  # the follower polls meanwhile and must wait for the rest
        f.write(line[20:])
    writer.records([record(s, val=s == 20) for s in range(12, 21)])
    writer.snapshot(20, new_model(cfg, 20).state_dict(), {"step": 20, "val_loss": 2.7})
    writer.final("done", 20)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
