"""Autocast, GradScaler and the bf16/fp16 paths on the devices that have them (issue 21: none
of them had a test). Each test skips without its device, so a GPU (or Apple) machine runs
them: `pytest tests/test_accelerators.py`."""
from __future__ import annotations

import pytest
import torch

import engine.training.trainer as trainer_module
from engine.config import ModelConfig, TrainConfig
from engine.devices import amp_dtype, autocast_context, resolve_device
from engine.model.decoder import new_model
from engine.storage.checkpoint import load_checkpoint, save_checkpoint
from engine.text.corpus import corpus_from_text
from engine.training.trainer import Trainer

TEXT = "the cat sat on the mat. the dog sat on the log. " * 40

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
_mps = getattr(torch.backends, "mps", None)
needs_mps = pytest.mark.skipif(not (_mps is not None and _mps.is_available()),
                               reason="no MPS device")


def _trainer(device: str, amp: bool = True, steps: int = 60, model=None) -> Trainer:
    """A small trainer on `device` (a new seeded model, or `model`: e.g. a checkpoint's)."""
    corpus = corpus_from_text(TEXT, tokenizer="char", context_length=16)
    cfg = ModelConfig(vocab_size=corpus.tokenizer.vocab_size, d_model=32, n_head=4, n_layer=2,
                      context_length=16, d_ff=64, dropout=0.0)
    tcfg = TrainConfig(batch_size=8, steps=steps, lr=3e-3, warmup_steps=0, eval_interval=1000,
                       eval_batches=2, amp=amp, device=device)
    return Trainer(model if model is not None else new_model(cfg, 0), corpus, tcfg,
                   device=device)


def _losses(trainer: Trainer, steps: int) -> list[float]:
    return [r.train_loss for r in trainer.run(steps=steps) if r.train_loss is not None]


def _learns(losses: list[float]) -> None:
    assert losses and all(torch.isfinite(torch.tensor(losses)))
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < first - 0.1, (first, last)


# -- CUDA ----------------------------------------------------------------------------------------


@needs_cuda
def test_cuda_autocasts_to_bf16_or_fp16_and_not_when_switched_off():
    device = resolve_device("cuda")
    dtype = amp_dtype(device)
    assert dtype == (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)
    model = new_model(ModelConfig(vocab_size=40, d_model=32, n_head=4, n_layer=2,
                                  context_length=16, d_ff=64), 0).to(device).eval()
    ids = torch.randint(40, (2, 16), device=device)  # (B, T)
    with torch.no_grad(), autocast_context(device, True):
        logits, _ = model(ids)  # (B, T, V)
    assert logits.dtype == dtype
    with torch.no_grad(), autocast_context(device, False):
        logits32, _ = model(ids)
    assert logits32.dtype == torch.float32
    # Half-precision logits agree with fp32's to their own precision.
    assert torch.allclose(logits.float(), logits32, atol=0.1, rtol=0.05)
    assert all(p.dtype == torch.float32 for p in model.parameters())  # master weights


@needs_cuda
def test_cuda_mixed_precision_training_learns_and_keeps_fp32_weights():
    trainer = _trainer("cuda", amp=True)
    _learns(_losses(trainer, 60))
    assert all(p.dtype == torch.float32 and p.device.type == "cuda"
               for p in trainer.model.parameters())
    bf16 = amp_dtype(trainer.device) == torch.bfloat16
    # bf16 has fp32's range: no loss scaling; fp16 needs a GradScaler.
    assert (trainer.state_dict()["scaler"] is None) == bf16


@needs_cuda
def test_cuda_mixed_precision_follows_fp32_closely_for_a_few_steps():
    a, b = _trainer("cuda", amp=True), _trainer("cuda", amp=False)
    la, lb = _losses(a, 5), _losses(b, 5)
    assert la == pytest.approx(lb, rel=0.03)


@needs_cuda
def test_the_fp16_path_scales_the_loss_and_its_scaler_state_resumes_exactly(monkeypatch,
                                                                             tmp_path):
    """Forced to fp16 (as on a GPU without bf16): a GradScaler is made, used, saved with the
    checkpoint, and a resumed run continues exactly."""
    monkeypatch.setattr(trainer_module, "amp_dtype", lambda device: torch.float16)
    monkeypatch.setattr("engine.devices.amp_dtype", lambda device: torch.float16)
    trainer = _trainer("cuda", amp=True, steps=20)
    _losses(trainer, 10)
    state = trainer.state_dict()
    assert state["scaler"] is not None and state["scaler"]["scale"] > 0
    path = save_checkpoint(tmp_path / "half.safetensors", trainer.model,
                           trainer.corpus.tokenizer, trainer=trainer)
    rest = _losses(trainer, 10)
    saved = load_checkpoint(path)
    again = _trainer("cuda", amp=True, steps=20, model=saved.model)
    again.load_state_dict(saved.trainer_state)
    assert again.state_dict()["scaler"]["scale"] == state["scaler"]["scale"]
    assert _losses(again, 10) == pytest.approx(rest, abs=1e-6)


@needs_cuda
def test_a_model_trained_on_cuda_opens_on_the_cpu_with_the_same_weights(tmp_path):
    trainer = _trainer("cuda", amp=True, steps=5)
    _losses(trainer, 5)
    path = save_checkpoint(tmp_path / "m.safetensors", trainer.model, trainer.corpus.tokenizer,
                           trainer=trainer)
    cpu = load_checkpoint(path, device="cpu").model.state_dict()
    for key, value in trainer.model.state_dict().items():
        assert torch.equal(value.cpu(), cpu[key]), key


# -- MPS (Apple) ---------------------------------------------------------------------------------


@needs_mps
def test_mps_trains_in_fp32_without_autocast():
    device = resolve_device("mps")
    assert amp_dtype(device) is None  # MPS autocast is young: fp32 there
    trainer = _trainer("mps", amp=True)
    _learns(_losses(trainer, 60))
    assert all(p.device.type == "mps" and p.dtype == torch.float32
               for p in trainer.model.parameters())
    assert trainer.state_dict()["scaler"] is None
