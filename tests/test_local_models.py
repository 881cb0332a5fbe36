"""File → Open model's list of the models already on this computer: the Hugging Face cache,
Ollama's store and LM Studio's folder, described from config.json and GGUF headers only."""
import json
import time

import numpy as np
import pytest

from engine.storage.imports.local_models import find_local_models

gguf = pytest.importorskip("gguf")
from gguf import GGMLQuantizationType as Q  # noqa: E402
from gguf.quants import quantize  # noqa: E402

LLAMA = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 1000,
         "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "torch_dtype": "bfloat16"}


def write_gguf(path, arch="qwen2", qtype=Q.Q8_0, data_pad=0):
    w = gguf.GGUFWriter(str(path), arch)
    w.add_block_count(1)
    w.add_tensor("token_embd.weight", quantize(np.ones((8, 64), np.float32), qtype),
                 raw_dtype=qtype)
    w.add_tensor("output_norm.weight", np.ones(64, np.float32))
    w.write_header_to_file(), w.write_kv_data_to_file(), w.write_tensors_to_file(), w.close()
    return path


@pytest.fixture
def stores(tmp_path):
    hf = tmp_path / "hub"
    snap = hf / "models--HuggingFaceTB--SmolLM2-135M" / "snapshots" / "abc"
    snap.mkdir(parents=True)
    (snap / "config.json").write_text(json.dumps(LLAMA))
    (snap / "model.safetensors").write_bytes(b"\0" * 16)  # weights are never read
    moe = hf / "models--mistralai--Mixtral" / "snapshots" / "def"
    moe.mkdir(parents=True)
    (moe / "config.json").write_text(json.dumps({"model_type": "mixtral"}))
    ollama = tmp_path / "ollama"
    manifest = ollama / "manifests" / "registry.ollama.ai" / "library" / "qwen2.5" / "0.5b"
    manifest.parent.mkdir(parents=True)
    (ollama / "blobs").mkdir()
    blob = write_gguf(ollama / "blobs" / "tmp.gguf")
    import hashlib
    digest = hashlib.sha256(blob.read_bytes()).hexdigest()
    blob.rename(ollama / "blobs" / f"sha256-{digest}")
    manifest.write_text(json.dumps({"layers": [
        {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + "0" * 64},
        {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}"}]}))
    lms = tmp_path / "lmstudio"
    (lms / "bartowski" / "gemma").mkdir(parents=True)
    write_gguf(lms / "bartowski" / "gemma" / "gemma-Q4_0.gguf", "gemma2", Q.Q4_0)
    write_gguf(lms / "bartowski" / "gemma" / "mmproj-f16.gguf", "clip", Q.F16)
    (lms / "bartowski" / "gemma" / "broken.gguf").write_bytes(b"GGUF" + b"\xff" * 40)
    return {"hf_caches": [hf], "ollama": ollama, "lmstudio": [lms]}


def test_every_store_is_listed_with_family_size_and_quantization(stores):
    t = time.perf_counter()
    found = {m.name: m for m in find_local_models(**stores)}
    assert time.perf_counter() - t < 5
    smol = found["HuggingFaceTB/SmolLM2-135M"]
    assert (smol.store, smol.family, smol.quantization, smol.supported) == (
        "huggingface", "llama", "bfloat16", True)
    assert smol.parameters == 2 * (64 * 16 * 8 + 64 * 64 + 3 * 64 * 128 + 128) + 2 * 64000 + 64
    qwen = found["ollama: qwen2.5:0.5b"]
    assert (qwen.family, qwen.quantization, qwen.parameters, qwen.supported) == (
        "qwen2", "Q8_0 (F32)", 8 * 64 + 64, True)
    gemma = found["lmstudio: bartowski/gemma/gemma-Q4_0.gguf"]
    assert gemma.family == "gemma2" and gemma.quantization.startswith("Q4_0")
    assert "lmstudio: bartowski/gemma/mmproj-f16.gguf" not in found
    moe = found["mistralai/Mixtral"]
    assert not moe.supported and "mixture-of-experts" in moe.note
    broken = found["lmstudio: bartowski/gemma/broken.gguf"]
    assert not broken.supported and "\n" not in broken.note
    assert [m.supported for m in find_local_models(**stores)][-1] is False  # supported first


def test_absent_stores_are_empty(tmp_path):
    assert find_local_models([tmp_path / "no"], tmp_path / "no", [tmp_path / "no"]) == []
