"""GGUF files (llama.cpp, Ollama, LM Studio), dequantized with llama.cpp's own `gguf` package.

The header is walked and checked first (engine.storage.imports.gguf_header), then the file is
memory-mapped. The metadata becomes an `Architecture` (the same description a config.json
gives), the tensors are dequantized to float32 by gguf.quants under Hugging Face's names, and
the tokenizer is rebuilt from the file's own tokens and merges (engine.storage.imports.gguf_vocab).

The conversions llama.cpp made are undone, so the weights are the model's own:
- for the llama architecture, convert_hf_to_gguf.py interleaves each head's Q and K rows
  (row r of the first half and row r of the second half become neighbours), because
  llama.cpp rotates adjacent pairs while Hugging Face rotates the two halves;
- for Gemma, it stores the RMSNorm weights as 1 + w;
- for GPT-NeoX, it regroups the fused QKV rows from head by head ([q k v] of head 0, of head
  1, ...) to all Q rows, then all K, then all V, and older Phi-2 files fuse Q, K and V likewise.
"""
from __future__ import annotations

import math
import os
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from gguf.constants import GGMLQuantizationType
from gguf.quants import _type_traits

from engine.storage.imports.families import (Architecture, RopeScaling,
                                             architecture_from_config, check_size, unsupported)
from engine.storage.imports.family_weights import check_weights
from engine.storage.imports.gguf_header import GgufError, Header, TensorInfo, check_header
from engine.storage.imports.gguf_vocab import tokenizer_json_of
from engine.storage.imports.hf_files import FolderError

# general.architecture -> our family (llama.cpp writes Mistral as "llama").
FAMILY_OF = {"llama": "llama", "mistral": "mistral", "qwen2": "qwen2", "qwen3": "qwen3",
             "gemma": "gemma", "gemma2": "gemma2", "gemma3": "gemma3_text",
             "gptneox": "gpt_neox", "phi2": "phi"}
PERMUTED = ("llama", "mistral")  # rotary in llama.cpp's adjacent-pair layout
GEMMA = ("gemma", "gemma2", "gemma3_text")

# GGUF tensor names -> Hugging Face's.
TOP = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
       "output.weight": "lm_head.weight"}
BLOCK = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
         "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
         "attn_q_norm": "self_attn.q_norm", "attn_k_norm": "self_attn.k_norm",
         "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
         "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm"}
SANDWICH = {**BLOCK, "post_attention_norm": "post_attention_layernorm",
            "ffn_norm": "pre_feedforward_layernorm", "post_ffw_norm": "post_feedforward_layernorm"}
# The LayerNorm families name their tensors their own way ("qkv" stands for Phi's three).
NEOX_TOP = {"token_embd.weight": "gpt_neox.embed_in.weight", "output.weight": "lm_head.weight",
            "output_norm.weight": "gpt_neox.final_layer_norm.weight",
            "output_norm.bias": "gpt_neox.final_layer_norm.bias"}
NEOX_BLOCK = {"attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
              "attn_qkv": "attention.query_key_value", "attn_output": "attention.dense",
              "ffn_up": "mlp.dense_h_to_4h", "ffn_down": "mlp.dense_4h_to_h"}
PHI_TOP = {**TOP, "output_norm.weight": "model.final_layernorm.weight",
           "output_norm.bias": "model.final_layernorm.bias", "output.bias": "lm_head.bias"}
PHI_BLOCK = {"attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj",
             "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
             "attn_qkv": "self_attn.qkv", "attn_output": "self_attn.dense", "ffn_up": "mlp.fc1",
             "ffn_down": "mlp.fc2"}
# family -> (top-level names, block prefix, block names); the others use TOP and BLOCK.
NAMES = {"gpt_neox": (NEOX_TOP, "gpt_neox.layers", NEOX_BLOCK),
         "phi": (PHI_TOP, "model.layers", PHI_BLOCK)}
_BLOCK_NAME = re.compile(r"^blk\.(\d+)\.([a-z_]+)\.(weight|bias)$")


@dataclass
class GgufModel:
    """A GGUF file's model: its architecture, float32 weights under Hugging Face's names, the
    tokenizer.json text rebuilt from its vocabulary, and what it was quantized with."""

    arch: Architecture
    state: dict[str, torch.Tensor]
    tokenizer_json: str | None
    quantization: dict[str, int]  # type name -> number of tensors stored so
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def quantized(self) -> bool:
        """True if any tensor was stored in fewer bits than float16."""
        return any(q not in ("F32", "F16", "BF16") for q in self.quantization)


CHUNK_ELEMENTS = 1 << 22  # dequantized a few million values at a time


def metadata_of(header: Header) -> dict[str, Any]:
    """The file's key/values, the vocabulary's arrays left out (and long strings)."""
    return {k: v for k, v in header.values.items() if not isinstance(v, (list, np.ndarray))}


def _arch(header: Header, where: str) -> Architecture:
    values = header.values

    def _value(key: str, default: Any = None) -> Any:
        return values.get(key, default)

    name = _value("general.architecture")
    family = FAMILY_OF.get(name)
    if family is None:
        raise unsupported(name, where, [f"GGUF architecture {name!r}"])

    def get(key: str, default: Any = None) -> Any:
        return _value(f"{name}.{key}", default)

    tensors = {t.name: t for t in header.tensors}
    if "token_embd.weight" not in tensors:
        raise GgufError(f"'{where}' has no token table (token_embd.weight)")
    C, V = tensors["token_embd.weight"].dims[:2]
    n_head = get("attention.head_count")
    head_dim = get("attention.key_length") or (C // n_head if n_head else None)
    hf = {"model_type": family, "vocab_size": V, "hidden_size": C,
          "num_hidden_layers": get("block_count"), "num_attention_heads": n_head,
          "num_key_value_heads": get("attention.head_count_kv", n_head), "head_dim": head_dim,
          "intermediate_size": get("feed_forward_length"),
          "max_position_embeddings": get("context_length", 2048),
          "rms_norm_eps": get("attention.layer_norm_rms_epsilon", 1e-6),
          "rope_theta": get("rope.freq_base", 10000.0),
          "tie_word_embeddings": "output.weight" not in tensors,
          "attention_bias": False, "bos_token_id": _value("tokenizer.ggml.bos_token_id"),
          "eos_token_id": _value("tokenizer.ggml.eos_token_id")}
    window = get("attention.sliding_window")
    if window:
        hf["sliding_window"] = window
        hf["use_sliding_window"] = True
    if family in GEMMA:  # llama.cpp's Gemma graphs use GELU (tanh), a fact of the family
        hf["hidden_activation"] = "gelu_pytorch_tanh"
    if family in GEMMA and family != "gemma":
        hf["attn_logit_softcapping"] = get("attn_logit_softcapping")
        hf["final_logit_softcapping"] = get("final_logit_softcapping")
        hf["query_pre_attn_scalar"] = head_dim  # llama.cpp scales by 1/sqrt(key_length)
    if family == "gemma3_text":
        hf["rope_local_base_freq"] = 10000.0
    if family == "qwen2":
        hf["max_window_layers"] = 0
    if family in NAMES:  # LayerNorm, biases, a part of each head turned
        _layer_norm_family(hf, family, get, tensors)
    scaling = get("rope.scaling.type")
    if scaling == "linear":
        hf["rope_scaling"] = {"rope_type": "linear", "factor": get("rope.scaling.factor", 1.0)}
    arch = architecture_from_config(hf, where)
    if "rope_freqs.weight" in tensors:  # Llama 3: the scaling stored as one divisor per pair
        arch = Architecture(**{**arch.__dict__, "rope_scaling": RopeScaling("divisors", 1.0)})
    return arch


def _layer_norm_family(hf: dict[str, Any], family: str, get: Callable[..., Any],
                       tensors: dict[str, TensorInfo]) -> None:
    """GPT-NeoX's and Phi-2's config fields, from what llama.cpp's converter writes."""
    head_dim = hf["head_dim"]
    hf["layer_norm_eps"] = get("attention.layer_norm_epsilon", 1e-5)
    # The converter writes the rotated dims per head; the config holds their fraction.
    fraction = (get("rope.dimension_count") or head_dim) / head_dim
    hf["rotary_pct" if family == "gpt_neox" else "partial_rotary_factor"] = fraction
    up = tensors.get("blk.0.ffn_up.weight")
    if up is not None:  # Phi-2's converter writes 4 x d whatever the model's width
        hf["intermediate_size"] = up.dims[1]
    if family == "gpt_neox":
        hf["hidden_act"] = "gelu"  # the model's own (exact) GELU: a fact of the family
        hf["use_parallel_residual"] = bool(get("use_parallel_residual", True))
        hf["attention_bias"] = "blk.0.attn_qkv.bias" in tensors
    else:
        hf["hidden_act"] = "gelu_new"


def _regroup_neox_qkv(w: np.ndarray, n_head: int) -> np.ndarray:
    """GPT-NeoX's fused QKV rows from llama.cpp's [all Q | all K | all V] back to Hugging
    Face's head by head [q k v of head 0 | of head 1 | ...] (a bias is the 1-column case)."""
    rows = w.shape[0]
    return (w.reshape(3, n_head, rows // 3 // n_head, *w.shape[1:])  # (3, nh, hd, ...)
            .swapaxes(0, 1)  # (nh, 3, hd, ...)
            .reshape(w.shape))


def _unpermute(w: np.ndarray, n_head: int) -> np.ndarray:
    """Undo llama.cpp's Q/K row order: within each head, rows (0, h, 1, h+1, ...) of
    llama.cpp's adjacent-pair rotary back to Hugging Face's halves (0, 1, ..., h-1 | h, ...)."""
    rows = w.shape[0]
    return (w.reshape(n_head, rows // n_head // 2, 2, *w.shape[1:])  # (nh, hd/2, 2, ...)
            .swapaxes(1, 2)  # (nh, 2, hd/2, ...)
            .reshape(w.shape))


def _hf_name(name: str, arch: Architecture) -> str | None:
    top, prefix, table = NAMES.get(arch.family, (TOP, "model.layers",
                                                 SANDWICH if arch.sandwich else BLOCK))
    if name in top:
        return top[name]
    m = _BLOCK_NAME.match(name)
    if m and m.group(2) in table:
        return f"{prefix}.{m.group(1)}.{table[m.group(2)]}.{m.group(3)}"
    return None


def _split_qkv(hf: str, shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """Phi's fused `self_attn.qkv` as the three projections it holds (equal thirds: Phi has
    one K/V head per query head), each with its shape."""
    third = (shape[0] // 3, *shape[1:])
    return {hf.replace(".qkv.", f".{p}_proj."): third for p in "qkv"}


def _dequantized(data: np.ndarray, t: TensorInfo) -> np.ndarray:
    """A tensor's float32 values, shaped (rows, cols) as Hugging Face stores it (GGUF lists
    dims innermost first), dequantized by gguf a few million values at a time."""
    cols = t.dims[0]
    rows = math.prod(t.dims[1:])
    raw = data[t.offset:t.offset + t.n_bytes].reshape(rows, -1)  # (rows, bytes per row)
    out = np.empty((rows, cols), dtype=np.float32)
    step = max(1, CHUNK_ELEMENTS // cols)
    for r in range(0, rows, step):
        chunk = raw[r:r + step]
        if t.qtype == GGMLQuantizationType.F32:
            out[r:r + step] = chunk.view(np.float32)
        elif t.qtype == GGMLQuantizationType.F16:
            out[r:r + step] = chunk.view(np.float16)
        else:  # gguf's own block code, on many rows at once (its dequantize takes 16 rows
            # per call: 12,000 calls for a 135M model)
            out[r:r + step] = _type_traits[t.qtype].dequantize_rows(chunk)  # (step, cols)
    return out.reshape(tuple(reversed(t.dims)))


def read_gguf(path: str | Path, available_bytes: int | None = None,
              before_reading: Callable[[Architecture], None] | None = None) -> GgufModel:
    """A GGUF file's model, dequantized to float32; GgufError / ArchitectureError (one line)
    for a file that lies, a family not supported, or a model too large for memory.
    `before_reading(arch)` may refuse the model (raise) once the header and the tensor list
    are checked, before any weight is dequantized."""
    path = Path(path)
    header = check_header(path)  # every count and offset checked before anything is read
    arch = _arch(header, path.name)
    check_size(arch, path.name, available_bytes)
    data = np.asarray(np.memmap(path, dtype=np.uint8, mode="r"))  # (file bytes,), a plain view
    kinds: Counter[str] = Counter()
    unknown, wanted = [], []
    for t in header.tensors:
        if t.name == "rope_freqs.weight":  # Llama 3's scaling, one divisor per rotary pair
            arch.extra["rope_divisors"] = _dequantized(data, t).reshape(-1).tolist()
            continue
        hf = _hf_name(t.name, arch)
        if hf is None:
            unknown.append(t.name)
        else:
            wanted.append((hf, t))
            kinds[t.qtype.name] += 1
    if unknown:
        raise GgufError(f"'{path.name}' has tensors this program does not know ("
                        f"{', '.join(unknown[:3])}{' ...' if len(unknown) > 3 else ''})")
    shapes: dict[str, tuple[int, ...]] = {}
    for hf, t in wanted:
        shape = tuple(reversed(t.dims))
        shapes.update(_split_qkv(hf, shape) if ".qkv." in hf else {hf: shape})
    try:  # every name and shape the architecture needs, before any data is read
        check_weights(arch, shapes, path.name)
    except FolderError as e:
        raise GgufError(str(e)) from None
    if before_reading is not None:
        before_reading(arch)

    def one(item: tuple[str, TensorInfo]) -> list[tuple[str, torch.Tensor]]:
        hf, t = item
        w = _dequantized(data, t)  # (rows, cols) float32, our own copy
        if arch.family in PERMUTED and hf.endswith(("q_proj.weight", "q_proj.bias")):
            w = _unpermute(w, arch.n_head)
        elif arch.family in PERMUTED and hf.endswith(("k_proj.weight", "k_proj.bias")):
            w = _unpermute(w, arch.n_kv_head)
        elif arch.family == "gpt_neox" and ".query_key_value." in hf:
            w = _regroup_neox_qkv(w, arch.n_head)
        if arch.family in GEMMA and "norm" in hf and hf.endswith(".weight"):
            w = w - 1.0  # llama.cpp stores Gemma's (1 + w)
        if ".qkv." in hf:  # Phi's Q | K | V rows, one third each
            return [(name, torch.from_numpy(np.ascontiguousarray(part))) for name, part in
                    zip(_split_qkv(hf, w.shape), np.split(w, 3))]
        return [(hf, torch.from_numpy(np.ascontiguousarray(w)))]

    # NumPy lets go of the GIL inside the block arithmetic: the cores share the tensors.
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        state = {hf: w for pairs in pool.map(one, wanted) for hf, w in pairs}
    return GgufModel(arch=arch, state=state, tokenizer_json=tokenizer_json_of(header.values,
                                                                           path.name),
                     quantization=dict(kinds), metadata=metadata_of(header))
