"""Checkpoints: one safetensors file that round-trips exactly and refuses anything else."""
from __future__ import annotations

import json
import pickle
import random
import struct
from pathlib import Path

import pytest
import safetensors.torch
import torch

from engine.storage.checkpoint import CheckpointError, checkpoint_info, load_checkpoint, save_checkpoint
from engine.config import ModelConfig, TrainConfig
from engine.text.corpus import corpus_from_text
from engine.model.decoder import GPT
from engine.training.trainer import Trainer

TEXT = "to be or not to be, that is the question.\n" * 60


@pytest.fixture(scope="module")
def corpus():
    return corpus_from_text(TEXT, tokenizer="char", context_length=8)


def make_model(corpus, **overrides) -> GPT:
    cfg = dict(vocab_size=corpus.tokenizer.vocab_size, d_model=16, n_head=2, n_layer=2,
               context_length=8, d_ff=32, dropout=0.0)
    cfg.update(overrides)
    torch.manual_seed(0)
    return GPT(ModelConfig(**cfg))


@pytest.fixture(scope="module")
def saved(corpus, tmp_path_factory) -> Path:
    """A checkpoint with trainer state, written once for the corruption tests."""
    model = make_model(corpus)
    trainer = Trainer(model, corpus, TrainConfig(batch_size=4, steps=3, eval_interval=2,
                                                 eval_batches=2), device="cpu")
    list(trainer.run())
    return save_checkpoint(tmp_path_factory.mktemp("ckpt"), model, corpus.tokenizer,
                           trainer=trainer, extra={"note": "hello"})


@pytest.mark.parametrize("overrides", [
    {},
    {"tied": True, "positional": "learned"},
    {"tied": True, "norm": "pre", "activation": "gelu"},
])
def test_round_trip_gives_equal_logits(corpus, tmp_path, overrides):
    model = make_model(corpus, **overrides).eval()
    path = save_checkpoint(tmp_path, model, corpus.tokenizer)
    assert path == tmp_path / "model.safetensors"
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # no temp file left
    ckpt = load_checkpoint(path)
    assert ckpt.model_config == model.config
    assert not ckpt.model.training
    assert ckpt.trainer_state is None and ckpt.train_config is None and ckpt.step == 0
    assert ckpt.tokenizer.vocab.tolist() == corpus.tokenizer.vocab.tolist()
    if model.config.tied:
        assert ckpt.model.lm_head.weight is ckpt.model.embed.wte.weight
        header = safetensors.safe_open(str(path), "pt")
        assert "model.lm_head.weight" not in header.keys()  # stored once
    generator = torch.Generator().manual_seed(0)
    idx = torch.randint(0, model.config.vocab_size, (3, 8), generator=generator)  # (B, T)
    with torch.no_grad():
        assert torch.equal(model(idx)[0], ckpt.model(idx)[0])
    for name, value in model.state_dict().items():
        assert torch.equal(value, ckpt.model.state_dict()[name]), name


def test_trainer_state_and_metadata(corpus, saved):
    ckpt = load_checkpoint(saved)
    assert ckpt.step == 3 and ckpt.train_config.steps == 3
    assert [r["event"] for r in ckpt.history] == ["step", "eval", "eval", "done"]
    assert ckpt.metadata["note"] == "hello"
    assert ckpt.metadata["corpus"] == "<text>"
    state = ckpt.trainer_state
    assert state["generator"].dtype == torch.uint8 and state["rng"]["cpu"].dtype == torch.uint8
    assert len(state["optimizer"]["state"]) == len(list(ckpt.model.parameters()))
    with safetensors.safe_open(str(saved), "pt") as f:
        keys = set(f.keys())
        meta = json.loads(f.metadata()["transformer-explorer"])
    assert {"rng.generator", "rng.global.cpu"} <= keys
    assert any(k.startswith("optim.state.") and k.endswith(".exp_avg_sq") for k in keys)
    assert meta["format"] == "transformer-explorer" and meta["version"] == 1
    assert meta["optimizer"]["param_groups"][0]["params"]


def test_checkpoint_info_reads_the_header(corpus, saved):
    info = checkpoint_info(saved)
    model = load_checkpoint(saved).model
    assert info["step"] == 3 and info["resumable"] is True
    assert info["parameters"] == model.num_params()
    assert info["tokenizer"] == {"name": "char", "vocab_size": corpus.tokenizer.vocab_size}
    assert info["model_config"]["d_model"] == 16
    assert info["val_loss"] is not None and info["records"] == 4
    json.dumps(info)  # printable by `info --json`
    assert checkpoint_info(saved.parent)["step"] == 3  # a directory means its model file


def test_saving_to_a_file_name_and_over_an_old_file(corpus, tmp_path):
    model = make_model(corpus)
    target = tmp_path / "sub" / "my.safetensors"
    assert save_checkpoint(target, model, corpus.tokenizer) == target
    with torch.no_grad():
        model.lm_head.weight.add_(1.0)
    save_checkpoint(target, model, corpus.tokenizer)
    assert torch.equal(load_checkpoint(target).model.lm_head.weight, model.lm_head.weight)
    assert sorted(p.name for p in target.parent.iterdir()) == ["my.safetensors"]
    with pytest.raises(ValueError, match="model_config"):
        save_checkpoint(target, model, corpus.tokenizer, extra={"model_config": {}})


def test_loading_leaves_the_global_rng_alone(saved):
    torch.manual_seed(7)
    expected = torch.rand(2)
    torch.manual_seed(7)
    load_checkpoint(saved)
    assert torch.equal(torch.rand(2), expected)


class _Touch:
    """Unpickling this creates a file: proof that a pickle was (not) executed."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def _bad_files(saved: Path, tmp_path: Path) -> dict[str, Path]:
    good = saved.read_bytes()
    (n,) = struct.unpack("<Q", good[:8])
    files = {
        "empty": b"",
        "tiny": b"\x01\x02",
        "truncated data": good[:-100],
        "truncated header": good[: 8 + n // 2],
        "random": random.Random(0).randbytes(4096),
        "json garbage": struct.pack("<Q", 5) + b"nope!" + b"\0" * 10,
        "pickle": pickle.dumps(_Touch(tmp_path / "pwned")),
        "pickle protocol 2": pickle.dumps({"model": [1, 2, 3]}, protocol=2),
    }
    flipped = bytearray(good)
    flipped[-5] ^= 0xFF  # a flipped bit in the tensor data
    files["flipped byte"] = bytes(flipped)
    paths = {}
    for name, data in files.items():
        p = tmp_path / f"{name.replace(' ', '_')}.safetensors"
        p.write_bytes(data)
        paths[name] = p
    foreign = tmp_path / "foreign.safetensors"
    safetensors.torch.save_file({"weight": torch.zeros(3, 3)}, str(foreign))
    paths["foreign"] = foreign
    foreign_meta = tmp_path / "foreign_meta.safetensors"
    safetensors.torch.save_file({"w": torch.ones(2)}, str(foreign_meta), metadata={"format": "pt"})
    paths["foreign with metadata"] = foreign_meta
    torch_zip = tmp_path / "torch_zip.safetensors"
    torch.save({"w": torch.ones(2)}, torch_zip)
    paths["torch.save zip"] = torch_zip
    return paths


def test_bad_files_raise_checkpoint_error(saved, tmp_path):
    for name, path in _bad_files(saved, tmp_path).items():
        for reader in (load_checkpoint, checkpoint_info):
            if name == "flipped byte" and reader is checkpoint_info:
                continue  # the header alone cannot see damaged tensor data
            with pytest.raises(CheckpointError) as info:
                reader(path)
            message = str(info.value)
            assert "\n" not in message and path.name in message, (name, message)
    assert not (tmp_path / "pwned").exists()  # the pickle was never executed
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(tmp_path / "pickle.safetensors")
    with pytest.raises(CheckpointError, match="another program"):
        load_checkpoint(tmp_path / "foreign.safetensors")
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(tmp_path / "truncated_data.safetensors")
    with pytest.raises(CheckpointError, match="empty"):
        load_checkpoint(tmp_path / "empty.safetensors")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.safetensors")


def test_newer_format_version_is_refused(corpus, tmp_path):
    model = make_model(corpus)
    path = save_checkpoint(tmp_path, model, corpus.tokenizer)
    tensors = safetensors.torch.load_file(str(path))
    with safetensors.safe_open(str(path), "pt") as f:
        metadata = f.metadata()
    meta = json.loads(metadata["transformer-explorer"])
    meta["version"] = 99
    metadata["transformer-explorer"] = json.dumps(meta)
    safetensors.torch.save_file(tensors, str(path), metadata=metadata)
    with pytest.raises(CheckpointError, match="newer"):
        load_checkpoint(path)
