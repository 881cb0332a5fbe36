"""A Llama-shaped model written as a Hugging Face folder is LlamaForCausalLM to `transformers`,
with equal logits (grouped K/V heads included), and goes back out with its tokenizer.json."""
import pytest
import torch

from engine.model.decoder import GPT
from engine.model.presets import preset_config
from engine.storage.imports import open_model
from engine.storage.imports.hf_export import ExportError, export_hf
from tests import tokenizer_helpers as th

transformers = pytest.importorskip("transformers")


def _randomised(cfg, seed=0):
    torch.manual_seed(seed)
    model = GPT(cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():  # norms and biases away from 1 and 0 too
            p.add_(torch.randn_like(p) * (0.3 if "norm" in name else 0.1))
    return model.eval()


def _logits(folder, ids):
    ref = transformers.LlamaForCausalLM.from_pretrained(folder, attn_implementation="eager")
    with torch.no_grad():
        return ref.float().eval()(ids).logits


@pytest.mark.parametrize("kv,tied,bias", [(2, False, False), (1, True, False), (4, False, True)])
def test_transformers_loads_it_as_llama_with_equal_logits(tmp_path, kv, tied, bias):
    cfg = preset_config("llama", n_kv_head=kv, vocab_size=300, d_model=32, n_head=4,
                        n_layer=2, context_length=24, d_ff=48, tied=tied, dropout=0.0,
                        rope_theta=500.0)
    if bias:  # an imported Llama with attention_bias and mlp_bias keeps them
        from dataclasses import replace
        cfg = replace(cfg, bias=True).validate()
    model = _randomised(cfg)
    done = export_hf(model, None, tmp_path / "hf")
    assert done.files == ["config.json", "model.safetensors"]
    ids = torch.randint(0, 300, (2, 24), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours = model(ids)[0]
    theirs = _logits(tmp_path / "hf", ids)
    assert (ours - theirs).abs().max().item() <= 1e-4
    config = transformers.AutoConfig.from_pretrained(tmp_path / "hf")
    assert config.model_type == "llama" and config.num_key_value_heads == kv


def test_an_imported_llama_goes_back_out_with_its_tokenizer(tmp_path):
    torch.manual_seed(0)
    hf_cfg = transformers.LlamaConfig(vocab_size=400, hidden_size=64, intermediate_size=96,
                                      num_hidden_layers=2, num_attention_heads=4,
                                      num_key_value_heads=2, max_position_embeddings=64)
    ref = transformers.LlamaForCausalLM(hf_cfg).eval()
    ref.save_pretrained(tmp_path / "in")
    th.byte_level(tmp_path / "in" / "tokenizer.json", vocab_size=400)
    ckpt = open_model(tmp_path / "in")
    done = export_hf(ckpt.model, ckpt.tokenizer, tmp_path / "out")
    assert {"tokenizer.json", "tokenizer_config.json"} <= set(done.files) and not done.notes
    tok = transformers.AutoTokenizer.from_pretrained(tmp_path / "out")
    text = "The cat sat on the mat. 注意力让每个词看见前面的词。"
    ids = torch.tensor([tok(text)["input_ids"]])  # the file's template puts its BOS first
    assert ids[0].tolist() == [ckpt.tokenizer.base.bos_id, *ckpt.tokenizer.encode(text).tolist()]
    with torch.no_grad():
        want = ref(ids).logits
    assert (_logits(tmp_path / "out", ids) - want).abs().max().item() <= 1e-4
    again = open_model(tmp_path / "out")
    assert again.model_config == ckpt.model_config


def test_what_llama_cannot_hold_is_named(tmp_path):
    from dataclasses import replace

    cfg = preset_config("llama", vocab_size=20, d_model=16, n_head=2, n_layer=1, d_ff=32)
    for change, name in ((dict(final_softcap=3.0), "final_softcap"),
                         (dict(qk_norm=True), "qk_norm"), (dict(norm="post"), "norm"),
                         (dict(norm="parallel"), "norm"), (dict(head_bias=True), "head_bias"),
                         (dict(rope_local_theta=10.0, sliding_window=4, sliding_layers=[True]),
                          "rope_local_theta")):
        with pytest.raises(ExportError, match=f"as Llama.*{name}="):
            export_hf(GPT(replace(cfg, **change)), None, tmp_path / name)
        assert not (tmp_path / name).exists()
