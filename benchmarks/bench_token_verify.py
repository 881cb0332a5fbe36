"""Benchmark: what verifying a token-cache entry on reuse costs, against the sha256 of the text
that finds the entry (issue 21: "within the cost the text hash already has").

    python benchmarks/bench_token_verify.py

For the char tokenizer (the worst case: two bytes of data per character) and cl100k_base, the
best of three of each, in seconds per GB of text. The text and cache live in a temp dir.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from engine.text.tokenblocks import scan  # noqa: E402
from engine.text.tokenfile import content_sha256, prepare_token_file  # noqa: E402
from test_tokenfile import _text  # noqa: E402


def main() -> int:
    tmp = Path(tempfile.mkdtemp())
    try:
        for tok, size in (("char", 48_000_000), ("cl100k_base", 16_000_000)):
            text = tmp / f"{tok}.txt"
            text.write_bytes(_text(size, seed=1))
            tf = prepare_token_file(text, tok, cache_dir=tmp / "cache")
            hashing = verifying = float("inf")
            for _ in range(3):
                t = time.perf_counter()
                content_sha256(text)
                hashing = min(hashing, time.perf_counter() - t)
                t = time.perf_counter()
                scan(tf.path, tf.dtype, tf.n_tokens, tf.tokenizer.vocab)
                verifying = min(verifying, time.perf_counter() - t)
            gb = size / 1e9
            print(f"{tok}: text {size / 1e6:.0f} MB, data {tf.path.stat().st_size / 1e6:.0f} MB;"
                  f" sha256 of the text {hashing / gb:.2f} s/GB, verifying the entry "
                  f"{verifying / gb:.2f} s/GB (of text)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
