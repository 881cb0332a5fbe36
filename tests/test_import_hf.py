"""Hugging Face GPT-2 folders open with the same logits as transformers, trace and check."""
import json

import numpy as np
import pytest
import torch

from engine.model.checks import check_all
from engine.storage.checkpoint import CheckpointError
from engine.storage.imports import open_model
from engine.model.trace import run_trace
from tests.import_helpers import hf_gpt2, hf_logits, train_bpe

pytest.importorskip("transformers")

PROMPT = "The quick brown fox, 我们的注意力 isn't lazy."


@pytest.fixture(scope="module")
def bpe_dir(tmp_path_factory):
    return train_bpe(tmp_path_factory.mktemp("bpe"))


def _vocab_size(bpe_dir):
    return len(json.loads((bpe_dir / "vocab.json").read_text(encoding="utf-8")))


def _save(model, folder, bpe_dir, safe=True):
    model.save_pretrained(folder)
    if not safe:
        # transformers 5 writes safetensors only; pytorch_model.bin is torch.save of the
        # state dict, as older versions (safe_serialization=False) wrote it.
        (folder / "model.safetensors").unlink()
        torch.save(model.state_dict(), folder / "pytorch_model.bin")
    for name in ("vocab.json", "merges.txt"):
        (folder / name).write_bytes((bpe_dir / name).read_bytes())
    return folder


@pytest.mark.parametrize("safe", [True, False])
@pytest.mark.parametrize("act,eps", [("gelu_new", 1e-5), ("gelu", 1e-3)])
def test_same_logits_as_transformers(tmp_path, bpe_dir, safe, act, eps):
    ref = hf_gpt2(_vocab_size(bpe_dir), activation_function=act, layer_norm_epsilon=eps)
    folder = _save(ref, tmp_path / "gpt2", bpe_dir, safe)
    assert (folder / ("model.safetensors" if safe else "pytorch_model.bin")).is_file()
    ckpt = open_model(folder)
    assert ckpt.origin == "huggingface" and ckpt.train_config is None and ckpt.step == 0
    assert ckpt.model_config.activation == ("gelu_tanh" if act == "gelu_new" else "gelu")
    assert ckpt.model_config.ln_eps == eps and ckpt.model_config.context_length == 64
    ids = ckpt.tokenizer.encode(PROMPT)
    ours, _ = ckpt.model(torch.from_numpy(ids)[None])
    theirs = hf_logits(ref, torch.from_numpy(ids)[None])
    assert (ours - theirs).abs().max().item() <= 1e-4
    assert ckpt.tokenizer.decode(ids) == PROMPT


def test_a_file_of_the_folder_opens_the_same_model(tmp_path, bpe_dir):
    ref = hf_gpt2(_vocab_size(bpe_dir))
    folder = _save(ref, tmp_path / "gpt2", bpe_dir)
    torch.save(ref.state_dict(), folder / "pytorch_model.bin")
    a = open_model(folder / "model.safetensors")
    for other in (open_model(folder / "config.json"), open_model(folder / "pytorch_model.bin")):
        for (ka, va), (kb, vb) in zip(a.model.state_dict().items(),
                                      other.model.state_dict().items()):
            assert ka == kb and torch.equal(va, vb)


def test_traced_equals_fast_and_every_check_passes(tmp_path, bpe_dir):
    ref = hf_gpt2(_vocab_size(bpe_dir), layer_norm_epsilon=1e-4)
    ckpt = open_model(_save(ref, tmp_path / "gpt2", bpe_dir))
    ids = ckpt.tokenizer.encode(PROMPT)
    trace = run_trace(ckpt.model, ids)
    fast, _ = ckpt.model(torch.from_numpy(ids)[None])
    assert np.allclose(trace.values("logits"), fast.detach().numpy(), atol=1e-5)
    checks = check_all(ckpt.model, trace)
    assert [c.name for c in checks] == trace.names()
    failed = [(c.name, c.max_abs_diff) for c in checks if not c.passed]
    assert not failed


def test_weights_without_the_transformer_prefix(tmp_path, bpe_dir):
    import safetensors.torch

    ref = hf_gpt2(_vocab_size(bpe_dir))
    folder = _save(ref, tmp_path / "gpt2", bpe_dir)
    state = {k.removeprefix("transformer."): v.contiguous()
             for k, v in ref.state_dict().items() if k != "lm_head.weight"}
    safetensors.torch.save_file(state, str(folder / "model.safetensors"), {"format": "pt"})
    ckpt = open_model(folder)
    ids = torch.from_numpy(ckpt.tokenizer.encode(PROMPT))[None]
    assert (ckpt.model(ids)[0] - hf_logits(ref, ids)).abs().max().item() <= 1e-4


def test_a_bert_folder_is_named_and_refused(tmp_path):
    folder = tmp_path / "bert"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(
        {"model_type": "bert", "architectures": ["BertForMaskedLM"]}))
    (folder / "model.safetensors").write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00{}")
    with pytest.raises(CheckpointError) as err:
        open_model(folder)
    message = str(err.value)
    assert "bert" in message and "BertForMaskedLM" in message and "GPT-2" in message
    assert "\n" not in message


def test_a_folder_without_a_tokenizer_asks_for_one(tmp_path, bpe_dir):
    from engine.storage.imports import TokenizerNeeded

    ref = hf_gpt2(_vocab_size(bpe_dir))
    folder = tmp_path / "gpt2"
    ref.save_pretrained(folder)
    with pytest.raises(TokenizerNeeded, match="choose its tokenizer: GPT-2's vocab.json"):
        open_model(folder)
    ckpt = open_model(folder, tokenizer_from=bpe_dir / "vocab.json")
    assert ckpt.tokenizer.vocab_size == _vocab_size(bpe_dir)


def test_the_new_config_fields_default_to_the_old_behaviour_and_refuse_nonsense():
    from engine.config import ConfigError, ModelConfig

    old = ModelConfig.from_dict({"vocab_size": 10, "d_model": 8, "n_head": 2})  # an old header
    assert old.bias is True and old.ln_eps == 1e-5 and old.activation == "relu"
    for field, value in (("bias", "no"), ("ln_eps", 0.0), ("ln_eps", True),
                         ("activation", "gelu_new")):
        with pytest.raises(ConfigError) as err:
            ModelConfig(**{field: value}).validate()
        assert err.value.field == field


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_the_parameter_count_of_a_bias_free_model_is_the_models(norm):
    from engine.config import ModelConfig
    from engine.training.memory import param_count
    from engine.model.decoder import GPT

    cfg = ModelConfig(vocab_size=50, d_model=16, n_head=2, n_layer=2, context_length=8, d_ff=40,
                      norm=norm, positional="learned", bias=False)
    assert param_count(cfg) == GPT(cfg).num_params()


def test_a_sharded_folder_opens(tmp_path, bpe_dir):
    import safetensors.torch

    ref = hf_gpt2(_vocab_size(bpe_dir))
    folder = _save(ref, tmp_path / "gpt2", bpe_dir)
    state = {k: v.contiguous() for k, v in ref.state_dict().items() if k != "lm_head.weight"}
    (folder / "model.safetensors").unlink()
    names = sorted(state)
    half = len(names) // 2
    weight_map = {}
    for i, part in enumerate((names[:half], names[half:])):
        shard = f"model-0000{i + 1}-of-00002.safetensors"
        safetensors.torch.save_file({k: state[k] for k in part}, str(folder / shard),
                                    {"format": "pt"})
        weight_map.update(dict.fromkeys(part, shard))
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    ckpt = open_model(folder)
    ids = torch.from_numpy(ckpt.tokenizer.encode(PROMPT))[None]
    assert (ckpt.model(ids)[0] - hf_logits(ref, ids)).abs().max().item() <= 1e-4
    (folder / "model-00002-of-00002.safetensors").unlink()
    with pytest.raises(CheckpointError, match="shards"):
        open_model(folder)
