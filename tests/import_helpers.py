"""Reference models for the import tests: a tiny byte-level BPE trained with `tokenizers`, and
randomly initialised GPT-2s built by `transformers` (no network)."""
from __future__ import annotations

from pathlib import Path

import torch

TEXTS = [
    "The quick brown fox jumps over the lazy dog. Attention is all you need. " * 8,
    "我们今天学习变压器模型。注意力就是你所需要的。每一层都有残差连接。" * 8,
    "Hello world! It's 2024, isn't it? They'll say we've done it, I'd think.\n\n  spaces\ttab",
]


def train_bpe(folder: Path, vocab_size: int = 400) -> Path:
    """A tiny byte-level BPE saved in GPT-2's format (vocab.json + merges.txt) in `folder`."""
    from tokenizers import ByteLevelBPETokenizer

    tok = ByteLevelBPETokenizer()
    tok.train_from_iterator(TEXTS * 5, vocab_size=vocab_size, min_frequency=1,
                            special_tokens=["<|endoftext|>"], show_progress=False)
    folder.mkdir(parents=True, exist_ok=True)
    tok.save_model(str(folder))
    return folder


def hf_gpt2(vocab_size: int, **kw):
    """A random GPT2LMHeadModel (2 layers, 2 heads, width 32, 64 positions) in eval mode."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(kw.pop("seed", 0))
    cfg = GPT2Config(vocab_size=vocab_size, n_layer=2, n_head=2, n_embd=32, n_positions=64,
                     **kw)
    model = GPT2LMHeadModel(cfg).eval()
    with torch.no_grad():  # larger than the init's 0.02, so a wrong wiring shows in the logits
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return model


def hf_logits(model, ids: torch.Tensor) -> torch.Tensor:
    """Logits (B, T, V) of a transformers model."""
    with torch.no_grad():
        return model(ids).logits
