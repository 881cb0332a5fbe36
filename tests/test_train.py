"""Trainer: it learns, follows its schedule, resumes exactly, obeys pause/stop, survives NaN."""
from __future__ import annotations

import math
import resource
import threading
import time

import pytest
import torch

from engine.storage.checkpoint import load_checkpoint, save_checkpoint
from engine.config import ModelConfig, TrainConfig
from engine.text.corpus import corpus_from_text
from engine.model.decoder import GPT
from engine.training.trainer import StepRecord, Trainer, TrainingDiverged, TrainingError

TEXT = "the quick brown fox jumps over the lazy dog.\n" * 120


@pytest.fixture(scope="module")
def corpus():
    return corpus_from_text(TEXT, tokenizer="char", context_length=16)


def make_model(corpus, seed: int = 0, **overrides) -> GPT:
    cfg = dict(vocab_size=corpus.tokenizer.vocab_size, d_model=32, n_head=4, n_layer=2,
               context_length=16, d_ff=64, dropout=0.0)
    cfg.update(overrides)
    torch.manual_seed(seed)
    return GPT(ModelConfig(**cfg))


def make_cfg(**overrides) -> TrainConfig:
    cfg = dict(batch_size=8, steps=150, lr=3e-3, min_lr=3e-4, warmup_steps=10,
               eval_interval=50, eval_batches=4, seed=1)
    cfg.update(overrides)
    return TrainConfig(**cfg)


def test_loss_decreases_well_below_uniform(corpus):
    trainer = Trainer(make_model(corpus), corpus, make_cfg(), device="cpu")
    records = list(trainer.run(log_every=25))
    evals = [r for r in records if r.event == "eval"]
    assert [r.step for r in evals] == [50, 100, 150]
    uniform = math.log(corpus.tokenizer.vocab_size)
    assert evals[-1].val_loss < 0.5 * uniform
    assert evals[-1].eval_train_loss < 0.5 * uniform
    assert evals[-1].val_loss < evals[0].val_loss
    assert records[-1].event == "done" and records[-1].step == 150
    assert trainer.history == records
    assert trainer.model.training  # evaluation switched back to training mode
    steps = [r for r in records if r.event in ("step", "eval")]
    assert all(r.tokens_per_s > 0 and math.isfinite(r.grad_norm) for r in steps)
    assert all(b.elapsed >= a.elapsed for a, b in zip(records, records[1:]))
    assert records[-1].tokens == 150 * 8 * 16
    assert records[-1].tokens_per_s > 0
    assert StepRecord.from_dict(records[-1].to_dict()) == records[-1]


def test_lr_warmup_then_cosine(corpus):
    cfg = make_cfg(steps=110, warmup_steps=10, lr=1e-3, min_lr=1e-4)
    trainer = Trainer(make_model(corpus), corpus, cfg, device="cpu")
    assert trainer.lr_at(0) == pytest.approx(1e-4)  # (0 + 1) / 10 of the peak
    assert trainer.lr_at(4) == pytest.approx(5e-4)
    assert trainer.lr_at(9) == pytest.approx(1e-3)
    assert trainer.lr_at(10) == pytest.approx(1e-3)
    assert trainer.lr_at(60) == pytest.approx(5.5e-4)  # half way down the cosine
    assert trainer.lr_at(110) == pytest.approx(1e-4)
    assert trainer.lr_at(10_000) == pytest.approx(1e-4)
    decay = [trainer.lr_at(s) for s in range(10, 111)]
    assert all(b <= a for a, b in zip(decay, decay[1:]))
    records = list(trainer.run(steps=3, log_every=1))
    assert [r.lr for r in records[:3]] == pytest.approx([1e-4, 2e-4, 3e-4])


def test_resume_from_checkpoint_is_exact(corpus, tmp_path):
    # Dropout > 0: the resumed run must also continue the dropout random stream.
    cfg = make_cfg(steps=20, eval_interval=7, warmup_steps=5)
    straight = Trainer(make_model(corpus, dropout=0.1), corpus, cfg, device="cpu")
    list(straight.run(log_every=3))

    first = Trainer(make_model(corpus, dropout=0.1), corpus, cfg, device="cpu")
    list(first.run(steps=10, log_every=3))
    torch.rand(5)  # the caller's random stream moving in between must not matter
    path = save_checkpoint(tmp_path, first.model, corpus.tokenizer, trainer=first)
    ckpt = load_checkpoint(path)
    assert ckpt.step == 10 and ckpt.trainer_state is not None
    second = Trainer(ckpt.model, corpus, ckpt.train_config, device="cpu")
    second.load_state_dict(ckpt.trainer_state)
    records = list(second.run(log_every=3))
    assert records[-1].step == 20 and second.tokens == straight.tokens

    a, b = straight.model.state_dict(), second.model.state_dict()
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    sa, sb = straight.optimizer.state_dict()["state"], second.optimizer.state_dict()["state"]
    for i in sa:
        for key in sa[i]:
            assert torch.equal(sa[i][key], sb[i][key]), (i, key)


def test_training_leaves_the_global_rng_alone(corpus):
    trainer = Trainer(make_model(corpus, dropout=0.2), corpus, make_cfg(steps=5), device="cpu")
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    list(trainer.run())
    assert torch.equal(torch.rand(3), expected)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_pause_resume_stop_from_another_thread(corpus):
    trainer = Trainer(make_model(corpus), corpus, make_cfg(steps=1_000_000, eval_interval=10**6),
                      device="cpu")
    records: list[StepRecord] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for record in trainer.run(log_every=1):
                records.append(record)
        except BaseException as e:  # reported by the assertions below
            errors.append(e)

    worker = threading.Thread(target=work)
    worker.start()
    try:
        _wait_for(lambda: len(records) >= 3)
        trainer.request_pause()
        time.sleep(0.2)  # the step in flight finishes
        assert trainer.paused
        n, step, cpu = len(records), trainer.step, _cpu_seconds()
        time.sleep(0.4)
        assert len(records) == n and trainer.step == step  # blocked...
        assert _cpu_seconds() - cpu < 0.1  # ...without burning CPU
        snapshot = trainer.weights_snapshot()  # the lock is free while paused
        assert snapshot.keys() == trainer.model.state_dict().keys()
        trainer.request_resume()
        _wait_for(lambda: len(records) > n + 2)
        trainer.request_pause()
        time.sleep(0.1)
        trainer.request_stop()  # also wakes a paused run
        worker.join(10)
        assert not worker.is_alive()
    finally:
        trainer.request_stop()
        worker.join(10)
    assert not errors
    assert records[-1].event == "stopped" and records[-1].step == trainer.step
    assert all(r.event == "step" for r in records[:-1])
    assert trainer.step < 1_000_000


def test_stop_requested_before_run_ends_it_at_once(corpus):
    trainer = Trainer(make_model(corpus), corpus, make_cfg(steps=100), device="cpu")
    trainer.request_stop()
    records = list(trainer.run())
    assert [r.event for r in records] == ["stopped"] and trainer.step == 0
    assert [r.event for r in trainer.run(steps=2)][-1] == "done"  # the request was consumed


def _all_finite(model: GPT) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


def test_huge_learning_rate_diverges_but_keeps_finite_weights(corpus):
    cfg = make_cfg(steps=200, lr=1e6, min_lr=1e5, warmup_steps=0)
    trainer = Trainer(make_model(corpus), corpus, cfg, device="cpu")
    with pytest.raises(TrainingDiverged, match=r"step \d+.*lower learning rate"):
        list(trainer.run(log_every=5))
    assert _all_finite(trainer.model)


def test_injected_nan_restores_last_good_weights(corpus):
    trainer = Trainer(make_model(corpus), corpus, make_cfg(steps=50), device="cpu")
    states = [trainer.weights_snapshot()]  # weights at steps 0, 2 and 4
    run = trainer.run(log_every=2)
    for _ in range(2):
        next(run)
        states.append(trainer.weights_snapshot())
    with torch.no_grad():
        trainer.model.blocks[0].ffn.fc1.weight[0, 0] = float("nan")
    with pytest.raises(TrainingDiverged, match="step 5.*were restored"):
        next(run)
    assert _all_finite(trainer.model)
    restored = trainer.weights_snapshot()
    assert any(all(torch.equal(restored[k], s[k]) for k in s) for s in states)


def test_nan_loss_step_is_skipped_on_device(corpus, monkeypatch):
    trainer = Trainer(make_model(corpus), corpus, make_cfg(steps=50), device="cpu")
    list(trainer.run(steps=2))
    before = trainer.weights_snapshot()
    real_forward = trainer.model.forward

    def nan_forward(idx, targets=None):
        logits, loss = real_forward(idx, targets)
        return logits, loss * float("nan")

    monkeypatch.setattr(trainer.gradients, "forward", nan_forward)
    with pytest.raises(TrainingDiverged, match="step 3"):
        list(trainer.run(log_every=1))
    after = trainer.weights_snapshot()
    for name in before:  # the NaN update never reached the weights
        assert torch.equal(before[name], after[name]), name


def test_out_of_memory_becomes_a_training_error(corpus, monkeypatch):
    trainer = Trainer(make_model(corpus), corpus, make_cfg(steps=5), device="cpu")

    def oom(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(trainer.corpus, "get_batch", oom)
    with pytest.raises(TrainingError, match="smaller batch"):
        list(trainer.run())
    assert _all_finite(trainer.model)


def test_weights_snapshot_is_a_copy(corpus):
    trainer = Trainer(make_model(corpus, tied=True), corpus, make_cfg(steps=2), device="cpu")
    snap = trainer.weights_snapshot()
    assert all(t.device.type == "cpu" for t in snap.values())
    assert snap["lm_head.weight"] is snap["embed.wte.weight"]  # tying survives the copy
    list(trainer.run())
    for name, value in trainer.model.state_dict().items():
        if name.endswith("weight") and "norm" not in name:
            assert not torch.equal(value, snap[name]), name
    with torch.no_grad():
        snap["embed.wte.weight"].zero_()
    assert trainer.model.embed.wte.weight.abs().sum() > 0


def test_rejects_a_corpus_bigger_than_the_table(corpus):
    model = make_model(corpus, vocab_size=corpus.tokenizer.vocab_size - 1)
    with pytest.raises(ValueError, match="rows"):
        Trainer(model, corpus, make_cfg(), device="cpu")


def test_update_equals_torch_adamw_with_clipping(corpus):
    # The trainer uses the public fused AdamW; its steps must match a plain loop exactly.
    cfg = make_cfg(steps=6, warmup_steps=2, grad_clip=0.5)
    trainer = Trainer(make_model(corpus), corpus, cfg, device="cpu")
    reference = make_model(corpus)
    linear = {id(m.weight) for m in reference.modules() if isinstance(m, torch.nn.Linear)}
    params = list(reference.parameters())
    opt = torch.optim.AdamW(
        [{"params": [p for p in params if id(p) in linear], "weight_decay": cfg.weight_decay},
         {"params": [p for p in params if id(p) not in linear], "weight_decay": 0.0}],
        betas=(cfg.beta1, cfg.beta2), fused=True,
    )
    generator = torch.Generator().manual_seed(cfg.seed)
    for step in range(cfg.steps):
        for group in opt.param_groups:
            group["lr"] = trainer.lr_at(step)
        x, y = corpus.get_batch("train", cfg.batch_size, 16, generator)
        _, loss = reference(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        opt.step()
        opt.zero_grad()
    list(trainer.run())
    for (name, a), b in zip(trainer.model.named_parameters(), params):
        assert torch.equal(a, b), name
    for p_ours, p_ref in zip(trainer.model.parameters(), params):
        ours, ref = trainer.optimizer.state[p_ours], opt.state[p_ref]
        assert all(torch.equal(ours[k], ref[k]) for k in ("step", "exp_avg", "exp_avg_sq"))


def test_devices():
    from engine.devices import DeviceError, autocast_context, list_devices, resolve_device

    devices = list_devices()
    assert devices[0].name == "cpu" and "cores" in devices[0].label
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in {d.name.split(":")[0] for d in devices}
    names = [d.name for d in devices]
    if "cuda:0" not in names:
        with pytest.raises(DeviceError, match=r"^device 'cuda' is not available on this "
                                              r"machine; available: cpu"):
            resolve_device("cuda")
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        resolve_device("tpu")
    with autocast_context(torch.device("cpu")):
        assert not torch.is_autocast_enabled("cpu")  # CPU trains in fp32


@pytest.mark.parametrize("cpu_bf16", [False, True])
def test_cpu_bf16_is_opt_in_with_fp32_master_weights(corpus, cpu_bf16):
    # The CPU trains in fp32 unless bf16 is asked for; then the forward runs under bf16
    # autocast, the weights and optimizer state stay fp32, and the loss still falls.
    trainer = Trainer(make_model(corpus), corpus,
                      make_cfg(steps=30, eval_interval=30, cpu_bf16=cpu_bf16), device="cpu")
    seen = []
    forward = trainer.gradients.forward

    def spy(x, y):
        seen.append((torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu")))
        logits, loss = forward(x, y)
        seen.append(logits.dtype)
        return logits, loss

    trainer.gradients.forward = spy
    records = list(trainer.run(log_every=10))
    assert seen[0] == (cpu_bf16, torch.bfloat16)  # autocast's dtype; enabled only if asked
    assert seen[1] == (torch.bfloat16 if cpu_bf16 else torch.float32)
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())
    state = trainer.optimizer.state_dict()["state"]
    assert all(s["exp_avg"].dtype == torch.float32 for s in state.values())
    steps = [r for r in records if r.event in ("step", "eval")]
    assert steps[-1].train_loss < steps[0].train_loss
    assert math.isfinite(records[-1].train_loss)


@pytest.mark.skipif(not hasattr(resource, "getrusage") or
                    not __import__("sys").platform.startswith("linux"), reason="Linux only")
def test_cpu_steps_reuse_their_memory_instead_of_faulting_it_in_again():
    # nanoGPT's CPU recipe: glibc's default thresholds mapped and zeroed ~2,600 fresh pages
    # every step (13 ms of system time); the trainer keeps them (engine.training.allocator).
    import numpy as np

    from engine.text.corpus import Corpus
    from engine.text.tokenizers import Tokenizer
    from engine.training.allocator import keep_freed_memory

    ids = np.random.default_rng(0).integers(0, 65, 20_000).astype(np.uint16)
    tiny = Corpus(Tokenizer("char", np.arange(65, dtype=np.int64)), ids[:18_000], ids[18_000:],
                  "<random>", "none", 0)
    torch.manual_seed(0)
    model = GPT(ModelConfig(vocab_size=66, d_model=128, n_head=4, n_layer=4, context_length=64,
                            d_ff=512, dropout=0.0, positional="learned", activation="gelu",
                            norm="pre", tied=True))
    trainer = Trainer(model, tiny, make_cfg(batch_size=12, steps=40), device="cpu")
    if not keep_freed_memory():
        pytest.skip("not glibc: the thresholds cannot be set")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the count of pages does not depend on it; the test's time does
    try:
        for _ in range(5):
            trainer._train_step()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(10):
            trainer._train_step()
        faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10
    finally:
        torch.set_num_threads(threads)
    assert faults < 100, f"{faults:.0f} page faults per step"
