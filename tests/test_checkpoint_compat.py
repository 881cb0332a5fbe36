"""A checkpoint saved before the engine was rebuilt (main at d26845d) still opens and continues
exactly: the weights and losses of its resumed run equal what that version computed."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine.cli import main
from engine.storage.checkpoint import load_checkpoint

FIXTURE = Path(__file__).parent / "fixtures" / "checkpoint_d26845d"


def test_an_old_checkpoint_opens_with_its_config_and_vocabulary():
    ckpt = load_checkpoint(FIXTURE / "step20.safetensors")
    assert ckpt.model.config.d_model == 32 and ckpt.model.config.n_layer == 2
    text = (FIXTURE / "text.txt").read_text(encoding="utf-8")[:200]
    assert ckpt.tokenizer.decode(ckpt.tokenizer.encode(text)) == text


def test_an_old_checkpoint_continues_exactly(tmp_path, capsys):
    shutil.copy(FIXTURE / "text.txt", tmp_path / "text.txt")
    shutil.copy(FIXTURE / "step20.safetensors", tmp_path / "step20.safetensors")
    expected = json.loads((FIXTURE / "continued_to_40.json").read_text())
    rc = main(["train", str(tmp_path / "text.txt"), "--out", str(tmp_path / "cont"),
               "--resume", str(tmp_path / "step20.safetensors"), "--steps", "40",
               "--no-token-cache", "--device", "cpu"])
    assert rc == 0, capsys.readouterr().err
    records = [json.loads(line) for line in (tmp_path / "cont" / "records.jsonl").open()]
    last = [r for r in records if r["step"] == 40 and r.get("val_loss") is not None][-1]
    for key in ("train_loss", "val_loss", "eval_train_loss"):
        assert last[key] == pytest.approx(expected[key], abs=1e-5), key
    weights = load_file(tmp_path / "cont" / "model.safetensors")
    for name, (total, magnitude) in expected["weights"].items():
        tensor = weights[name].double()
        assert float(tensor.sum()) == pytest.approx(total, abs=1e-4), name
        assert float(tensor.abs().sum()) == pytest.approx(magnitude, rel=1e-6), name
    assert set(expected["weights"]) == {k for k in weights if k.startswith("model.")}
    assert torch.isfinite(weights["model.lm_head.weight"]).all()
