"""nanoGPT's own train.py beside our CLI on nanoGPT's README CPU recipe, interleaved in one run.

The recipe (nanoGPT README, "I only have a macbook"): character-level tinyshakespeare, 4 layers,
4 heads, d 128, context 64, batch 12, dropout 0, AdamW lr 1e-3 -> 1e-4 with warm-up 100,
beta2 0.99, weight decay 0.1, clipping 1.0, learned positions, pre-norm, GELU, tied head; nanoGPT
with `config/train_shakespeare_char.py --device=cpu --compile=False`. Both programs run as
separate processes, alternately (ours, nanoGPT, nanoGPT, ours, ...), so load from other
processes hits both alike; the figures are medians.

nanoGPT's code is not part of this project: give a checkout with --nanogpt PATH (or the
NANOGPT_DIR environment variable). Its data comes from its own `data/shakespeare_char/prepare.py`
(train.bin, val.bin, meta.pkl and input.txt in that folder); this benchmark downloads nothing.
Without a checkout or its prepared data it prints why, as its one JSON line, and exits 0.

Figures, each for ours and nanoGPT:
  whole_s      the process's wall time, spawn to exit (start-up, data, training, evaluation,
               checkpoint writes: everything a user waits for)
  cpu_s        the CPU time of the process (user + system), a figure that load from other
               processes on a shared machine changes less than the wall time
  ms_per_iter  the median time of one iteration as the program itself reports it: nanoGPT's
               `iter N: ... time X ms` lines, our records' tokens/s (10 steps a record)
  val_loss     each program's own last evaluation (nanoGPT's eval_iters batches, ours the
               same count of windows), and `val_loss_full`: both final models scored by the
               same code on every non-overlapping window of the whole validation split
Ours only: `seconds_last`, the last run's own account of its seconds (end.json: start-up,
tokenizing, training, evaluation, snapshots, saves, other, total), and `accounted_pct_each`,
that total as a percentage of the wall time measured here (100: no second unaccounted).
Ratios are nanoGPT / ours (> 1: we are faster): the median of the per-pair ratios.

Our token cache is filled before the timed runs, as nanoGPT's prepare.py is run before its
train.py: neither program's timed runs tokenize the text.

Usage: python benchmarks/bench_nanogpt.py [--nanogpt PATH] [--iters 2000] [--pairs 3]
           [--eval-iters 20] [--eval-interval 250] [--threads N] [--ours-args "..."]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATASET = "shakespeare_char"
# nanoGPT README's CPU recipe, on top of config/train_shakespeare_char.py.
RECIPE = dict(block_size=64, batch_size=12, n_layer=4, n_head=4, n_embd=128, dropout=0.0)


def find_checkout(given: str | None) -> tuple[Path | None, str]:
    """The nanoGPT checkout and its prepared data, or None and the reason in one line."""
    where = given or os.environ.get("NANOGPT_DIR")
    if not where:
        return None, ("no nanoGPT checkout: pass --nanogpt PATH or set NANOGPT_DIR to a clone "
                      "of github.com/karpathy/nanoGPT (this benchmark downloads nothing)")
    path = Path(where).expanduser()
    if not (path / "train.py").is_file():
        return None, f"'{path}' is not a nanoGPT checkout (no train.py in it)"
    data = path / "data" / DATASET
    missing = [n for n in ("train.bin", "val.bin", "meta.pkl", "input.txt")
               if not (data / n).is_file()]
    if missing:
        return None, (f"nanoGPT's {DATASET} data is not prepared ({', '.join(missing)} missing "
                      f"in {data}): run its data/{DATASET}/prepare.py there first")
    return path, ""


def nanogpt_command(args: argparse.Namespace, out_dir: Path) -> list[str]:
    flags = dict(RECIPE, device="cpu", compile=False, max_iters=args.iters,
                 lr_decay_iters=args.iters, eval_iters=args.eval_iters,
                 eval_interval=args.eval_interval, log_interval=1, out_dir=str(out_dir),
                 always_save_checkpoint=True)  # its final model, for the full-split score
    return [sys.executable, "train.py", "config/train_shakespeare_char.py",
            *(f"--{k}={v}" for k, v in flags.items())]


def ours_command(args: argparse.Namespace, text: Path, out: Path, cache: Path,
                 iters: int | None = None) -> list[str]:
    iters = args.iters if iters is None else iters
    cmd = [sys.executable, "-m", "engine.cli", "train", str(text), "--out", str(out),
           "--overwrite", "--tokenizer", "char", "--d-model", str(RECIPE["n_embd"]),
           "--heads", str(RECIPE["n_head"]), "--layers", str(RECIPE["n_layer"]),
           "--context", str(RECIPE["block_size"]), "--ffn", str(4 * RECIPE["n_embd"]),
           "--dropout", "0", "--positional", "learned", "--norm", "pre", "--activation",
           "gelu", "--tied", "--no-bias", "--batch", str(RECIPE["batch_size"]), "--lr", "1e-3",
           "--warmup", "100", "--steps", str(iters), "--eval-interval",
           str(args.eval_interval), "--eval-batches", str(args.eval_iters),
           "--weight-decay", "0.1", "--grad-clip", "1.0", "--device", "cpu", "--seed", "1337",
           "--token-cache", str(cache), "--json"]
    return cmd + shlex.split(args.ours_args)


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """(wall s, CPU s of the child, its stdout + stderr); raises with the tail on failure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    text = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[1]} failed ({proc.returncode}): "
                           + " | ".join(text.strip().splitlines()[-3:]))
    return wall, cpu, text


def nanogpt_figures(text: str) -> dict:
    iters = [float(t) for t in re.findall(r"^iter \d+: loss [\d.]+, time ([\d.]+)ms", text,
                                          re.M)]
    evals = re.findall(r"^step (\d+): train loss ([\d.]+), val loss ([\d.]+)", text, re.M)
    # The first iterations include start-up work; an evaluation's iteration includes it.
    return {"ms_per_iter": statistics.median(iters[5:] or iters),
            "val_loss": float(evals[-1][2]) if evals else math.nan}


def ours_figures(out: Path) -> dict:
    rows = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()
            if line.strip()]
    tokens = RECIPE["batch_size"] * RECIPE["block_size"]
    steps = [r for r in rows if r.get("event") in (None, "step", "eval")
             and r.get("tokens_per_s")]
    ms = [1e3 * tokens / r["tokens_per_s"] for r in steps[1:] or steps]
    vals = [r["val_loss"] for r in rows if r.get("val_loss") is not None]
    # Our own account of the run's seconds (start-up, tokenizing, training, ...), to hold
    # against the wall time measured from outside.
    seconds = json.loads((out / "end.json").read_text()).get("seconds", {})
    return {"ms_per_iter": statistics.median(ms), "val_loss": vals[-1] if vals else math.nan,
            "seconds": seconds}


def full_val_loss(model_path: Path, val_ids, context: int, vocabulary: Path | None = None
                  ) -> float:
    """Mean loss over every non-overlapping window of the validation split (same code for both)."""
    import torch

    from engine.storage.imports import open_model

    model = open_model(model_path, "cpu", tokenizer_from=vocabulary).model.eval()
    ids = torch.from_numpy(val_ids.astype("int64"))  # (N,)
    n = (len(ids) - 1) // context
    x = ids[: n * context].view(n, context)  # (n, T)
    y = ids[1 : n * context + 1].view(n, context)  # (n, T)
    total = 0.0
    with torch.inference_mode():
        for i in range(0, n, 256):
            _, loss = model(x[i : i + 256], y[i : i + 256])
            total += float(loss) * len(x[i : i + 256])
    return total / n


def load_average() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nanogpt", help="a nanoGPT checkout (default: $NANOGPT_DIR)")
    parser.add_argument("--iters", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--eval-iters", type=int, default=20, help="README: 20")
    parser.add_argument("--eval-interval", type=int, default=250)
    parser.add_argument("--threads", type=int, default=0,
                        help="OMP_NUM_THREADS for both programs (default: torch's choice)")
    parser.add_argument("--ours-args", default="", help="extra flags for our train command")
    args = parser.parse_args()

    checkout, why = find_checkout(args.nanogpt)
    if checkout is None:
        print(json.dumps({"skipped": why}))
        return
    import numpy as np

    data = checkout / "data" / DATASET
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_nanogpt_") as tmp:
        tmp = Path(tmp)
        cache = tmp / "token_cache"
        # Tokenize once, untimed (nanoGPT's prepare.py is untimed too).
        timed(ours_command(args, data / "input.txt", tmp / "warm", cache, iters=1), ROOT, env)
        runs: dict[str, list[dict]] = {"ours": [], "nanogpt": []}
        for i in range(args.pairs):
            order = ("ours", "nanogpt") if i % 2 == 0 else ("nanogpt", "ours")
            for who in order:
                load = load_average()
                print(f"pair {i + 1}/{args.pairs}: {who} (load {load:.2f}) ...",
                      file=sys.stderr, flush=True)
                if who == "ours":
                    out = tmp / f"ours{i}"
                    wall, cpu, _ = timed(ours_command(args, data / "input.txt", out, cache),
                                         ROOT, env)
                    figures = ours_figures(out)
                    # What the breakdown leaves out of the wall time: the interpreter's start
                    # before the process could read its own start time, and its exit.
                    figures["accounted_pct"] = round(
                        100 * figures["seconds"].get("total", 0.0) / wall, 2)
                    model = out / "model.safetensors"
                else:
                    out = tmp / f"nanogpt{i}"
                    wall, cpu, text = timed(nanogpt_command(args, out), checkout, env)
                    figures = nanogpt_figures(text)
                    model = out / "ckpt.pt"
                runs[who].append(dict(figures, whole_s=wall, cpu_s=cpu, load_before=load,
                                      model=model))
        val = np.fromfile(data / "val.bin", dtype=np.uint16)
        for who in runs:  # the last run of each, scored by the same code
            vocabulary = data / "meta.pkl" if who == "nanogpt" else None
            runs[who][-1]["val_loss_full"] = full_val_loss(runs[who][-1]["model"], val,
                                                           RECIPE["block_size"], vocabulary)

    def median(who: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[who])

    def pair_ratio(key: str) -> float:
        return statistics.median(n[key] / o[key] for o, n in zip(runs["ours"], runs["nanogpt"]))

    out = {
        "recipe": dict(RECIPE, iters=args.iters, eval_iters=args.eval_iters,
                       eval_interval=args.eval_interval, data=f"nanoGPT data/{DATASET}"),
        "nanogpt_checkout": str(checkout),
        "threads": args.threads or "default",
        "ours_args": args.ours_args,
        "pairs": args.pairs,
    }
    for who in runs:
        out[who] = {
            "whole_s_median": round(median(who, "whole_s"), 2),
            "cpu_s_median": round(median(who, "cpu_s"), 2),
            "ms_per_iter_median": round(median(who, "ms_per_iter"), 2),
            "val_loss_last": round(runs[who][-1]["val_loss"], 4),
            "val_loss_full_split": round(runs[who][-1]["val_loss_full"], 4),
            "whole_s_each": [round(r["whole_s"], 2) for r in runs[who]],
            "ms_per_iter_each": [round(r["ms_per_iter"], 2) for r in runs[who]],
            "load_before_each": [round(r["load_before"], 2) for r in runs[who]],
        }
        if who == "ours":  # the last run's seconds, part by part, and how much of the wall
            out[who]["seconds_last"] = runs[who][-1]["seconds"]
            out[who]["accounted_pct_each"] = [r["accounted_pct"] for r in runs[who]]
    out["ratio_whole_process"] = round(pair_ratio("whole_s"), 3)
    out["ratio_cpu_time"] = round(pair_ratio("cpu_s"), 3)
    out["ratio_per_iter"] = round(pair_ratio("ms_per_iter"), 3)
    out["target_ratio"] = 1.5
    out["seconds"] = round(time.perf_counter() - t_start, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
