"""config.json of today's decoders -> one Architecture; unknown types, sizes needing terabytes
and shard indexes pointing outside the folder get one line each."""
import json
import math

import pytest

from engine.storage.imports.families import (ArchitectureError, SUPPORTED,
                                             architecture_from_config, check_size)
from engine.storage.imports.hf_files import FolderError, safetensor_files

transformers = pytest.importorskip("transformers")

SMALL = dict(vocab_size=300, hidden_size=64, intermediate_size=96, num_hidden_layers=4,
             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128)


def hf_config(kind, **kw):
    """config.json's contents as transformers writes them for `kind`."""
    cls = transformers.AutoConfig.for_model(kind, **{**SMALL, **kw})
    return json.loads(cls.to_json_string())


def test_llama_with_llama3_rope_scaling_and_gqa():
    hf = hf_config("llama", rope_parameters={
        "rope_type": "llama3", "rope_theta": 500000.0, "factor": 32.0, "low_freq_factor": 1.0,
        "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
        tie_word_embeddings=True)
    a = architecture_from_config(hf, "m")
    assert (a.family, a.n_head, a.n_kv_head, a.group_size, a.head_dim) == ("llama", 4, 2, 2, 16)
    assert a.rope_theta == 500000.0 and a.rope_scaling.kind == "llama3"
    assert a.rope_scaling.factor == 32.0 and a.rope_scaling.original_context == 8192
    assert a.tied and a.gated and a.norm == "rms" and a.norm_offset == 0 and not a.qkv_bias
    assert not any(a.sliding_layers) and a.scale == pytest.approx(1 / 4)


def test_legacy_rope_scaling_keys_are_read():
    hf = {"model_type": "llama", **SMALL, "rope_theta": 500000.0, "rope_scaling": {
        "rope_type": "llama3", "factor": 8.0, "original_max_position_embeddings": 8192}}
    a = architecture_from_config(hf, "m")
    assert a.rope_theta == 500000.0 and a.rope_scaling.factor == 8.0


def test_qwen_mistral_families():
    q2 = architecture_from_config(hf_config("qwen2"), "q")
    assert q2.qkv_bias and not q2.out_bias and not q2.qk_norm
    q3 = architecture_from_config(hf_config("qwen3", head_dim=32), "q")
    assert q3.qk_norm and q3.head_dim * q3.n_head != q3.d_model and not q3.qkv_bias
    m = architecture_from_config(hf_config("mistral", sliding_window=8), "m")
    assert m.sliding_window == 8 and all(m.sliding_layers)


def test_gemma_families():
    g = architecture_from_config(hf_config("gemma", head_dim=16), "g")
    assert g.norm_offset == 1.0 and g.embed_scale == pytest.approx(math.sqrt(64))
    assert g.activation == "gelu_tanh" and g.tied and not g.sandwich
    g2 = architecture_from_config(hf_config("gemma2", head_dim=16, sliding_window=8,
                                            query_pre_attn_scalar=24), "g2")
    assert g2.sandwich and g2.attn_softcap == 50.0 and g2.final_softcap == 30.0
    assert g2.sliding_layers == (True, False, True, False)
    assert g2.scale == pytest.approx(24 ** -0.5)
    g3 = architecture_from_config(hf_config("gemma3_text", head_dim=16, sliding_window=8,
                                            num_hidden_layers=7), "g3")
    assert g3.qk_norm and g3.sliding_layers == (True,) * 5 + (False, True)
    assert g3.rope_theta == 1_000_000.0 and g3.rope_local_theta == 10_000.0


def test_partial_rotary_and_parallel_families():
    n = architecture_from_config(hf_config("gpt_neox", rotary_pct=0.25), "n")
    assert n.parallel and not n.shared_norm and n.norm == "layer" and not n.gated
    assert n.rotary_dim == 4 and n.qkv_bias  # 25% of 16 dims
    p = architecture_from_config(hf_config("phi", partial_rotary_factor=0.5), "p")
    assert p.parallel and p.shared_norm and p.head_bias and p.rotary_dim == 8
    assert p.activation == "gelu_tanh"


def test_gpt_neox_has_one_kv_head_per_query_head_whatever_the_file_says():
    n = architecture_from_config({**hf_config("gpt_neox"), "num_key_value_heads": 2,
                                  "head_dim": 8}, "n")
    assert (n.n_kv_head, n.head_dim) == (4, 16)  # transformers' GPT-NeoX reads neither key


def test_gemma3_legacy_keys_and_what_it_cannot_be():
    legacy = {k: v for k, v in hf_config("gemma3_text", head_dim=16).items()
              if k != "rope_parameters"}
    g = architecture_from_config({**legacy, "rope_theta": 1e6, "rope_local_base_freq": 500.0,
                                  "rope_scaling": {"rope_type": "linear", "factor": 8.0}}, "g")
    assert (g.rope_theta, g.rope_local_theta, g.rope_scaling.factor) == (1e6, 500.0, 8.0)
    hf = hf_config("gemma3_text", head_dim=16)
    for bad, words in (({"use_bidirectional_attention": True}, "bidirectional"),
                       ({"rope_parameters": {**hf["rope_parameters"], "sliding_attention": {
                           "rope_type": "linear", "factor": 2.0, "rope_theta": 1e4}}},
                        "scaled local")):
        with pytest.raises(ArchitectureError, match=words) as e:
            architecture_from_config({**hf, **bad}, "g")
        assert "\n" not in str(e.value)


def test_every_supported_family_parses():
    for kind in SUPPORTED:
        a = architecture_from_config(hf_config(kind, head_dim=16), kind)
        assert a.family == kind and a.n_layer == 4 and a.parameters() > 0


@pytest.mark.parametrize("kind,feature", [("mixtral", "mixture-of-experts"),
                                          ("mamba", "state-space"), ("whisperish", "describe")])
def test_an_unknown_type_is_one_line_naming_it_the_families_and_the_missing_feature(kind,
                                                                                    feature):
    with pytest.raises(ArchitectureError) as e:
        architecture_from_config({"model_type": kind, "architectures": ["XForCausalLM"]}, "m")
    msg = str(e.value)
    assert "\n" not in msg and kind in msg and "XForCausalLM" in msg
    assert "llama" in msg and "gemma3_text" in msg and feature in msg


def test_a_config_needing_terabytes_is_refused_up_front():
    hf = {"model_type": "llama", **SMALL, "hidden_size": 65536, "intermediate_size": 131072,
          "num_hidden_layers": 1000, "num_attention_heads": 512, "num_key_value_heads": 512}
    with pytest.raises(ArchitectureError, match=r"billion parameters .* GB") as e:
        architecture_from_config(hf, "huge")
    assert "\n" not in str(e.value)
    with pytest.raises(ArchitectureError, match="number in"):
        architecture_from_config({**hf, "hidden_size": 1 << 40}, "huge")
    small = architecture_from_config({"model_type": "llama", **SMALL}, "s")
    with pytest.raises(ArchitectureError, match="GB free"):
        check_size(small, "s", available_bytes=1000)


@pytest.mark.parametrize("bad", [{"num_attention_heads": 4, "num_key_value_heads": 3},
                                 {"hidden_size": True}, {"rms_norm_eps": -1},
                                 {"rope_scaling": {"rope_type": "yarn", "factor": 4.0}}])
def test_impossible_values_are_one_line(bad):
    with pytest.raises(ArchitectureError) as e:
        architecture_from_config({"model_type": "llama", **SMALL, **bad}, "m")
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("shard", ["../outside.safetensors", "/etc/passwd",
                                   "C:\\x.safetensors", "a/../../x.safetensors"])
def test_shard_index_entries_outside_the_folder_are_refused(tmp_path, shard):
    folder = tmp_path / "m"
    folder.mkdir()
    (tmp_path / "outside.safetensors").write_bytes(b"x")
    (folder / "model.safetensors.index.json").write_text(json.dumps(
        {"weight_map": {"a.weight": "model-1.safetensors", "b.weight": shard}}))
    (folder / "model-1.safetensors").write_bytes(b"x")
    with pytest.raises(FolderError, match="outside the model's folder") as e:
        safetensor_files(folder)
    assert "\n" not in str(e.value)


def test_a_link_leading_out_of_the_folder_is_refused(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (tmp_path / "secret.safetensors").write_bytes(b"x")
    (folder / "s.safetensors").symlink_to(tmp_path / "secret.safetensors")
    (folder / "model.safetensors.index.json").write_text(json.dumps(
        {"weight_map": {"a.weight": "s.safetensors"}}))
    with pytest.raises(FolderError, match="leads outside"):
        safetensor_files(folder)


def test_shards_inside_are_listed_once_in_order(tmp_path):
    for n in ("model-1.safetensors", "model-2.safetensors"):
        (tmp_path / n).write_bytes(b"x")
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {
        "a": "model-1.safetensors", "b": "model-2.safetensors", "c": "model-1.safetensors"}}))
    assert [p.name for p in safetensor_files(tmp_path)] == ["model-1.safetensors",
                                                           "model-2.safetensors"]


@pytest.mark.parametrize("kind", SUPPORTED)
def test_the_expected_weights_are_exactly_what_transformers_saves(tmp_path, kind):
    import safetensors.torch
    import torch

    from engine.storage.imports.family_weights import read_safetensors

    cfg = transformers.AutoConfig.for_model(kind, **{**SMALL, "head_dim": 16})
    state = transformers.AutoModelForCausalLM.from_config(cfg).state_dict()
    arch = architecture_from_config(json.loads(cfg.to_json_string()), kind)
    state = {k: v.contiguous() for k, v in state.items()
             if not (arch.tied and k == "lm_head.weight")}
    safetensors.torch.save_file(state, str(tmp_path / "model.safetensors"))
    got = read_safetensors([tmp_path / "model.safetensors"], arch, kind)
    assert set(got) == set(state) and all(torch.equal(got[k], state[k]) for k in state)
    name = next(k for k in state if k.endswith("q_proj.weight") or k.endswith("qkv.weight")
                or k.endswith("query_key_value.weight"))
    for bad, words in (({**state, name: state[name][:-1]}, "the config needs"),
                       ({k: v for k, v in state.items() if k != name}, "has no tensor"),
                       ({**state, "model.extra.weight": torch.zeros(2)}, "does not explain")):
        safetensors.torch.save_file(bad, str(tmp_path / "bad.safetensors"))
        with pytest.raises(FolderError, match=words) as e:
            read_safetensors([tmp_path / "bad.safetensors"], arch, kind)
        assert "\n" not in str(e.value)
