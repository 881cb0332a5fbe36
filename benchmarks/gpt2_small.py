"""A GPT-2-small-shaped model built from its configuration (random, seeded, no download).

The one place the benchmarks and the tests get a model of GPT-2's shape: 12 blocks of 12 heads,
a 50,257-token vocabulary (plus our unknown row) and learned positions up to 1,024. `d_model`
(and with it d_ff = 4 x d_model) can be narrowed so that tests keep every count that a panel
lays out (layers, heads, vocabulary, context) while tracing in milliseconds.
"""
from __future__ import annotations

import numpy as np

from engine.config import ModelConfig
from engine.model.decoder import GPT, new_model
from engine.text.tokenizers import Tokenizer

GPT2_VOCAB = 50257  # GPT-2's byte-level BPE has 50,257 tokens
GPT2_LAYERS, GPT2_HEADS, GPT2_WIDTH, GPT2_CONTEXT = 12, 12, 768, 1024


def gpt2_config(d_model: int = GPT2_WIDTH, context_length: int = GPT2_CONTEXT) -> ModelConfig:
    """GPT-2 small's shape (124M parameters at d_model 768), tied, pre-norm, GELU."""
    return ModelConfig(vocab_size=GPT2_VOCAB + 1, d_model=d_model, n_head=GPT2_HEADS,
                       n_layer=GPT2_LAYERS, context_length=context_length, d_ff=4 * d_model,
                       dropout=0.0, positional="learned", activation="gelu", norm="pre",
                       tied=True)


def gpt2_tokenizer() -> Tokenizer:
    """A compact cl100k tokenizer holding the first 50,257 ids (the unknown id is row 50,257)."""
    return Tokenizer("cl100k_base", np.arange(GPT2_VOCAB))


def gpt2_model(d_model: int = GPT2_WIDTH, seed: int = 0,
               context_length: int = GPT2_CONTEXT) -> GPT:
    """A seeded random model of GPT-2 small's shape, in eval mode, as the app shows models."""
    return new_model(gpt2_config(d_model, context_length), seed).eval()


def sharpen_attention(model: GPT, factor: float) -> GPT:
    """Scale every block's Wq and Wk (and their biases) by `factor`, so scores grow by
    factor²: a random model's heads, nearly uniform otherwise, then attend sharply to a few
    tokens each, as trained heads do. For pictures of the panels only; returns the model."""
    import torch

    C = model.config.d_model
    with torch.no_grad():
        for block in model.blocks:
            block.attn.qkv.weight[: 2 * C].mul_(factor)  # rows of Wq | Wk
            block.attn.qkv.bias[: 2 * C].mul_(factor)
    return model


def save_gpt2(path: str, d_model: int = GPT2_WIDTH, seed: int = 0, sharpen: float = 1.0) -> str:
    """Save `gpt2_model(d_model, seed)` (its attention sharpened by `sharpen`) with its
    tokenizer as a .safetensors file; the path."""
    from engine.storage.checkpoint import save_checkpoint

    model = sharpen_attention(gpt2_model(d_model, seed), sharpen)
    return str(save_checkpoint(path, model, gpt2_tokenizer()))


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Save a random GPT-2-shaped model.")
    parser.add_argument("out", help="the .safetensors file to write")
    parser.add_argument("--d-model", type=int, default=GPT2_WIDTH)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sharpen", type=float, default=1.0,
                        help="scale Wq and Wk so the random heads attend sharply (pictures)")
    args = parser.parse_args()
    print(save_gpt2(args.out, args.d_model, args.seed, args.sharpen))


def write_gpt2_bpe_files(folder, n_tokens: int = GPT2_VOCAB) -> None:
    """vocab.json + merges.txt of a GPT-2-sized byte-level BPE (no download): cl100k's first
    `n_tokens - 1` tokens in rank order, each the merge of two earlier ones, and
    <|endoftext|> last, as in GPT-2. A stand-in of GPT-2's size and format, not GPT-2's BPE."""
    import json
    from pathlib import Path

    from engine.text.bpe import bytes_to_unicode
    from engine.text.tokenizers import get_base

    encoding = get_base("cl100k_base").encoding
    to_text = bytes_to_unicode()
    tokens = [encoding.decode_single_token_bytes(rank) for rank in range(n_tokens - 1)]
    vocab, merges = {}, []
    for token in tokens:
        rank = len(vocab)
        if len(token) > 1:  # the split whose two halves are both earlier tokens
            cut = next(i for i in range(1, len(token))
                       if vocab.get(_text(token[:i], to_text), rank) < rank
                       and vocab.get(_text(token[i:], to_text), rank) < rank)
            merges.append(f"{_text(token[:cut], to_text)} {_text(token[cut:], to_text)}")
        vocab[_text(token, to_text)] = rank
    vocab["<|endoftext|>"] = len(vocab)
    folder = Path(folder)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n",
                                       encoding="utf-8")


def _text(data: bytes, to_text: dict[int, str]) -> str:
    return "".join(to_text[b] for b in data)
