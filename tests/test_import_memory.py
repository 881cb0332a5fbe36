"""A model too big for the memory this process has free is refused up front, with the figures
(issue 19 G), as `--batch` is: a Hugging Face family folder before its safetensors are read, a
GGUF file before any tensor is dequantized."""
from __future__ import annotations

import pytest
import torch

from engine import devices
from engine.storage.checkpoint import CheckpointError
from engine.storage.imports import family_model, gguf as gguf_reader, open_model
from tests import tokenizer_helpers as th

transformers = pytest.importorskip("transformers")
pytest.importorskip("gguf")
from gguf import GGMLQuantizationType as Q  # noqa: E402

from tests import gguf_helpers as gh  # noqa: E402


@pytest.fixture(scope="module")
def qwen(tmp_path_factory):
    """A tiny Qwen2 folder (Q/K/V biases, 2 K/V heads) and the same model as a Q8_0 GGUF."""
    torch.manual_seed(0)
    cfg = transformers.AutoConfig.for_model(
        "qwen2", vocab_size=400, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128)
    model = transformers.AutoModelForCausalLM.from_config(cfg).float().eval()
    folder = tmp_path_factory.mktemp("qwen") / "tiny-qwen"
    model.save_pretrained(folder)
    tokenizer = th.byte_level(folder / "tokenizer.json", vocab_size=400, bos=None)
    path = gh.write_gguf(folder.parent / "tiny-qwen-q8_0.gguf", model, tokenizer, Q.Q8_0,
                         kind="qwen2", pre="qwen2")
    n = sum(p.numel() for p in model.parameters())
    return folder, path, n


def _never(*args, **kwargs):
    raise AssertionError("weights were read for a model that cannot fit")


@pytest.mark.parametrize("which", ["folder", "gguf"])
def test_a_model_too_big_for_free_memory_is_refused_before_its_weights_are_read(
        qwen, monkeypatch, which):
    folder, path, n = qwen
    target = folder if which == "folder" else path
    assert open_model(target).model.config.n_kv_head == 2  # it opens with memory to spare
    monkeypatch.setattr(devices, "free_memory", lambda device: 3 * n)  # < 2 float32 copies
    monkeypatch.setattr(family_model, "read_safetensors", _never)
    monkeypatch.setattr(gguf_reader, "_dequantized", _never)
    with pytest.raises(CheckpointError) as e:
        open_model(target)
    message = str(e.value)
    assert "\n" not in message and target.name in message and "too large to open" in message
    assert devices.format_bytes(8 * n) in message  # what it needs: weights read, then the model's
    assert devices.format_bytes(3 * n) in message  # what is free
