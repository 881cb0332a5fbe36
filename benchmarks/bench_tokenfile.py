"""Benchmark: tokenizing a large text into a token file, reusing it, and training from it in a
process whose memory limit is below the size of the text.

    python benchmarks/bench_tokenfile.py [--mb 256]      (or BENCH_TOKENFILE_MB=1024)

The default is 256 MB so that `make bench` stays within a few minutes on two cores; the issue's
1 GB figure is `BENCH_TOKENFILE_MB=1024`. The text (mixed English/Chinese, as in
bench_tokenize) and the cache live in a temp dir that is deleted afterwards. Each measurement
runs in its own process:
- build: prepare_token_file with cl100k_base: MB/s, peak RSS (ru_maxrss, which includes pages
  of the memmaps read while writing compact ids: page cache) and peak RssAnon (the process's
  own memory, sampled every millisecond);
- reuse: the same call again (hashing the text, reading the header);
- limited: RLIMIT_DATA set to the memory after imports plus a margin smaller than the text,
  then load_corpus + 20 training steps from the token file; the same limit with the cache off
  (tokenizing into memory) is the control, expected to fail with MemoryError.
Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _margin(text_bytes: int) -> int:
    """What the limited process may allocate beyond its state after imports: half the text
    (capped at 128 MB), and never less than a small model's training needs (64 MB)."""
    return min(128 << 20, max(64 << 20, text_bytes // 2))


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field)


class _Peak(threading.Thread):
    """The highest RssAnon while it runs."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak, self.done = _status("RssAnon"), threading.Event()
        self.start()

    def run(self) -> None:
        while not self.done.wait(0.001):
            self.peak = max(self.peak, _status("RssAnon"))

    def stop(self) -> int:
        self.done.set()
        self.join()
        return max(self.peak, _status("RssAnon"))


def worker(kind: str, text: Path, cache: Path) -> dict:
    """One measurement in a fresh process."""
    import torch

    torch.set_num_threads(1)
    from engine.config import ModelConfig, TrainConfig
    from engine.text.corpus import corpus_from_text, load_corpus
    from engine.training.runs import build_trainer
    from engine.text.tokenfile import prepare_token_file
    from engine.text.tokenizers import get_base

    get_base("cl100k_base")  # loading the tokenizer is not timed
    size = text.stat().st_size
    if kind in ("build", "reuse"):
        base, peak = _status("RssAnon"), _Peak()
        start = time.perf_counter()
        tf = prepare_token_file(text, "cl100k_base", cache_dir=cache)
        seconds = time.perf_counter() - start
        anon = peak.stop()
        out = {"seconds": round(seconds, 2), "built": tf.built, "n_tokens": tf.n_tokens,
               "token_file_mb": round(tf.path.stat().st_size / 1e6, 1),
               "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
               "peak_anon_growth_mb": round((anon - base) / 2**20, 1)}
        if kind == "build":
            out["mb_per_s"] = round(size / 1e6 / seconds, 1)
        return out
    # limited / limited_in_memory. Small batches: the logits (B, T, vocab) of a few thousand
    # ids are the largest tensors.
    mcfg = ModelConfig(vocab_size=1, d_model=64, n_head=4, n_layer=2, context_length=32)
    tcfg = TrainConfig(batch_size=4, steps=20, warmup_steps=2, eval_interval=10,
                       eval_batches=2)

    def train(corpus) -> tuple[int, float]:
        step, val = 0, float("nan")
        for rec in build_trainer(mcfg, tcfg, corpus, device="cpu").run(log_every=20):
            step, val = rec.step, rec.val_loss if rec.val_loss is not None else val
        return step, val

    # A first tiny run does what happens once (torch imports sympy lazily, builds its pools),
    # so the limit is on what the corpus and the training need.
    train(corpus_from_text("the cat sat on the mat " * 400, context_length=mcfg.context_length))
    # A data limit (heap and private writable mappings; a read-only file memmap is not
    # counted) below the size of the text.
    margin = _margin(size)
    resource.setrlimit(resource.RLIMIT_DATA, (_status("VmData") + margin,) * 2)
    out = {"limit_above_imports_mb": margin >> 20, "text_mb": round(size / 1e6)}
    start = time.perf_counter()
    try:
        corpus = load_corpus(text, "cl100k_base", context_length=mcfg.context_length,
                             token_cache=cache if kind == "limited" else False)
        step, val = train(corpus)
        out.update(trained_steps=step, val_loss=round(val, 3), corpus_tokens=corpus.n_tokens)
    except (MemoryError, RuntimeError) as e:  # torch's allocator raises RuntimeError
        if not isinstance(e, MemoryError) and "allocate" not in str(e):
            raise
        out["error"] = f"{type(e).__name__}: out of memory"
    out["seconds"] = round(time.perf_counter() - start, 1)
    return out


def _run(kind: str, text: Path, cache: Path) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--worker", kind, str(text), str(cache)],
                          capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--mb", type=float, default=float(os.environ.get("BENCH_TOKENFILE_MB", 256)))
    p.add_argument("--worker", nargs=3, metavar=("KIND", "TEXT", "CACHE"))
    args = p.parse_args()
    if args.worker:
        kind, text, cache = args.worker
        print(json.dumps(worker(kind, Path(text), Path(cache))))
        return 0
    from bench_tokenize import generate

    tmp = Path(tempfile.mkdtemp(prefix="bench-tokenfile-"))
    try:
        text, cache = tmp / "corpus.txt", tmp / "cache"
        generate(text, args.mb)
        result = {"text_mb": round(text.stat().st_size / 1e6)}
        for kind in ("build", "reuse", "limited", "limited_in_memory"):
            print(f"  {kind} ...", file=sys.stderr, flush=True)
            result[kind] = _run(kind, text, cache)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the text and its token file: GBs at 1 GB
    result["notes"] = ("build: cl100k_base into a token file (uint16 compact ids); "
                       "peak_rss includes memmap pages (page cache), peak_anon_growth is the "
                       "process's own memory over its state after imports; limited: "
                       "RLIMIT_DATA = memory after imports + limit_above_imports_mb")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
