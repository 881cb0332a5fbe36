"""nanoGPT checkpoints (ckpt.pt as its train.py writes them) open with the reference's logits."""
import json
import pickle

import pytest
import torch

from engine.model.checks import check_all
from engine.storage.imports import TokenizerNeeded, open_model
from engine.model.trace import run_trace
from tests.import_helpers import hf_gpt2, hf_logits, train_bpe

pytest.importorskip("transformers")

CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
CHARS = sorted(set("First Citizen:\nBefore we proceed any further, hear me speak.\nAll: Speak!"))


@pytest.fixture(scope="module")
def bpe_dir(tmp_path_factory):
    return train_bpe(tmp_path_factory.mktemp("bpe"))


def _reference(vocab_size, bias=True):
    """transformers' GPT-2 with nanoGPT's exact GELU; bias=False: every bias zeroed, which is
    what a bias-free nanoGPT computes."""
    ref = hf_gpt2(vocab_size, activation_function="gelu")
    if not bias:
        with torch.no_grad():
            for name, p in ref.named_parameters():
                if name.endswith(".bias"):
                    p.zero_()
    return ref


def _nanogpt_dict(ref, bias=True, compiled=False, dataset="openwebtext"):
    """The reference's weights as nanoGPT's train.py saves them (nn.Linear: (out, in))."""
    state = {}
    for key, t in ref.state_dict().items():
        if key.endswith((".attn.bias", ".attn.masked_bias")):
            continue
        if not bias and key.endswith(".bias"):
            continue
        if key.endswith(CONV1D):
            t = t.t()
        state[("_orig_mod." if compiled else "") + key] = t.clone().contiguous()
    c = ref.config
    if compiled:  # also as older PyTorch without flash attention saved it: the causal mask
        mask = torch.tril(torch.ones(c.n_positions, c.n_positions)).view(1, 1, c.n_positions, -1)
        for i in range(c.n_layer):
            state[f"_orig_mod.transformer.h.{i}.attn.bias"] = mask
    model_args = dict(n_layer=c.n_layer, n_head=c.n_head, n_embd=c.n_embd,
                      block_size=c.n_positions, bias=bias, vocab_size=c.vocab_size, dropout=0.0)
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(3))])
    return {"model": state, "optimizer": opt.state_dict(), "model_args": model_args,
            "iter_num": 1234, "best_val_loss": torch.tensor(1.25),
            "config": {"dataset": dataset, "batch_size": 12, "compile": compiled}}


def _same_logits(ckpt, ref, text):
    ids = torch.from_numpy(ckpt.tokenizer.encode(text))[None]
    assert ids.shape[1] > 3
    return (ckpt.model(ids)[0] - hf_logits(ref, ids)).abs().max().item()


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("compiled", [False, True])
def test_bpe_run_with_padded_table_matches(tmp_path, bpe_dir, bias, compiled):
    n_ids = len(json.loads((bpe_dir / "vocab.json").read_text(encoding="utf-8")))
    rows = (n_ids + 63) // 64 * 64  # nanoGPT pads to a multiple of 64
    ref = _reference(rows, bias)
    path = tmp_path / "out" / "ckpt.pt"
    path.parent.mkdir()
    torch.save(_nanogpt_dict(ref, bias, compiled), path)
    ckpt = open_model(path, tokenizer_from=bpe_dir)
    assert ckpt.origin == "nanogpt" and ckpt.step == 1234 and ckpt.trainer_state is None
    assert ckpt.model_config.bias is bias and ckpt.model_config.activation == "gelu"
    assert ckpt.model_config.vocab_size == rows and ckpt.tokenizer.vocab_size == rows
    assert _same_logits(ckpt, ref, "The quick brown fox 注意力") <= 1e-4
    tok = ckpt.tokenizer
    assert tok.piece(rows - 1) == "<pad>" and tok.to_original([rows - 1]).tolist() == [-1]
    assert tok.piece(0) != "<pad>"
    if not bias:
        assert not any(n.endswith(".bias") for n, _ in ckpt.model.named_parameters())
    trace = run_trace(ckpt.model, ckpt.tokenizer.encode("The lazy dog 变压器"))
    assert all(c.passed for c in check_all(ckpt.model, trace))


def _char_run(root, ref, chars):
    run = root / "nanoGPT" / "out-shakespeare-char"
    data = root / "nanoGPT" / "data" / "shakespeare_char"
    run.mkdir(parents=True)
    data.mkdir(parents=True)
    torch.save(_nanogpt_dict(ref, dataset="shakespeare_char"), run / "ckpt.pt")
    meta = {"vocab_size": len(chars), "itos": dict(enumerate(chars)),
            "stoi": {c: i for i, c in enumerate(chars)}}
    with open(data / "meta.pkl", "wb") as f:
        pickle.dump(meta, f)
    return run / "ckpt.pt"


def test_char_run_finds_its_meta_pkl_and_passes_every_check(tmp_path):
    ref = _reference(len(CHARS))
    path = _char_run(tmp_path, ref, CHARS)
    ckpt = open_model(path)  # data/shakespeare_char/meta.pkl, found from config['dataset']
    assert ckpt.tokenizer.kind == "char" and ckpt.tokenizer.vocab_size == len(CHARS)
    text = "Before we speak, hear me."
    assert ckpt.tokenizer.decode(ckpt.tokenizer.encode(text)) == text
    assert _same_logits(ckpt, ref, text) <= 1e-4
    trace = run_trace(ckpt.model, ckpt.tokenizer.encode(text))
    assert all(c.passed for c in check_all(ckpt.model, trace))
    # A character the vocabulary lacks is left out (the model has no row for it), and counted.
    assert ckpt.tokenizer.count_unknown("hear 我") == 1
    assert ckpt.tokenizer.decode(ckpt.tokenizer.encode("hear 我")) == "hear "


def test_the_folder_of_a_run_opens_its_ckpt(tmp_path):
    ref = _reference(len(CHARS))
    path = _char_run(tmp_path, ref, CHARS)
    assert open_model(path.parent).step == 1234


def test_without_a_vocabulary_it_asks_for_one(tmp_path, bpe_dir, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tiktoken"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    ref = _reference(50304)
    path = tmp_path / "out" / "ckpt.pt"
    path.parent.mkdir()
    torch.save(_nanogpt_dict(ref), path)
    with pytest.raises(TokenizerNeeded, match="vocab.json and merges.txt"):
        open_model(path)
    # GPT-2's files in the Hugging Face cache are a standard place (here: a stand-in BPE).
    snap = tmp_path / "hf" / "hub" / "models--openai-community--gpt2" / "snapshots" / "abc"
    snap.mkdir(parents=True)
    for name in ("vocab.json", "merges.txt"):
        (snap / name).write_bytes((bpe_dir / name).read_bytes())
    ckpt = open_model(path)
    assert ckpt.tokenizer.vocab_size == 50304 and ckpt.tokenizer.name == "openai-community/gpt2"
    assert _same_logits(ckpt, ref, "The quick brown fox") <= 1e-4


def test_a_char_run_without_meta_asks_for_meta(tmp_path):
    ref = _reference(len(CHARS))
    path = tmp_path / "ckpt.pt"
    torch.save(_nanogpt_dict(ref, dataset="shakespeare_char"), path)
    with pytest.raises(TokenizerNeeded, match="meta.pkl"):
        open_model(path)
    chosen = tmp_path / "elsewhere" / "meta.pkl"
    chosen.parent.mkdir()
    with open(chosen, "wb") as f:
        pickle.dump({"vocab_size": len(CHARS), "itos": dict(enumerate(CHARS)),
                     "stoi": {c: i for i, c in enumerate(CHARS)}}, f)
    for given in (chosen, chosen.parent):
        ckpt = open_model(path, tokenizer_from=given)
        assert ckpt.tokenizer.decode(ckpt.tokenizer.encode("All: Speak!")) == "All: Speak!"


def test_a_modified_nanogpt_is_refused(tmp_path):
    from engine.storage.checkpoint import CheckpointError

    data = _nanogpt_dict(_reference(len(CHARS)))
    data["model_args"]["use_rmsnorm"] = False  # a switch that is off changes nothing
    torch.save(data, tmp_path / "a.pt")
    meta = tmp_path / "meta.pkl"
    with open(meta, "wb") as f:
        pickle.dump({"itos": dict(enumerate(CHARS))}, f)
    assert open_model(tmp_path / "a.pt").model_config.vocab_size == len(CHARS)
    data["model_args"]["use_relu"] = True
    torch.save(data, tmp_path / "b.pt")
    with pytest.raises(CheckpointError, match="use_relu=True"):
        open_model(tmp_path / "b.pt")
