"""GGUF files: metadata -> Architecture, weights dequantized and un-permuted to exactly what
transformers reads from the same file, the file's own tokenizer, and lying headers refused in
one line before anything is allocated."""
import struct

import numpy as np
import pytest
import torch

from engine.storage.imports.families import ArchitectureError
from engine.storage.imports.gguf import read_gguf
from engine.storage.imports.gguf_header import GgufError
from engine.text.fullvocab import FullTokenizer
from engine.text.tokenizer_json import TokenizerJsonBase
from tests import tokenizer_helpers as th

transformers = pytest.importorskip("transformers")
gguf = pytest.importorskip("gguf")
from gguf import GGMLQuantizationType as Q  # noqa: E402

from tests import gguf_helpers as gh  # noqa: E402

SIZES = dict(vocab_size=400, hidden_size=256, intermediate_size=512, num_hidden_layers=2,
             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
             rms_norm_eps=1e-5)
PROMPT = "Attention 注意力 lets every token look back; 模型预测下一个词。The cat sat."


def small_model(kind, **kw):
    torch.manual_seed(0)
    cfg = transformers.AutoConfig.for_model(kind, **{**SIZES, **kw})
    model = transformers.AutoModelForCausalLM.from_config(cfg).eval()
    with torch.no_grad():  # norms away from 1 (Gemma: from 0) so a wrong formula shows
        for name, p in model.named_parameters():
            if "norm" in name or name.endswith("bias"):
                p.add_(torch.randn_like(p) * 0.1)
    return model


@pytest.fixture(scope="module")
def tok_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("tok")
    return {"bpe": th.byte_level(d / "bpe.json", vocab_size=400),
            "spm": th.sentencepiece(d / "spm.json")}


FAMILIES = {"llama": {}, "qwen2": {}, "qwen3": {"head_dim": 32},
            "gemma2": {"head_dim": 64, "sliding_window": 16},
            "gemma3_text": {"head_dim": 64, "sliding_window": 16}}
# Every type on llama; the others (the same dequantizing code) on the families' own tensors.
CASES = [("llama", q) for q in (Q.F32, Q.F16, Q.BF16, Q.Q8_0, Q.Q4_0, Q.Q4_K, Q.Q6_K)] + [
    (k, q) for k in FAMILIES if k != "llama" for q in (Q.F32, Q.Q8_0, Q.Q4_K, Q.Q6_K)]


@pytest.mark.parametrize("kind,qtype", CASES, ids=[f"{k}-{q.name}" for k, q in CASES])
def test_weights_equal_what_transformers_reads_from_the_same_file(tmp_path, tok_files, kind,
                                                                  qtype):
    model = small_model(kind, **FAMILIES[kind])
    path = gh.write_gguf(tmp_path / "m.gguf", model, tok_files["bpe"], qtype, kind=kind)
    got = read_gguf(path)
    ref, ref_tok = gh.transformers_reads(path)
    ref_state = ref.state_dict()
    assert got.arch.family == kind and got.arch.n_kv_head == 2
    for name, w in got.state.items():
        assert torch.equal(w, ref_state[name].float()), name
    assert set(got.state) >= {k for k in ref_state if "rotary" not in k and k != "lm_head.weight"}
    assert got.quantization.get(qtype.name, 0) >= 6 * 2  # the matrices of both blocks
    assert got.quantized == (qtype not in (Q.F32, Q.F16, Q.BF16))
    base = TokenizerJsonBase("gguf", got.tokenizer_json)
    assert base.encode(PROMPT).tolist() == ref_tok(PROMPT, add_special_tokens=False)["input_ids"]
    if qtype == Q.F32:  # nothing lost: exactly the model's own weights, Q/K rows in HF order
        own = model.state_dict()
        for name, w in got.state.items():  # (Gemma's norms went through 1 + w: rounding)
            torch.testing.assert_close(w, own[name], rtol=0, atol=1e-7 if "norm" in name
                                       else 0, msg=name)


def test_sentencepiece_vocabulary_from_gguf_equals_transformers(tmp_path, tok_files):
    model = small_model("llama", vocab_size=600)
    path = gh.write_gguf(tmp_path / "m.gguf", model, tok_files["spm"], Q.Q8_0)
    got = read_gguf(path)
    _, ref_tok = gh.transformers_reads(path)
    tok = FullTokenizer(TokenizerJsonBase("gguf", got.tokenizer_json), rows=600)
    for text in (PROMPT, "罕见字 and ünïcode", th.TEXT[:300]):
        assert tok.encode(text).tolist() == ref_tok(text, add_special_tokens=False)["input_ids"]
        assert tok.base.encode_prompt(text).tolist() == ref_tok(text)["input_ids"]
    assert tok.piece(tok.base.encode("罕")[1]) == "<e7>"  # a byte token shown as its byte


# ---- hostile files ------------------------------------------------------------------------


def _string(s: bytes) -> bytes:
    return struct.pack("<Q", len(s)) + s


def _file(tmp_path, body: bytes, n_tensors=0, n_kv=0, pad=64) -> str:
    p = tmp_path / "x.gguf"
    p.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, n_tensors, n_kv) + body + b"\0" * pad)
    return p


def _tensor(name=b"token_embd.weight", dims=(32, 4), qtype=0, offset=0) -> bytes:
    return (_string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d)
            for d in dims) + struct.pack("<IQ", qtype, offset))


@pytest.mark.parametrize("make,words", [
    (lambda t: _file(t, struct.pack("<Q", 1 << 40) + b"key", n_kv=1), "claims 1,099,511,627,776"),
    (lambda t: _file(t, b"", n_tensors=10**9), "claims 1,000,000,000 tensors"),
    (lambda t: _file(t, b"", n_kv=10**9), "key/values"),
    (lambda t: _file(t, _string(b"a") + struct.pack("<IIQ", 9, 8, 10**12), n_kv=1),
     "items in"),
    (lambda t: _file(t, _tensor(offset=1 << 20), n_tensors=1), "past the end of the file"),
    (lambda t: _file(t, _tensor(qtype=99), n_tensors=1), "unknown quantization type 99"),
    # Q8_1 (llama.cpp's intermediate type): gguf has no dequantization for it
    (lambda t: _file(t, _tensor(qtype=9), n_tensors=1), "Q8_1, a type gguf cannot dequantize"),
    (lambda t: _file(t, _tensor(dims=(31, 4), qtype=8), n_tensors=1), "not whole Q8_0 blocks"),
    (lambda t: _file(t, _tensor(dims=(1 << 39, 1 << 39)), n_tensors=1), "elements"),
    (lambda t: _file(t, _tensor(dims=()), n_tensors=1), "0 dimensions"),
    (lambda t: _file(t, _string(b"a") + struct.pack("<I", 77), n_kv=1), "unknown value type"),
])
def test_lying_headers_are_one_line_and_allocate_nothing(tmp_path, make, words):
    import tracemalloc
    path = make(tmp_path)
    tracemalloc.start()
    with pytest.raises(GgufError) as e:
        read_gguf(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "\n" not in str(e.value) and "x.gguf" in str(e.value) and words in str(e.value)
    assert peak < 10 << 20


@pytest.mark.parametrize("data,words", [(b"", "too short"), (b"GGML" + b"\0" * 40, "'GGUF'"),
                                        (b"GGUF" + struct.pack("<I", 9) + b"\0" * 40,
                                         "version 9")])
def test_not_gguf_at_all(tmp_path, data, words):
    p = tmp_path / "x.gguf"
    p.write_bytes(data)
    with pytest.raises(GgufError, match=words):
        read_gguf(p)


def test_an_architecture_outside_the_families_is_one_line(tmp_path, tok_files):
    w = gguf.GGUFWriter(str(tmp_path / "m.gguf"), "mamba")
    w.add_tensor("token_embd.weight", np.zeros((4, 32), np.float32))
    w.write_header_to_file(), w.write_kv_data_to_file(), w.write_tensors_to_file(), w.close()
    with pytest.raises(ArchitectureError, match="mamba .*state-space") as e:
        read_gguf(tmp_path / "m.gguf")
    assert "\n" not in str(e.value)


def test_a_tensor_of_the_wrong_shape_is_one_line(tmp_path, tok_files):
    model = small_model("qwen2")
    with torch.no_grad():
        model.model.layers[1].mlp.up_proj.weight = torch.nn.Parameter(torch.zeros(500, 256))
    path = gh.write_gguf(tmp_path / "m.gguf", model, tok_files["bpe"], Q.F32, kind="qwen2")
    with pytest.raises(GgufError, match=r"up_proj.weight' is \[500, 256\], the config needs "
                                        r"\[512, 256\]") as e:
        read_gguf(path)
    assert "\n" not in str(e.value)
