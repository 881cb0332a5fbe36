"""GGUF files written here as llama.cpp's convert_hf_to_gguf.py writes them, from a
transformers model: llama.cpp's own tensor names (gguf.TensorNameMap), Q/K rows interleaved for
the llama architecture, Gemma's norms stored as 1 + w, GPT-NeoX's fused QKV rows regrouped as
all Q, all K, all V (and, as older Phi-2 files have it, Phi's Q, K and V fused), the metadata
its converter writes for each family, and the tokenizer as metadata.

gguf's numpy quantizer has no K-quants; for Q4_K and Q6_K the blocks are random bytes with sane
float16 scales: any such bytes are a valid block, and the bar compares two readers of the same
file, so the weights need not be the model's."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from gguf import GGUFWriter, GGMLQuantizationType as Q, MODEL_ARCH, get_tensor_name_map
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import quantize

ARCH = {"llama": (MODEL_ARCH.LLAMA, "llama"), "mistral": (MODEL_ARCH.LLAMA, "llama"),
        "qwen2": (MODEL_ARCH.QWEN2, "qwen2"), "qwen3": (MODEL_ARCH.QWEN3, "qwen3"),
        "gemma2": (MODEL_ARCH.GEMMA2, "gemma2"), "gemma3_text": (MODEL_ARCH.GEMMA3, "gemma3"),
        "gpt_neox": (MODEL_ARCH.GPTNEOX, "gptneox"), "phi": (MODEL_ARCH.PHI2, "phi2")}
# Where each K-quant keeps its float16 scales in a block (byte offsets).
_F16_AT = {Q.Q4_K: (0, 2), Q.Q6_K: (208,), Q.Q5_K: (0, 2), Q.Q3_K: (108,), Q.Q2_K: (80, 82)}


def permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's row order for Q/K: each head's two halves interleaved."""
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def neox_qkv_to_gguf(w: np.ndarray, n_head: int) -> np.ndarray:
    """GPT-NeoX's head-by-head [q k v] rows as llama.cpp's converter writes them: all Q, all K,
    all V."""
    return (w.reshape(n_head, 3, w.shape[0] // n_head // 3, *w.shape[1:])
            .swapaxes(0, 1).reshape(w.shape))


def _layer_norm_metadata(w: GGUFWriter, cfg, kind: str) -> None:
    """What convert_hf_to_gguf.py writes for GPT-NeoX and Phi-2 (no rope base: 10,000)."""
    hd = cfg.hidden_size // cfg.num_attention_heads
    frac = cfg.rope_parameters.get("partial_rotary_factor", getattr(
        cfg, "rotary_pct", getattr(cfg, "partial_rotary_factor", 1.0)))
    w.add_layer_norm_eps(cfg.layer_norm_eps)
    w.add_rope_dimension_count(int(frac * hd))
    if kind == "gpt_neox":
        w.add_parallel_residual(cfg.use_parallel_residual)
    else:
        w.add_head_count_kv(cfg.num_attention_heads)


def k_quant_blocks(rows: int, cols: int, qtype: Q, rng: np.random.Generator) -> np.ndarray:
    """Random, valid blocks of a K-quant for a (rows, cols) matrix, as bytes (rows, nbytes)."""
    block, size = GGML_QUANT_SIZES[qtype]
    data = rng.integers(0, 256, size=(rows, cols // block, size), dtype=np.uint8)
    for at in _F16_AT[qtype]:
        data[..., at:at + 2] = np.frombuffer(np.float16(0.002).tobytes(), np.uint8)
    return data.reshape(rows, -1)


def write_gguf(path: Path, model, tokenizer_json: Path, qtype: Q = Q.F32,
               kind: str = "llama", pre: str = "llama-bpe", seed: int = 0,
               fuse_qkv: bool = False) -> Path:
    """`model` (a transformers CausalLM) as a GGUF file at `path`, its 2-D weights stored as
    `qtype` (1-D ones and the token table's norms stay F32); `fuse_qkv`: Phi's Q, K and V as
    one attn_qkv tensor."""
    cfg = model.config
    arch, arch_name = ARCH[kind]
    w = GGUFWriter(str(path), arch_name)
    names = get_tensor_name_map(arch, cfg.num_hidden_layers)
    hd = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    w.add_block_count(cfg.num_hidden_layers)
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    if kind in ("gpt_neox", "phi"):
        _layer_norm_metadata(w, cfg, kind)
    else:
        w.add_head_count_kv(cfg.num_key_value_heads)
        w.add_key_length(hd)
        w.add_value_length(hd)
        w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
        w.add_rope_freq_base(cfg.rope_parameters["rope_theta"] if "rope_theta" in
                             cfg.rope_parameters else cfg.rope_parameters["full_attention"]
                             ["rope_theta"])
    if getattr(cfg, "sliding_window", None) and kind in ("mistral", "gemma2", "gemma3_text"):
        w.add_sliding_window(cfg.sliding_window)
    tok = json.loads(Path(tokenizer_json).read_text())
    vocab = tok["model"]["vocab"]
    tokens = [None] * cfg.vocab_size
    for t, i in vocab.items():
        tokens[i] = t
    types = [1] * cfg.vocab_size
    for a in tok.get("added_tokens", []):
        tokens[a["id"]] = a["content"]
        types[a["id"]] = 3 if a["special"] else 4
    for i, t in enumerate(tokens):
        if t is None:
            tokens[i], types[i] = f"[PAD{i}]", 5
    if tok["model"].get("byte_fallback"):  # SentencePiece: tokens, scores and types, no merges
        for i, t in enumerate(tokens):
            types[i] = 6 if t.startswith("<0x") and len(t) == 6 else 2 if t == "<unk>" \
                else types[i]
        w.add_tokenizer_model("llama")
        w.add_token_list(tokens)
        w.add_token_types(types)
        w.add_token_scores([-float(i) for i in range(len(tokens))])
        w.add_bos_token_id(vocab["<s>"])
        w.add_eos_token_id(vocab["</s>"])
        w.add_unk_token_id(vocab["<unk>"])
    else:
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre(pre)
        w.add_token_list(tokens)
        w.add_token_types(types)
        w.add_token_merges([m if isinstance(m, str) else " ".join(m)
                            for m in tok["model"]["merges"]])
    rng = np.random.default_rng(seed)
    state = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    if fuse_qkv:  # an older Phi-2 file: Q, K and V rows in one tensor
        for i in range(cfg.num_hidden_layers):
            for suffix in ("weight", "bias"):
                p = f"model.layers.{i}.self_attn."
                state[f"{p}qkv_proj.{suffix}"] = np.concatenate(
                    [state.pop(f"{p}{x}_proj.{suffix}") for x in "qkv"])
    for hf_name, data in state.items():
        if "rotary_emb" in hf_name or "masked_bias" in hf_name or hf_name.endswith(".attn.bias"):
            continue
        if hf_name == "lm_head.weight" and cfg.tie_word_embeddings:
            continue
        base, suffix = hf_name.rsplit(".", 1)
        name = (f"blk.{base.split('.')[2]}.attn_qkv" if base.endswith("qkv_proj")
                else names.get_name(base))
        assert name is not None, hf_name
        if kind == "gpt_neox" and name.endswith("attn_qkv"):
            data = neox_qkv_to_gguf(data, cfg.num_attention_heads)
        if name.endswith(("attn_q", "attn_k")) and kind in ("llama", "mistral"):
            data = permute(data, cfg.num_attention_heads if name.endswith("attn_q")
                           else cfg.num_key_value_heads)
        if kind.startswith("gemma") and "norm" in name:
            data = data + 1.0
        full = f"{name}.{suffix}"
        if data.ndim == 2 and qtype in _F16_AT and data.shape[1] % 256:
            w.add_tensor(full, quantize(data, Q.Q8_0), raw_dtype=Q.Q8_0)  # as llama.cpp falls back
        elif data.ndim == 2 and qtype in _F16_AT:
            w.add_tensor(full, k_quant_blocks(*data.shape, qtype, rng), raw_dtype=qtype)
        elif data.ndim == 2 and qtype != Q.F32:
            w.add_tensor(full, quantize(data, qtype), raw_dtype=qtype)
        else:
            w.add_tensor(full, data.astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def transformers_reads(path: Path):
    """The model transformers itself reads from the GGUF file at `path` (its own config
    mapping, Q/K un-permuting and norm handling; float32, eager attention), and its tokenizer."""
    import transformers
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    meta = load_gguf_checkpoint(str(path))
    cfg = dict(meta["config"])
    kind = cfg.pop("model_type")
    if "head_dim" not in cfg:  # transformers' mapping leaves out key_length (Qwen3, Gemma)
        reader = __import__("gguf").GGUFReader(str(path))
        arch = reader.get_field("general.architecture").contents()
        field = reader.get_field(f"{arch}.attention.key_length")
        if field is not None:
            cfg["head_dim"] = field.contents()
    config = transformers.AutoConfig.for_model(kind, **cfg)
    config._attn_implementation = "eager"
    model = transformers.AutoModelForCausalLM.from_config(config).eval()
    got = load_gguf_checkpoint(str(path), return_tensors=True, model_to_load=model)
    missing, unexpected = model.load_state_dict(got["tensors"], strict=False)
    assert not unexpected and all("lm_head" in k for k in missing), (missing, unexpected)
    if config.tie_word_embeddings:
        model.tie_weights()
    tok = transformers.AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    return model.float().eval(), tok


def transformers_with_file_weights(path: Path, model):
    """For the families transformers cannot read from GGUF (GPT-NeoX, Phi-2): a copy of
    `model` holding the weights of the file at `path`, dequantized by gguf's own public
    `dequantize` and put back in Hugging Face's layout by this helper (the converter's steps
    undone), so that it holds exactly what the file holds."""
    import copy

    import torch
    from gguf import GGUFReader
    from gguf.quants import dequantize

    cfg = model.config
    kind = cfg.model_type
    names = get_tensor_name_map(ARCH[kind][0], cfg.num_hidden_layers)
    back = {}
    for hf_name in model.state_dict():
        base, suffix = hf_name.rsplit(".", 1)
        name = names.get_name(base)
        if name is not None:
            back[f"{name}.{suffix}"] = hf_name
    nh = cfg.num_attention_heads
    state = {}
    for t in GGUFReader(str(path)).tensors:
        data = dequantize(t.data, t.tensor_type).reshape(tuple(reversed(
            [int(d) for d in t.shape])))
        if t.name.endswith(("attn_qkv.weight", "attn_qkv.bias")) and kind == "gpt_neox":
            data = (data.reshape(3, nh, -1, *data.shape[1:]).swapaxes(0, 1)
                    .reshape(data.shape))
            state[back[t.name]] = data
        elif ".attn_qkv." in t.name:  # Phi: Q | K | V
            i, suffix = t.name.split(".")[1], t.name.rsplit(".", 1)[1]
            for x, part in zip("qkv", np.split(data, 3)):
                state[f"model.layers.{i}.self_attn.{x}_proj.{suffix}"] = part
        else:
            state[back[t.name]] = data
    ref = copy.deepcopy(model)
    missing, unexpected = ref.load_state_dict(
        {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in state.items()},
        strict=False)
    assert not unexpected and all("lm_head" in k or "rotary" in k for k in missing), missing
    return ref.float().eval()
