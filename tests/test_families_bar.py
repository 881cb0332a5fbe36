"""The bar for each family (issue 19): a random small model made by transformers, its norm
weights and biases perturbed so a wrong formula shows, on a Chinese + English prompt longer
than its sliding window. Our next-token distribution equals transformers' (eager attention,
float32) within 1e-4, the trace equals the fast forward, and every float64 check passes; the
same model written to GGUF at several quantization types equals transformers reading that
file."""
import numpy as np
import pytest
import torch

from engine.model.checks import check_all
from engine.model.trace import run_trace
from engine.storage.imports import open_model
from engine.storage.checkpoint import CheckpointError
from tests import tokenizer_helpers as th

transformers = pytest.importorskip("transformers")
from gguf import GGMLQuantizationType as Q  # noqa: E402

from tests import gguf_helpers as gh  # noqa: E402

PROMPT = ("注意力让每个词看见前面的词。Attention lets every token look at the tokens before "
          "it; 模型预测下一个词。The cat sat on the mat.")
SIZES = dict(vocab_size=400, hidden_size=256, intermediate_size=512, num_hidden_layers=3,
             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
             rms_norm_eps=1e-5)
FAMILIES = {
    "llama": {"rope_parameters": {"rope_type": "llama3", "rope_theta": 50000.0, "factor": 8.0,
                                  "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                  "original_max_position_embeddings": 64}},
    "qwen2": {"tie_word_embeddings": True},
    "mistral": {"sliding_window": 8},
    "qwen3": {"head_dim": 32, "use_sliding_window": True, "sliding_window": 8,
              "max_window_layers": 1},
    "gemma": {"head_dim": 64},
    "gemma2": {"head_dim": 32, "sliding_window": 8, "query_pre_attn_scalar": 48,
               "attn_logit_softcapping": 3.0, "final_logit_softcapping": 2.0},
    # Sliding blocks 0 and 2 turn with the local base, block 1 with the global one, scaled.
    "gemma3_text": {"head_dim": 32, "sliding_window": 8, "query_pre_attn_scalar": 48,
                    "sliding_window_pattern": 2, "attn_logit_softcapping": None,
                    "final_logit_softcapping": None,
                    "rope_parameters": {
                        "full_attention": {"rope_type": "linear", "factor": 4.0,
                                           "rope_theta": 100000.0},
                        "sliding_attention": {"rope_type": "default", "rope_theta": 500.0}}},
    "gpt_neox": {"rotary_pct": 0.5, "hidden_act": "gelu", "use_parallel_residual": True},
    # use_parallel_residual false: the same weights wired one part after the other.
    "gpt_neox/sequential": {"rotary_pct": 0.25, "use_parallel_residual": False,
                            "rope_theta": 5000.0},
    "phi": {"partial_rotary_factor": 0.5, "hidden_act": "gelu_new"},
}
PARALLEL = {"gpt_neox": "ln2", "phi": None}  # the parallel families, and their second norm


def model_type(kind):
    return kind.split("/")[0]


def reference(kind, config=None):
    torch.manual_seed(0)
    cfg = transformers.AutoConfig.for_model(model_type(kind),
                                            **{**SIZES, **(config or FAMILIES[kind])})
    cfg._attn_implementation = "eager"
    model = transformers.AutoModelForCausalLM.from_config(cfg).float().eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name or name.endswith("bias"):
                p.add_(torch.randn_like(p) * 0.3)
    return model


@pytest.fixture(scope="module")
def tokenizer_file(tmp_path_factory):
    return th.byte_level(tmp_path_factory.mktemp("tok") / "tokenizer.json", vocab_size=400)


def saved(tmp_path, kind, tokenizer_file):
    model = reference(kind)
    folder = tmp_path / kind
    model.save_pretrained(folder)
    (folder / "tokenizer.json").write_bytes(tokenizer_file.read_bytes())
    return model, folder


def distributions(logits):
    return torch.softmax(logits.double(), dim=-1).numpy()


@pytest.mark.parametrize("kind", list(FAMILIES))
def test_our_model_equals_transformers_traced_equals_fast_and_every_check_passes(
        tmp_path, tokenizer_file, kind):
    ref, folder = saved(tmp_path, kind, tokenizer_file)
    ckpt = open_model(folder)
    ids = ckpt.tokenizer.encode(PROMPT)
    assert ids.tolist() == th.reference(tokenizer_file)(PROMPT, add_special_tokens=False)[
        "input_ids"]
    window = FAMILIES[kind].get("sliding_window")
    assert len(ids) > 3 * (window or 8)  # the window slides many times
    idx = torch.as_tensor(ids)[None]
    with torch.no_grad():
        ours = distributions(ckpt.model(idx)[0])
        theirs = distributions(ref(idx).logits)
    assert np.abs(ours - theirs).max() < 1e-4
    trace = run_trace(ckpt.model, ids)
    checks = check_all(ckpt.model, trace)
    failed = [(c.name, c.max_abs_diff) for c in checks if not c.passed]
    assert not failed
    names = {c.name for c in checks}
    assert {"rope.freq", "rope.cos", "blocks.0.attn.q_rot"} <= names
    if kind in PARALLEL:  # one sum a block, both parts reading its input
        assert {"blocks.0.resid_parallel", "blocks.0.ffn.act"} <= names
        assert "blocks.0.resid1" not in names
        assert ("blocks.0.ln2" in names) == (PARALLEL[kind] is not None)
        attn, ffn, out = (trace.values(f"blocks.0.{n}") for n in ("attn.out", "ffn.out",
                                                                  "resid_parallel"))
        assert np.abs(trace.values("embed.token") + attn + ffn - out).max() < 1e-4
    elif kind.startswith("gpt_neox"):  # sequential: the pre-norm wiring, LayerNorm and all
        assert {"blocks.0.resid1", "blocks.0.resid2", "blocks.0.ffn.act"} <= names
    else:
        assert "blocks.0.ffn.product" in names
    if kind.startswith(("gpt_neox", "phi")):  # partial rotary: the last dims pass unturned
        d = ckpt.model_config.rotary_size
        assert 0 < d < ckpt.model_config.head_size
        np.testing.assert_array_equal(trace.values("blocks.0.attn.q_rot")[..., d:],
                                      trace.values("blocks.0.attn.q")[..., d:])
    if kind in ("qwen3", "gemma3_text"):
        assert "blocks.0.attn.q_normed" in names
    if kind == "gemma3_text":  # local and global bases: each block reads its own table
        assert {"rope_local.freq", "rope_local.cos", "blocks.0.ln_pa", "blocks.0.ln_pf"} <= names
        from engine.model.checks import step_inputs
        assert "rope_local.cos" in step_inputs(ckpt.model, "blocks.0.attn.q_rot")
        assert "rope.cos" in step_inputs(ckpt.model, "blocks.1.attn.k_rot")
        theta, local = trace.values("rope.freq"), trace.values("rope_local.freq")
        np.testing.assert_allclose(theta[1:], 100000.0 ** (-np.arange(2, 32, 2) / 32) / 4,
                                   rtol=1e-5)
        np.testing.assert_allclose(local[1:], 500.0 ** (-np.arange(2, 32, 2) / 32), rtol=1e-5)
        assert np.isfinite(trace.values("blocks.1.attn.masked")[0, 0, 20, 0])  # full block
    if kind == "gemma2":  # soft-capped scores and logits, four norms a block
        assert {"blocks.0.attn.capped", "logits_capped", "blocks.0.ln_pa", "blocks.0.ln_pf"} \
            <= names
        assert np.abs(trace.values("logits_capped")).max() <= 2.0
    # each K/V head once (GPT-NeoX has one per query head)
    assert trace["blocks.0.attn.k"].shape[1] == (4 if kind.startswith("gpt_neox") else 2)
    if window:  # the mask of a sliding block hides keys `window` back
        masked = trace.values(f"blocks.{2}.attn.masked")[0, 0]
        assert np.isneginf(masked[20, 20 - window]) and np.isfinite(masked[20, 21 - window])


# transformers reads from a Gemma 3 GGUF neither the query scale (llama.cpp's is 1/√head_dim)
# nor the local base or the layer pattern: a model whose own are transformers' defaults.
GGUF_GEMMA3 = {"head_dim": 256, "query_pre_attn_scalar": 256, "sliding_window": 8}


@pytest.mark.parametrize("kind", ["llama", "qwen2", "qwen3", "gemma3_text"])
@pytest.mark.parametrize("qtype", [Q.Q8_0, Q.Q4_K, Q.Q6_K])
def test_gguf_equals_transformers_reading_the_same_file(tmp_path, tokenizer_file, kind, qtype):
    if kind == "gemma3_text":
        model = reference(kind, GGUF_GEMMA3)
    elif kind == "qwen3":  # transformers reads no sliding window from GGUF: compare without one
        FAMILIES_NO_WINDOW = {**FAMILIES["qwen3"], "use_sliding_window": False}
        torch.manual_seed(0)
        cfg = transformers.AutoConfig.for_model(kind, **{**SIZES, **FAMILIES_NO_WINDOW})
        model = transformers.AutoModelForCausalLM.from_config(cfg).eval()
    else:
        model = reference(kind)
    path = gh.write_gguf(tmp_path / "m.gguf", model, tokenizer_file, qtype, kind=kind)
    ckpt = open_model(path)
    ref, ref_tok = gh.transformers_reads(path)
    ids = ckpt.tokenizer.encode(PROMPT)
    assert ids.tolist() == ref_tok(PROMPT, add_special_tokens=False)["input_ids"]
    assert ckpt.metadata["quantization"].get(qtype.name) and ckpt.metadata["quantized"]
    idx = torch.as_tensor(ids)[None]
    with torch.no_grad():
        assert np.abs(distributions(ckpt.model(idx)[0]) - distributions(ref(idx).logits)).max() \
            < 1e-4


# transformers reads neither GPT-NeoX nor Phi-2 from GGUF: the reference is transformers' model
# holding the file's weights, dequantized by gguf's own public code in the test helper.
LAYER_NORM_GGUF = [("gpt_neox", False), ("phi", False), ("phi", True)]


@pytest.mark.parametrize("kind,fused", LAYER_NORM_GGUF,
                         ids=["gpt_neox", "phi", "phi-fused-qkv"])
@pytest.mark.parametrize("qtype", [Q.F32, Q.Q8_0, Q.Q4_K])
def test_gguf_of_the_layer_norm_families_equals_transformers_with_the_files_weights(
        tmp_path, tokenizer_file, kind, fused, qtype):
    # As Phi-2 and Pythia are: one K/V head per query head, the rotary base 10,000 (neither
    # converter writes one).
    model = reference(kind, {**FAMILIES[kind], "rope_theta": 10000.0, "num_key_value_heads": 4})
    path = gh.write_gguf(tmp_path / "m.gguf", model, tokenizer_file, qtype, kind=kind,
                         fuse_qkv=fused)
    ckpt = open_model(path)
    ref = gh.transformers_with_file_weights(path, model)
    if qtype == Q.F32:  # nothing lost: the file's weights are the model's own
        for name, w in model.state_dict().items():
            assert torch.equal(ref.state_dict()[name], w), name
    ids = ckpt.tokenizer.encode(PROMPT)
    idx = torch.as_tensor(ids)[None]
    with torch.no_grad():
        ours = distributions(ckpt.model(idx)[0])
        assert np.abs(ours - distributions(ref(idx).logits)).max() < 1e-4
    assert ckpt.metadata["quantized"] == (qtype != Q.F32)
    assert 0 < ckpt.model_config.rotary_size < ckpt.model_config.head_size  # partial rotary
    checks = check_all(ckpt.model, run_trace(ckpt.model, ids))
    assert not [c.name for c in checks if not c.passed]


@pytest.mark.parametrize("kind", ["mixtral", "phi3"])
def test_a_model_type_not_supported_is_one_line(tmp_path, tokenizer_file, kind):
    cfg = transformers.AutoConfig.for_model(kind, **{**SIZES, "head_dim": 64})
    folder = tmp_path / kind
    cfg.save_pretrained(folder)  # the config alone: nothing else is read
    (folder / "tokenizer.json").write_bytes(tokenizer_file.read_bytes())
    with pytest.raises(CheckpointError) as e:
        open_model(folder)
    line = str(e.value)
    assert "\n" not in line and kind in line and "gpt_neox, phi" in line
    assert {"mixtral": "mixture-of-experts", "phi3": "fused QKV"}[kind] in line
