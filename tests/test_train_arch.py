"""Training a chosen architecture (issue 19 F): GPT-2 and Llama-style models train through the
CLI with evaluations, snapshots and history; they reload and resume exactly."""
from __future__ import annotations

import json
import math

import pytest
import torch

from engine.cli.commands import main
from engine.config import ConfigError, ModelConfig, TrainConfig
from engine.model.presets import ARCHES, arch_of, preset_config
from engine.model.decoder import GPT
from engine.storage.checkpoint import load_checkpoint, save_checkpoint
from engine.storage.imports import open_model
from engine.text.corpus import corpus_from_text
from engine.training.trainer import Trainer
from engine.training.snapshots import SnapshotStore

TEXT = "the quick brown fox jumps over the lazy dog. 注意力让每个位置看向之前的位置。\n" * 60
SIZES = ["--tokenizer", "char", "--d-model", "32", "--heads", "4", "--layers", "2",
         "--context", "16", "--ffn", "64", "--dropout", "0.1", "--batch", "8", "--lr", "3e-3",
         "--warmup", "5", "--eval-batches", "2", "--seed", "3"]


def _train(capsys, *argv) -> dict:
    code = main(["train", *argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_presets_fix_their_parts_and_read_back():
    llama = preset_config("llama", n_kv_head=2, vocab_size=50, n_head=4, tied=True,
                          positional="learned", bias=True)  # fixed fields win over choices
    assert (llama.norm_kind, llama.positional, llama.gated, llama.activation, llama.bias,
            llama.norm, llama.kv_heads, llama.tied) == \
        ("rmsnorm", "rotary", True, "silu", False, "pre", 2, True)
    gpt2 = preset_config("gpt2", vocab_size=50, bias=False)
    assert (gpt2.positional, gpt2.norm, gpt2.activation, gpt2.tied, gpt2.bias) == \
        ("learned", "pre", "gelu_tanh", True, False)
    assert preset_config("gpt", vocab_size=50) == ModelConfig(vocab_size=50)
    assert [arch_of(preset_config(a, vocab_size=9)) for a in ARCHES] == list(ARCHES)
    assert arch_of(ModelConfig(vocab_size=9, norm_kind="rmsnorm")) is None
    with pytest.raises(ConfigError, match="llama"):
        preset_config("gpt2", n_kv_head=2, vocab_size=50)
    with pytest.raises(ConfigError, match="n_kv_head"):
        preset_config("llama", n_kv_head=3, vocab_size=50, n_head=4).validate()


def test_kv_heads_on_another_architecture_is_one_line(tmp_path, capsys):
    (tmp_path / "t.txt").write_text(TEXT, encoding="utf-8")
    code = main(["train", str(tmp_path / "t.txt"), "--out", str(tmp_path / "o"), "--arch",
                 "gpt2", "--kv-heads", "2", *SIZES])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--arch llama" in err
    assert not (tmp_path / "o").exists()
    code = main(["train", str(tmp_path / "t.txt"), "--out", str(tmp_path / "o"), "--arch",
                 "llama", "--positional", "learned", *SIZES])
    err = capsys.readouterr().err
    assert code == 2 and "positional" in err and "rotary" in err and "--arch gpt" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "o").exists()


def test_llama_run_saves_history_and_snapshots_and_continues(tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text(TEXT, encoding="utf-8")
    arch = ["--arch", "llama", "--kv-heads", "2", *SIZES]
    straight = _train(capsys, str(text), "--out", str(tmp_path / "straight"), *arch,
                      "--steps", "12", "--eval-interval", "4")
    assert straight["steps"] == 12 and math.isfinite(straight["val_loss"])
    assert straight["train_loss"] < math.log(straight["vocab_size"])
    ckpt = load_checkpoint(straight["checkpoint"])
    cfg = ckpt.model_config
    assert (cfg.norm_kind, cfg.positional, cfg.gated, cfg.activation, cfg.bias, cfg.kv_heads) \
        == ("rmsnorm", "rotary", True, "silu", False, 2)
    assert arch_of(cfg) == "llama"
    assert [r["step"] for r in ckpt.history if r.get("val_loss") is not None] == [4, 8, 12]
    k_rows = 2 * (32 // 4)  # 2 K/V heads of 8 dims: Wq (32) | Wk (16) | Wv (16)
    assert ckpt.model.state_dict()["blocks.0.attn.qkv.weight"].shape == (32 + 2 * k_rows, 32)
    run_dir = tmp_path / "straight"
    store = SnapshotStore(run_dir / "snapshots")
    steps = store.steps()
    assert steps and steps[-1] == 12
    weights = store.load(steps[-1])
    assert torch.equal(weights["blocks.1.ffn.gate.weight"],
                       ckpt.model.state_dict()["blocks.1.ffn.gate.weight"])

    # The CLI continues a Llama-style run in its own folder (snapshots already there).
    half = _train(capsys, str(text), "--out", str(tmp_path / "half"), *arch, "--steps", "8",
                  "--eval-interval", "4")
    more = _train(capsys, str(text), "--out", str(tmp_path / "half"), "--resume",
                  half["checkpoint"], "--steps", "12", "--eval-interval", "4",
                  "--eval-batches", "2", "--batch", "8", "--tokenizer", "char")
    assert more["steps"] == 12 and math.isfinite(more["val_loss"])
    again = load_checkpoint(more["checkpoint"])
    assert [r["step"] for r in again.history if r.get("val_loss") is not None] == [4, 8, 12]
    assert SnapshotStore(tmp_path / "half" / "snapshots").steps()[-1] == 12


def test_llama_resume_from_checkpoint_is_exact(tmp_path):
    # As tests/test_train.py's, with RMSNorm, rotary, SwiGLU and grouped heads, dropout on.
    corpus = corpus_from_text(TEXT, tokenizer="char", context_length=16)
    cfg = TrainConfig(batch_size=8, steps=12, lr=3e-3, warmup_steps=3, eval_interval=5,
                      eval_batches=2, seed=1)

    def model() -> GPT:
        torch.manual_seed(0)
        return GPT(preset_config("llama", n_kv_head=2, vocab_size=corpus.tokenizer.vocab_size,
                                 d_model=32, n_head=4, n_layer=2, context_length=16, d_ff=64,
                                 dropout=0.1))

    straight = Trainer(model(), corpus, cfg, device="cpu")
    list(straight.run(log_every=3))
    first = Trainer(model(), corpus, cfg, device="cpu")
    list(first.run(steps=6, log_every=3))
    ckpt = load_checkpoint(save_checkpoint(tmp_path, first.model, corpus.tokenizer,
                                           trainer=first))
    assert ckpt.model_config == first.model.config and ckpt.step == 6
    second = Trainer(ckpt.model, corpus, ckpt.train_config, device="cpu")
    second.load_state_dict(ckpt.trainer_state)
    assert list(second.run(log_every=3))[-1].step == 12
    a, b = straight.model.state_dict(), second.model.state_dict()
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


@pytest.mark.parametrize("kind,extra", [
    ("llama", {}), ("qwen2", {"tie_word_embeddings": True}),
    ("gemma2", {"head_dim": 16, "sliding_window": 8, "query_pre_attn_scalar": 16,
                "attn_logit_softcapping": 30.0, "final_logit_softcapping": 20.0}),
    ("gemma3_text", {"head_dim": 16, "sliding_window": 8, "query_pre_attn_scalar": 16,
                     "sliding_window_pattern": 2}),
    ("qwen3", {"head_dim": 16}),
    ("gpt_neox", {"rotary_pct": 0.5, "use_parallel_residual": True}),
    ("phi", {"partial_rotary_factor": 0.5})])
def test_continue_training_an_imported_family(tmp_path, capsys, kind, extra):
    transformers = pytest.importorskip("transformers")
    from tests import tokenizer_helpers as th

    torch.manual_seed(0)
    hf_cfg = transformers.AutoConfig.for_model(
        kind, vocab_size=400, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64, **extra)
    folder = tmp_path / kind
    transformers.AutoModelForCausalLM.from_config(hf_cfg).save_pretrained(folder)
    th.byte_level(folder / "tokenizer.json", vocab_size=400)
    text = tmp_path / "t.txt"
    text.write_text(th.TEXT, encoding="utf-8")
    done = _train(capsys, str(text), "--out", str(tmp_path / "tuned"), "--init-from",
                  str(folder), "--context", "16", "--batch", "4", "--steps", "4",
                  "--eval-interval", "2", "--eval-batches", "1", "--warmup", "1")
    assert done["steps"] == 4 and math.isfinite(done["train_loss"])
    assert math.isfinite(done["val_loss"])
    tuned = load_checkpoint(done["checkpoint"])  # our own checkpoint now, with its tokenizer
    first = open_model(folder)
    assert tuned.model_config == first.model_config and tuned.step == 4
    text_ids = first.tokenizer.encode("The cat sat on the mat.").tolist()
    assert tuned.tokenizer.encode("The cat sat on the mat.").tolist() == text_ids
    a, b = first.model.state_dict(), tuned.model.state_dict()
    ffn = next(k for k in a if k.startswith("blocks.0.ffn.") and k.endswith("weight"))
    assert a.keys() == b.keys() and not torch.equal(a[ffn], b[ffn])


def test_the_windows_job_continues_an_imported_llama(tmp_path):
    """The window's Continue training (engine.training.job, StartFrom) on an imported family."""
    transformers = pytest.importorskip("transformers")
    from engine.training.job import StartFrom, TrainingControl, TrainingRequest, training_job
    from engine.training.job_messages import Records
    from tests import tokenizer_helpers as th

    torch.manual_seed(0)
    hf_cfg = transformers.LlamaConfig(vocab_size=400, hidden_size=32, intermediate_size=64,
                                      num_hidden_layers=1, num_attention_heads=4,
                                      num_key_value_heads=2, max_position_embeddings=32)
    transformers.LlamaForCausalLM(hf_cfg).save_pretrained(tmp_path / "in")
    th.byte_level(tmp_path / "in" / "tokenizer.json", vocab_size=400)
    (tmp_path / "t.txt").write_text(th.TEXT, encoding="utf-8")
    ckpt = open_model(tmp_path / "in")
    start = StartFrom(ckpt.model_config, ckpt.tokenizer, ckpt.model.state_dict(), None)
    request = TrainingRequest(
        ckpt.model_config, TrainConfig(batch_size=4, steps=4, warmup_steps=1, eval_interval=2,
                                       eval_batches=1),
        device="cpu", corpus_path=str(tmp_path / "t.txt"), tokenizer=ckpt.tokenizer.name,
        start_from=start, refresh_interval_s=0.0)
    job = training_job(request, TrainingControl())
    records = []
    try:
        while True:
            message = next(job)
            if isinstance(message, Records):
                records += message.rows
    except StopIteration as stop:
        result = stop.value
    assert result.outcome == "done" and result.step == 4, result.error
    losses = [r["train_loss"] for r in records if r.get("train_loss") is not None]
    assert losses and all(math.isfinite(x) for x in losses)
    tuned = result.state["model"]
    assert not torch.equal(tuned["blocks.0.ffn.gate.weight"],
                           ckpt.model.state_dict()["blocks.0.ffn.gate.weight"])
