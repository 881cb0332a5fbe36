"""The headless command line, driven as users and scripts drive it."""
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli.commands import main

ROOT = Path(__file__).resolve().parent.parent
TEXT = (
    "The quick brown fox jumps over the lazy dog. A small model learns to predict the next "
    "token from the tokens before it. 注意力机制让每个位置看向之前的位置。\n"
) * 40


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, dict]:
    """The article's model configuration trained briefly on a small text file."""
    tmp = tmp_path_factory.mktemp("cli")
    text = tmp / "book.txt"
    text.write_text(TEXT, encoding="utf-8")
    out = tmp / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "train", str(text), "--out", str(out),
         "--steps", "120", "--eval-interval", "60", "--eval-batches", "4", "--batch", "8",
         "--lr", "3e-3", "--warmup", "10", "--json"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    return out, json.loads(proc.stdout.strip().splitlines()[-1])


def test_train_article_config_and_loss_falls(trained):
    out, summary = trained
    for key in ("steps", "tokens_per_s", "train_loss", "val_loss"):
        assert key in summary
    assert summary["steps"] == 120
    assert summary["tokens_per_s"] > 0
    # Untrained, the loss is about ln(vocab); trained it must be far below.
    assert summary["train_loss"] < math.log(summary["vocab_size"]) - 1.0
    assert Path(summary["checkpoint"]).is_file()
    assert Path(summary["checkpoint"]).parent == out


def test_tokenize_json_matches_the_article(capsys):
    code, out, _ = run(capsys, "tokenize", "--text", "Chapter 1: Building Rapport and Capturing",
                       "--json")
    assert code == 0
    data = json.loads(out)
    assert data["ids"] == [26072, 220, 16, 25, 17283, 23097, 403, 323, 17013, 1711]
    assert data["pieces"][1] == "·"
    assert len(data["pieces"]) == 10


def test_tokenize_a_gbk_file(tmp_path, capsys):
    path = tmp_path / "zh.txt"
    path.write_bytes("注意力机制".encode("gbk"))
    code, out, _ = run(capsys, "tokenize", str(path), "--tokenizer", "char", "--json")
    assert code == 0
    assert json.loads(out)["ids"] == [ord(c) for c in "注意力机制"]


def test_inspect_json_lists_every_step_in_order(trained, capsys):
    out, summary = trained
    code, stdout, _ = run(capsys, "inspect", summary["checkpoint"], "--prompt", "The quick brown",
                          "--json")
    assert code == 0
    steps = json.loads(stdout)["steps"]
    names = [s["name"] for s in steps]
    assert names[:4] == ["tokens", "embed.token", "embed.position", "embed.sum"]
    assert names[-2:] == ["logits", "probs"]
    assert len(names) == 4 + 8 * 17 + 2
    q = steps[names.index("blocks.0.attn.q")]
    assert q["axes"] == ["heads", "context", "head_size"]  # batch of one dropped
    T = steps[0]["shape"][0]
    assert q["shape"] == [4, T, 16]
    pattern = steps[names.index("blocks.3.attn.pattern")]["values"]
    for head in pattern:
        for row in head:
            assert abs(sum(row) - 1.0) < 1e-5
    for key in ("title", "formula", "axes", "shape", "values"):
        assert key in steps[5]


def test_inspect_text_prints_tables(trained, capsys):
    _, summary = trained
    code, stdout, _ = run(capsys, "inspect", summary["checkpoint"], "--prompt", "The fox")
    assert code == 0
    assert "blocks.0.attn.scores" in stdout and "softmax" in stdout


def test_sample_is_repeatable_with_a_seed(trained, capsys):
    _, summary = trained
    args = ("sample", summary["checkpoint"], "--prompt", "The", "--tokens", "12", "--seed", "7",
            "--top-k", "20", "--json")
    first = json.loads(run(capsys, *args)[1])
    second = json.loads(run(capsys, *args)[1])
    assert first["text"] == second["text"]
    assert len(first["tokens"]) == 12


def test_info(trained, capsys):
    _, summary = trained
    code, out, _ = run(capsys, "info", summary["checkpoint"], "--json")
    assert code == 0
    assert "d_model" in out and "64" in out


def test_resume_continues(trained, tmp_path, capsys):
    out, summary = trained
    text = tmp_path / "book.txt"
    text.write_text(TEXT, encoding="utf-8")
    code, stdout, _ = run(capsys, "train", str(text), "--out", str(tmp_path / "more"),
                          "--resume", summary["checkpoint"], "--steps", "130",
                          "--eval-interval", "60", "--eval-batches", "2", "--batch", "8",
                          "--json")
    assert code == 0, stdout
    assert json.loads(stdout.strip().splitlines()[-1])["steps"] == 130


@pytest.mark.parametrize(
    "make_args, fragment",
    [
        (lambda p: ["train", str(p / "empty.txt"), "--out", str(p / "o")], "empty"),
        (lambda p: ["train", str(p / "blob.bin"), "--out", str(p / "o")], "binary"),
        (lambda p: ["train", str(p / "short.txt"), "--out", str(p / "o")], "tokens"),
        (lambda p: ["train", str(p / "missing.txt"), "--out", str(p / "o")], "missing.txt"),
        (lambda p: ["train", str(p / "short.txt"), "--out", str(p / "o"), "--d-model", "65"],
         "d_model"),
        (lambda p: ["train", str(p / "short.txt"), "--out", str(p / "o"), "--device", "cuda:7"],
         "cuda"),
        (lambda p: ["info", str(p / "blob.bin")], "blob.bin"),
        (lambda p: ["inspect", str(p / "short.txt"), "--prompt", "x"], "short.txt"),
        (lambda p: ["tokenize", "--text", "x", "--tokenizer", "no_such_encoding"],
         "no_such_encoding"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(tmp_path, make_args, fragment):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "short.txt").write_text("too short", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", *make_args(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert fragment in lines[0]


def test_no_bias_trains_nanogpts_bias_free_model(tmp_path, capsys):
    """`--no-bias`: nanoGPT's bias=False recipe, so the two can be compared at equal settings."""
    from engine.storage.checkpoint import load_checkpoint

    text = tmp_path / "book.txt"
    text.write_text(TEXT, encoding="utf-8")
    code, _, err = run(capsys, "train", str(text), "--out", str(tmp_path / "run"), "--no-bias",
                       "--tokenizer", "char", "--d-model", "16", "--heads", "2", "--layers", "1",
                       "--ffn", "32", "--steps", "4", "--eval-interval", "2",
                       "--eval-batches", "1", "--no-token-cache")
    assert code == 0, err
    model = load_checkpoint(tmp_path / "run" / "model.safetensors").model
    assert model.config.bias is False
    assert not [n for n, _ in model.named_parameters() if n.endswith(".bias")]
