"""Two small training runs of different architectures on one text, trained by the CLI, for the
tests that compare runs (engine.training.run_comparison and the Compare runs panel)."""
from __future__ import annotations

from pathlib import Path

from engine.cli.commands import main

TEXT = "the quick brown fox jumps over the lazy dog. 注意力让每个位置看向之前的位置。\n" * 40
COMMON = ["--tokenizer", "char", "--d-model", "32", "--layers", "2", "--context", "24",
          "--ffn", "64", "--steps", "20", "--eval-interval", "5", "--eval-batches", "1",
          "--warmup", "2", "--seed", "1"]


def train_two_runs(folder: Path) -> tuple[Path, Path]:
    """A GPT run (4 heads, batch 4) and a Llama run (2 heads, 1 K/V head, batch 8) in
    `folder`, 20 steps each."""
    text = folder / "t.txt"
    text.write_text(TEXT, encoding="utf-8")
    assert main(["train", str(text), "--out", str(folder / "gpt"), "--arch", "gpt",
                 "--heads", "4", "--batch", "4", *COMMON]) == 0
    assert main(["train", str(text), "--out", str(folder / "llama"), "--arch", "llama",
                 "--heads", "2", "--kv-heads", "1", "--batch", "8", *COMMON]) == 0
    return folder / "gpt", folder / "llama"
