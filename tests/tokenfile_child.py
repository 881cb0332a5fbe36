"""A child process for test_tokenfile's memory checks: tokenizes or trains on a large text and
prints the growth of its anonymous memory (RssAnon) over the baseline after imports.

RssAnon is the process's own memory (heap, arrays). Pages of a memmap read from a token file
are page cache, counted in RssFile, and the kernel can drop them at any time; they are not what
"holding the corpus in RAM" means, so they are deliberately left out.

    python tests/tokenfile_child.py tokenize|train TEXT CACHE_DIR|off
"""
from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def rss_anon() -> int:
    """This process's anonymous resident memory in bytes (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no RssAnon in /proc/self/status")


class PeakSampler:
    """The highest RssAnon seen, sampled every millisecond on a thread (and at stop)."""

    def __init__(self) -> None:
        self.peak = rss_anon()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._done.wait(0.001):
            self.peak = max(self.peak, rss_anon())

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, rss_anon())


def main() -> None:
    mode, text, cache_arg = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    cache: str | bool = False if cache_arg == "off" else cache_arg
    import torch

    torch.set_num_threads(1)
    from engine.config import ModelConfig, TrainConfig
    from engine.text.corpus import corpus_from_text, load_corpus
    from engine.training.runs import build_trainer
    from engine.text.tokenfile import prepare_token_file

    mcfg = ModelConfig(vocab_size=1, d_model=32, n_head=2, n_layer=1, context_length=32, d_ff=64)
    tcfg = TrainConfig(batch_size=8, steps=20, warmup_steps=2, eval_interval=10, eval_batches=2)

    def train(corpus) -> None:
        for _ in build_trainer(mcfg, tcfg, corpus, device="cpu").run(log_every=10):
            pass

    # Warm up everything a run allocates once (torch's kernels and pools, tokenizer tables),
    # so the baseline already holds it and the growth is the corpus's share.
    train(corpus_from_text("the cat sat on the mat; 注意力 " * 400, tokenizer="char",
                           context_length=mcfg.context_length))
    base = rss_anon()
    start = time.perf_counter()
    with PeakSampler() as peak:
        if mode == "tokenize":
            tf = prepare_token_file(text, "char", cache_dir=cache)
            n_tokens, built = tf.n_tokens, tf.built
        else:
            corpus = load_corpus(text, tokenizer="char", context_length=mcfg.context_length,
                                 token_cache=cache)
            train(corpus)
            n_tokens = corpus.n_tokens
            built = corpus.token_file.built if corpus.token_file is not None else None
    print(json.dumps({"growth": peak.peak - base, "baseline": base, "n_tokens": n_tokens,
                      "built": built, "seconds": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
