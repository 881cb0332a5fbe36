"""A model written as a Hugging Face GPT-2 folder reloads in transformers with equal logits."""
import pytest
import torch

from engine.config import ModelConfig
from engine.storage.imports import open_model
from engine.storage.imports.hf_export import ExportError, export_hf
from engine.model.decoder import GPT
from tests.import_helpers import hf_gpt2, hf_logits, train_bpe

transformers = pytest.importorskip("transformers")


def _randomised(cfg, seed=0):
    torch.manual_seed(seed)
    model = GPT(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return model.eval()


@pytest.mark.parametrize("bias,tied,act", [(True, True, "gelu_tanh"), (False, True, "gelu"),
                                           (True, False, "gelu")])
def test_transformers_loads_it_with_equal_logits(tmp_path, bias, tied, act):
    cfg = ModelConfig(vocab_size=300, d_model=32, n_head=4, n_layer=2, context_length=24,
                      d_ff=48, positional="learned", norm="pre", activation=act, tied=tied,
                      bias=bias, ln_eps=1e-4, dropout=0.0)
    model = _randomised(cfg)
    export_hf(model, None, tmp_path / "hf")
    ref = transformers.GPT2LMHeadModel.from_pretrained(tmp_path / "hf").eval()
    ids = torch.randint(0, 300, (2, 24), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert (model(ids)[0] - hf_logits(ref, ids)).abs().max().item() <= 1e-4


def test_an_imported_model_goes_back_out_with_its_tokenizer(tmp_path):
    bpe = train_bpe(tmp_path / "bpe")
    ref = hf_gpt2(400)
    ref.save_pretrained(tmp_path / "in")
    ckpt = open_model(tmp_path / "in", tokenizer_from=bpe)
    done = export_hf(ckpt.model, ckpt.tokenizer, tmp_path / "out")
    assert {"vocab.json", "merges.txt", "config.json", "model.safetensors"} <= set(done.files)
    again = transformers.GPT2LMHeadModel.from_pretrained(tmp_path / "out").eval()
    hf_tok = transformers.GPT2TokenizerFast.from_pretrained(tmp_path / "out")
    text = "The quick brown fox 注意力"
    ids = torch.tensor([hf_tok(text)["input_ids"]])
    assert ids[0].tolist() == ckpt.tokenizer.encode(text).tolist()
    assert (hf_logits(again, ids) - hf_logits(ref, ids)).abs().max().item() <= 1e-5
    reopened = open_model(tmp_path / "out")
    assert reopened.tokenizer.encode(text).tolist() == ids[0].tolist()


def test_only_gpt2_shaped_models_and_free_folders(tmp_path):
    with pytest.raises(ExportError, match="norm='post'.*positional='sinusoidal'.*activation"):
        export_hf(GPT(ModelConfig(vocab_size=10)), None, tmp_path / "a")
    grouped = ModelConfig(vocab_size=10, positional="learned", norm="pre", activation="gelu",
                          n_kv_head=2)
    with pytest.raises(ExportError, match="n_kv_head=2"):  # GPT-2 has one K/V head per query head
        export_hf(GPT(grouped), None, tmp_path / "g")
    cfg = ModelConfig(vocab_size=10, positional="learned", norm="pre", activation="gelu")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="not empty"):
        export_hf(GPT(cfg), None, tmp_path / "b")
    export_hf(GPT(cfg), None, tmp_path / "b", overwrite=True)
    assert (tmp_path / "b" / "notes.txt").read_text() == "mine"


def test_overwrite_never_replaces_one_of_our_models(tmp_path):
    from engine.storage.checkpoint import save_checkpoint
    from engine.text.tokenizers import build_tokenizer

    cfg = ModelConfig(vocab_size=10, positional="learned", norm="pre", activation="gelu")
    model = GPT(cfg)
    saved = save_checkpoint(tmp_path / "run", model, build_tokenizer("char", "abc"))
    with pytest.raises(ExportError, match="would destroy it"):
        export_hf(model, None, tmp_path / "run", overwrite=True)
    assert saved.is_file() and open_model(saved).origin == "transformer-explorer"


def test_overwrite_leaves_no_file_of_the_earlier_model_beside_the_new_one(tmp_path):
    """transformers reads tokenizer.json before vocab.json, and shards before one file: an
    earlier model's would be paired with the new weights."""
    cfg = ModelConfig(vocab_size=10, positional="learned", norm="pre", activation="gelu")
    folder = tmp_path / "exported"
    folder.mkdir()
    for name in ("tokenizer.json", "vocab.json", "merges.txt", "pytorch_model.bin"):
        (folder / name).write_text("an earlier model's")
    (folder / "README.md").write_text("mine")
    done = export_hf(GPT(cfg), None, folder, overwrite=True)  # no BPE: weights and config only
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", *sorted(done.files)]
