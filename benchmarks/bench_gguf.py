"""Opening a GGUF file: the SmolLM2-135M shape (30 blocks, 9 heads, 3 K/V heads, d 576, FFN
1,536, vocabulary 49,152, tied), random weights, written once as Q4_0 (and its 1-D tensors F32)
with a byte-level vocabulary of 49,152 tokens, no download. Prints one JSON object: the file's
size, and the seconds to read it (header checked, every tensor dequantized to float32, Q/K
un-permuted, the tokenizer rebuilt) by this program and by transformers' own GGUF loader
(its load_gguf_checkpoint, then the model built from its config and the weights loaded: the
work from_pretrained(gguf_file=...) does, which itself also needs `accelerate`).

    .venv/bin/python benchmarks/bench_gguf.py

Target (issue 19): a 135M-parameter Q4 GGUF opens in <= 3 s on this 2-core machine.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SMOLLM2 = dict(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
               num_attention_heads=9, num_key_value_heads=3, max_position_embeddings=2048,
               rms_norm_eps=1e-5, tie_word_embeddings=True)


def vocabulary(n: int, path: Path) -> Path:
    """A byte-level BPE tokenizer.json of exactly n tokens: the 256 bytes, then merges of
    pairs (and triples) of printable characters, in order."""
    from engine.text.bpe import bytes_to_unicode

    chars = list(bytes_to_unicode().values())
    vocab = {c: i for i, c in enumerate(chars)}
    merges = []
    letters = list(dict.fromkeys([c for c in chars if c.isalnum()] + ["Ġ"]))
    for a in letters:
        for b in letters:
            if len(vocab) >= n:
                break
            vocab[a + b] = len(vocab)
            merges.append([a, b])
    for ab in list(vocab)[256:]:
        for c in letters:
            if len(vocab) >= n:
                break
            vocab[ab + c] = len(vocab)
            merges.append([ab, c])
    data = {"version": "1.0", "added_tokens": [], "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False,
                              "trim_offsets": True, "use_regex": True},
            "post_processor": None, "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "vocab": vocab, "merges": merges}}
    path.write_text(json.dumps(data))
    return path


def main() -> None:
    import torch
    import transformers
    from gguf import GGMLQuantizationType as Q

    from engine.storage.imports.gguf import read_gguf
    from tests.gguf_helpers import transformers_reads, write_gguf

    torch.set_num_threads(1)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cfg = transformers.LlamaConfig(**SMOLLM2)
        model = transformers.LlamaForCausalLM(cfg).eval()
        params = sum(p.numel() for p in model.parameters())
        t0 = time.perf_counter()
        path = write_gguf(tmp / "smollm2-135m-q4_0.gguf", model,
                          vocabulary(cfg.vocab_size, tmp / "source-vocab.json"), Q.Q4_0,
                          pre="smollm")
        written = time.perf_counter() - t0
        del model
        t0 = time.perf_counter()
        ours = read_gguf(path)
        ours_s = time.perf_counter() - t0
        del ours
        t0 = time.perf_counter()
        transformers_reads(path)
        theirs_s = time.perf_counter() - t0
        print(json.dumps({
            "shape": "SmolLM2-135M", "parameters": params, "quantization": "Q4_0",
            "file_mb": round(path.stat().st_size / 1e6, 1), "written_s": round(written, 2),
            "open_s": {"transformer_explorer": round(ours_s, 2),
                       "transformers": round(theirs_s, 2)},
            "target_open_s": 3.0}, indent=2))


if __name__ == "__main__":
    main()
