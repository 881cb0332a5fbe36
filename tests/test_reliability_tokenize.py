"""Issue 11, case 6: `tokenize` streams a large file: progress as it goes, memory bounded by the
ids (4 bytes a token) and one chunk, statistics on arrays, only printed tokens formatted."""
from __future__ import annotations

import json
import random
import sys
import tracemalloc

import numpy as np
import pytest

from engine.text.tokenizers import display_bytes, get_base
from reliability_helpers import run

WORDS = ("the model reads a window of tokens and predicts the next one attention lets every "
         "position look back 注意力 模型 训练 3.14 GPT-2 don't").split()


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    """A 12 MB text: big enough that holding it (or a str, or a Python int per token) shows."""
    rng = random.Random(0)
    lines = [" ".join(rng.choices(WORDS, k=rng.randint(3, 30))) + "\n" for _ in range(5000)]
    block = "".join(lines).encode("utf-8")
    path = tmp_path_factory.mktemp("large") / "large.txt"
    with open(path, "wb") as f:
        for _ in range(12_000_000 // len(block) + 1):
            f.write(block)
    return path, block


def test_tokenize_streams_with_progress_and_bounded_memory(large, capsys, monkeypatch):
    path, block = large
    size = path.stat().st_size
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # progress as on a terminal
    tracemalloc.start()
    try:
        code, out, err = run(capsys, "tokenize", path, "--limit", "5")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 0
    # The old command held the bytes, the text, int64 ids twice, a Python int and a display
    # string per token: > 20x the file. Streaming holds uint32 ids (~1.3x) and one chunk.
    # Measured: 53 MB for 12 MB (16 MB of ids allocated up front, ~30 MB for one chunk).
    assert peak < size + (48 << 20), f"peak {peak / 1e6:.0f} MB for {size / 1e6:.0f} MB"
    assert err.count("tokenizing:") >= 2  # the bar moved while the file was read

    base = get_base("cl100k_base")
    per_block = base.encode(block.decode("utf-8"))
    n_blocks = size // len(block)
    lines = out.splitlines()
    assert lines[0] == " ".join(f"{display_bytes(base.token_bytes(int(i)))}[{i}]"
                                for i in per_block[:5])
    assert lines[1].startswith(f"... ({n_blocks * len(per_block) - 5:,} more")
    assert f"tokens: {n_blocks * len(per_block):,}" in lines[2]
    assert f"distinct: {len(np.unique(per_block)):,}" in lines[2]
    assert "encoding: utf-8 (detected)" in lines[2]
    counts = np.bincount(per_block)
    top = int(np.argmax(counts))
    assert lines[3].startswith(
        f"most common: {display_bytes(base.token_bytes(top))} x{counts[top] * n_blocks:,}")


def test_tokenize_json_of_a_file_lists_every_token(tmp_path, capsys):
    text = "Chapter 1: Building Rapport 注意力\n" * 300
    p = tmp_path / "t.txt"
    p.write_text(text, encoding="utf-8")
    code, out, _ = run(capsys, "tokenize", p, "--json")
    assert code == 0
    data = json.loads(out)
    ids = get_base("cl100k_base").encode(text).tolist()
    assert data["ids"] == ids and len(data["pieces"]) == len(ids)
    assert data["tokens"] == len(ids) and data["characters"] == len(text)
    assert data["pieces"][1] == "·"
    assert data["most_common"][0]["count"] == max(ids.count(i) for i in set(ids))


def test_tokenize_uses_the_batch_encoder_with_threads(monkeypatch, tmp_path, capsys):
    base = get_base("cl100k_base")
    seen = []
    real = base.encoding.encode_ordinary_batch

    def spy(texts, num_threads=8):
        seen.append(num_threads)
        return real(texts, num_threads=num_threads)

    monkeypatch.setattr(base.encoding, "encode_ordinary_batch", spy)
    p = tmp_path / "t.txt"
    p.write_text("a line of text to tokenize\n" * 40_000, encoding="utf-8")
    assert run(capsys, "tokenize", p, "--limit", "1")[0] == 0
    assert seen and min(seen) >= 2


def test_token_statistics_do_not_copy_the_ids():
    from engine.text.corpus import token_counts

    ids = np.arange(4_000_000, dtype=np.uint32) % 1000  # 16 MB; np.bincount would copy 32 MB
    tracemalloc.start()
    try:
        counts = token_counts(ids)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert counts.tolist() == [4000] * 1000
    assert peak < 12 << 20  # one block's int64 copy (8 MB) at most
