"""Issue 11, cases 4 and 5: a diverged, crashed or out-of-memory run keeps its weights, and an
impossible batch is refused before it eats the machine. Also issue 8: public torch APIs only."""
from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import engine.training.memory
from engine.training import trainer as train_mod
from engine.storage.checkpoint import load_checkpoint
from engine.config import ConfigError, ModelConfig, TrainConfig
from engine.text.corpus import corpus_from_text
from engine.training.memory import check_memory, estimate_step
from engine.model.decoder import new_model
from engine.training.runs import build_trainer
from engine.training.trainer import Trainer, TrainingDiverged, TrainingError
from reliability_helpers import SMALL, TEXT, book, train

ROOT = Path(__file__).resolve().parent.parent


# -- case 4: divergence and periodic saves ---------------------------------------------------


def test_divergence_saves_the_last_finite_weights_marked_as_diverged(tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = train(capsys, book(tmp_path), out, "--steps", "200", "--lr", "200",
                         "--eval-interval", "5")
    assert code == 2
    line = [ln for ln in err.splitlines() if ": error:" in ln]
    assert len(line) == 1 and "diverged at step" in line[0]
    assert "lower learning rate" in line[0] and "e.g. 20" in line[0]
    saved = out / "model.diverged.safetensors"
    assert f"saved to {saved}, marked as diverged" in line[0]
    ckpt = load_checkpoint(saved)
    at = int(re.search(r"diverged at step (\d+)", line[0]).group(1))
    assert ckpt.metadata["diverged"]["at_step"] == at
    assert ckpt.step == at - 1 and ckpt.trainer_state is not None
    assert all(bool(torch.isfinite(p).all()) for p in ckpt.model.parameters())
    assert ckpt.history and all(r["step"] < at for r in ckpt.history)
    # The last evaluation's regular checkpoint is there too, and the message names it.
    assert (out / "model.safetensors").is_file() and str(out / "model.safetensors") in line[0]


def test_a_run_saves_at_every_evaluation(tmp_path, capsys, monkeypatch):
    # A crash (here: a bug after the second evaluation) loses at most one interval.
    real_run = Trainer.run

    def crashing_run(self, *args, **kwargs):
        evals = 0
        for record in real_run(self, *args, **kwargs):
            yield record
            evals += record.event == "eval"
            if evals == 2:
                raise RuntimeError("power cut")

    monkeypatch.setattr(Trainer, "run", crashing_run)
    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="power cut"):
        train(capsys, book(tmp_path), out, "--steps", "100", "--eval-interval", "10")
    ckpt = load_checkpoint(out)
    assert ckpt.step == 20 and ckpt.trainer_state is not None
    assert [r["step"] for r in ckpt.history if r["val_loss"] is not None] == [10, 20]


def _small_corpus():
    return corpus_from_text(TEXT, tokenizer="char", context_length=8)


def _small_trainer(corpus, **cfg) -> Trainer:
    mcfg = ModelConfig(vocab_size=corpus.tokenizer.vocab_size, d_model=16, n_head=2, n_layer=1,
                       context_length=8, d_ff=32, dropout=0.0)
    tcfg = TrainConfig(**{"batch_size": 4, "steps": 50, "eval_interval": 100,
                          "eval_batches": 2, "warmup_steps": 0, **cfg})
    return Trainer(new_model(mcfg, 0), corpus, tcfg, device="cpu")


def test_a_non_finite_step_is_skipped_and_not_counted(monkeypatch):
    trainer = _small_trainer(_small_corpus())
    list(trainer.run(steps=2))
    real_forward = trainer.gradients.forward
    monkeypatch.setattr(trainer.gradients, "forward",
                        lambda x, y: (lambda lg, loss: (lg, loss * math.nan))(*real_forward(x, y)))
    with pytest.raises(TrainingDiverged, match="step 3") as info:
        list(trainer.run())
    assert info.value.step == 3 and info.value.kept_step == 2 and info.value.resumable
    assert trainer.step == 2 and trainer.tokens == 2 * 4 * 8
    for state in trainer.optimizer.state.values():  # the optimizer did not count it either
        assert int(state["step"]) == 2


def test_the_trainer_uses_no_private_torch_api():
    source = Path(train_mod.__file__).read_text(encoding="utf-8")
    assert not re.search(r"torch\._[a-z]", source)
    assert "found_inf" not in source


# -- case 5: memory ---------------------------------------------------------------------------


def test_an_impossible_batch_is_refused_naming_the_field(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(engine.training.memory, "free_memory", lambda device: 10**8)  # 100 MB free
    code, _, err = train(capsys, book(tmp_path), tmp_path / "run", "--batch", "100000",
                         "--steps", "5")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "--batch (batch_size): 100,000 windows" in err and "largest batch" in err
    assert not (tmp_path / "run").exists()


def test_the_memory_estimate_is_a_floor_of_the_real_step():
    # Too high an estimate would refuse settings that work: it must stay below what one
    # step really allocates (measured: 877 MB estimated, 917 MB used at batch 1000).
    cfg = ModelConfig(vocab_size=3771)
    est = estimate_step(cfg, TrainConfig(batch_size=4))
    n = sum(p.numel() for p in new_model(cfg, 0).parameters())
    assert est.weights == 4 * n and est.optimizer == 8 * n
    with pytest.raises(ConfigError) as info:
        check_memory(cfg, TrainConfig(batch_size=4), torch.device("cpu"), free=est.total - 1)
    assert info.value.field == "batch_size"
    check_memory(cfg, TrainConfig(batch_size=4), torch.device("cpu"), free=est.total)
    with pytest.raises(ConfigError) as info:
        check_memory(cfg, TrainConfig(batch_size=4), torch.device("cpu"), free=est.fixed - 1)
    assert info.value.field == "d_model"


_MEASURE_STEP = """
import json, sys, torch
torch.set_num_threads(1)
from engine.config import ModelConfig, TrainConfig
from engine.text.corpus import corpus_from_text
from engine.training.memory import estimate_step
from engine.training.runs import build_trainer

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024

text = "".join(chr(0x4E00 + (i * 7919) % 3000) for i in range(40000))  # 3,000 characters
corpus = corpus_from_text(text, tokenizer="char", context_length=16)
tcfg = TrainConfig(batch_size=int(sys.argv[1]), steps=2, eval_interval=100, warmup_steps=0,
                   amp=False)
base = status("VmRSS")
open("/proc/self/clear_refs", "w").write("5")  # the peak (VmHWM) restarts from here
trainer = build_trainer(ModelConfig(vocab_size=3001), tcfg, corpus, device="cpu")
list(trainer.run(steps=1))
print(json.dumps({"peak": status("VmHWM") - base,
                  "estimate": estimate_step(trainer.model.config, tcfg).total}))
"""


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="Linux's peak RSS reset")
def test_the_memory_estimate_holds_to_a_measured_real_step():
    """Issue 21: the test above compares the estimate with itself, so multiplying the
    activations by 100 passed. Here one real training step (the default model, batch 250, in
    a child process) is measured as its peak RSS above what the process held before: the
    estimate is a floor of it, and the step takes at most twice the estimate (measured 1.31x
    at batch 250 and 1.15x at batch 1000: allocator slack and temporaries)."""
    proc = subprocess.run([sys.executable, "-c", _MEASURE_STEP, "250"], capture_output=True,
                          text=True, cwd=ROOT, timeout=300,
                          env=dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["estimate"] <= got["peak"] <= 2 * got["estimate"], got


def test_build_trainer_checks_memory(monkeypatch):
    monkeypatch.setattr(engine.training.memory, "free_memory", lambda device: 10**8)
    corpus = _small_corpus()
    with pytest.raises(ConfigError, match="batch_size"):
        build_trainer(ModelConfig(context_length=8), TrainConfig(batch_size=10_000), corpus,
                      device="cpu")


_AS_LIMITED = """
import resource, sys
limit = int(sys.argv[1]) << 20
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import engine.training.memory, engine.training.runs
if sys.argv[2] == "unchecked":  # the estimate switched off: the allocator itself must fail
    engine.training.memory.check_memory = engine.training.runs.check_memory = lambda *a, **k: None
from engine.cli.commands import main
sys.exit(main(sys.argv[3:]))
"""


def _limited(tmp_path, mode: str, *argv) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _AS_LIMITED, "3000", mode, "train", str(book(tmp_path)),
         "--out", str(tmp_path / "run"), *argv],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )


def test_under_a_memory_limit_an_impossible_batch_is_refused_up_front(tmp_path):
    proc = _limited(tmp_path, "checked", "--batch", "6000", "--steps", "5")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "--batch (batch_size)" in proc.stderr and "free on cpu" in proc.stderr


def test_a_cpu_allocation_failure_is_caught_like_device_oom(tmp_path):
    proc = _limited(tmp_path, "unchecked", "--batch", "60000", "--steps", "5")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ": error:" in ln]
    assert len(errors) == 1 and "out of memory on cpu at step 1" in errors[0]


def test_cpu_allocator_message_becomes_a_training_error(monkeypatch):
    trainer = _small_trainer(_small_corpus())
    list(trainer.run(steps=3))
    before = trainer.weights_snapshot()

    def alloc_fails(*args, **kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: "
                           "can't allocate memory: you tried to allocate 1073741824 bytes.")

    monkeypatch.setattr(trainer.corpus, "get_batch", alloc_fails)
    with pytest.raises(TrainingError, match="out of memory on cpu at step 4"):
        list(trainer.run())
    after = trainer.weights_snapshot()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_other_runtime_errors_are_not_called_out_of_memory(monkeypatch):
    trainer = _small_trainer(_small_corpus())
    monkeypatch.setattr(trainer.corpus, "get_batch",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("a bug")))
    with pytest.raises(RuntimeError, match="a bug"):
        list(trainer.run())


def test_out_of_memory_mid_run_saves_the_weights_trained_so_far(tmp_path, capsys, monkeypatch):
    real = type(_small_corpus()).get_batch
    calls = {"n": 0}

    def fails_at_the_eighth(self, split, *args, **kwargs):
        if split == "train":
            calls["n"] += 1
            if calls["n"] == 8:
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return real(self, split, *args, **kwargs)

    monkeypatch.setattr(type(_small_corpus()), "get_batch", fails_at_the_eighth)
    out = tmp_path / "run"
    code, _, err = train(capsys, book(tmp_path), out, "--steps", "50", "--eval-interval", "100")
    assert code == 2 and "out of memory" in err
    assert f"the weights of step 7 were saved to {out / 'model.safetensors'}" in err
    assert load_checkpoint(out).step == 7
