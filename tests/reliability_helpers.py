"""Shared pieces of the reliability tests (issue 11): a small book and a fast model."""
from __future__ import annotations

import hashlib
from pathlib import Path

from engine.cli.commands import main

TEXT = (
    "The quick brown fox jumps over the lazy dog. A small model learns to predict the next "
    "token from the tokens before it. 注意力机制让每个位置看向之前的位置。\n"
) * 40
# A model that trains in milliseconds per step, so every test can run the real CLI in-process.
SMALL = ["--d-model", "16", "--heads", "2", "--layers", "1", "--ffn", "32", "--context", "8",
         "--batch", "4", "--eval-batches", "2", "--warmup", "0"]


def book(folder: Path) -> Path:
    path = folder / "book.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def train(capsys, text: Path, out: Path, *more) -> tuple[int, str, str]:
    return run(capsys, "train", text, "--out", out, *SMALL, *more)
