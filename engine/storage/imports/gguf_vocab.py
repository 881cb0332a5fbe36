"""A GGUF file's own tokenizer, rebuilt as tokenizer.json text for engine.text.tokenizer_json.

GGUF stores the vocabulary as metadata (`tokenizer.ggml.*`):
- model "gpt2": byte-level BPE; tokens already in GPT-2's byte spelling, the merges in order,
  and `pre` naming the pre-tokenizer regex (llama.cpp's names: "llama-bpe", "qwen2", ...);
- model "llama": SentencePiece BPE; tokens with scores and types (6 = a <0x..> byte token) and
  no merges: a merge (a, b) exists where a, b and a + b are all tokens, and ranks by the score
  of a + b (Gemma: by its place in the list, its scores do not follow merge order).
Control tokens (type 3) become special added tokens, user-defined ones (type 4) added tokens.
"""
from __future__ import annotations

import json
from typing import Any

from engine.storage.imports.gguf_header import GgufError

CONTROL, USER_DEFINED = 3, 4
LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?"
                r"[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_SPLIT = LLAMA3_SPLIT.replace(r"\p{N}{1,3}", r"\p{N}")
GPT2_SPLIT = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
# llama.cpp's pre-tokenizer names -> (regex, digits one by one)
PRE = {"default": (GPT2_SPLIT, False), "gpt-2": (GPT2_SPLIT, False),
       "gpt2": (GPT2_SPLIT, False), "llama-bpe": (LLAMA3_SPLIT, False),
       "llama3": (LLAMA3_SPLIT, False), "smaug-bpe": (LLAMA3_SPLIT, False),
       "qwen2": (QWEN2_SPLIT, False), "smollm": (GPT2_SPLIT, True)}


def _get(values: dict[str, Any], key: str, default: Any = None) -> Any:
    v = values.get(key)
    if v is None:
        return default
    return v.tolist() if hasattr(v, "tolist") else v


def _added(tokens: list[str], types: list[int]) -> list[dict[str, Any]]:
    return [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": kind == CONTROL}
            for i, (t, kind) in enumerate(zip(tokens, types)) if kind in (CONTROL, USER_DEFINED)]


def _byte_level(tokens: list[str], types: list[int], merges: list[str], pre: str) -> dict:
    split, digits = PRE.get(pre, PRE["default"])
    parts: list[dict[str, Any]] = []
    if digits:
        parts.append({"type": "Digits", "individual_digits": True})
    parts += [{"type": "Split", "pattern": {"Regex": split}, "behavior": "Isolated",
               "invert": False},
              {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
               "use_regex": False}]
    return {"normalizer": None, "pre_tokenizer": {"type": "Sequence", "pretokenizers": parts},
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                        "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None,
                      "continuing_subword_prefix": None, "end_of_word_suffix": None,
                      "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": {t: i for i, t in enumerate(tokens)},
                      "merges": [m.split(" ", 1) for m in merges]}}


def _sentencepiece(tokens: list[str], scores: list[float], types: list[int], gemma: bool,
                   space_prefix: bool, unk: int | None) -> dict:
    vocab = {t: i for i, t in enumerate(tokens)}
    rank = ({t: -i for i, t in enumerate(tokens)} if gemma
            else {t: s for t, s in zip(tokens, scores)})
    merges = []
    for t, i in vocab.items():
        if types[i] in (CONTROL, USER_DEFINED, 6) or len(t) < 2:
            continue
        for cut in range(1, len(t)):
            a, b = t[:cut], t[cut:]
            if a in vocab and b in vocab:
                merges.append((rank[t], vocab[a], vocab[b], a, b))
    merges.sort(key=lambda m: (-m[0], m[1], m[2]))
    normalizers: list[dict[str, Any]] = ([{"type": "Prepend", "prepend": "\u2581"}]
                                         if space_prefix else [])
    normalizers.append({"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"})
    decoders: list[dict[str, Any]] = [
        {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
        {"type": "ByteFallback"}, {"type": "Fuse"}]
    if space_prefix:
        decoders.append({"type": "Strip", "content": " ", "start": 1, "stop": 0})
    return {"normalizer": {"type": "Sequence", "normalizers": normalizers},
            "pre_tokenizer": None, "decoder": {"type": "Sequence", "decoders": decoders},
            "model": {"type": "BPE", "dropout": None,
                      "unk_token": tokens[unk] if unk is not None and 0 <= unk < len(tokens)
                      else None, "continuing_subword_prefix": None, "end_of_word_suffix": None,
                      "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                      "vocab": vocab, "merges": [[a, b] for *_, a, b in merges]}}


def tokenizer_json_of(values: dict[str, Any], where: str) -> str | None:
    """The file's vocabulary as tokenizer.json text; None if it has none; GgufError for a kind
    that is neither byte-level BPE nor SentencePiece BPE."""
    kind = _get(values, "tokenizer.ggml.model")
    if kind is None:
        return None
    tokens = _get(values, "tokenizer.ggml.tokens") or []
    if not tokens or not all(isinstance(t, str) for t in tokens):
        raise GgufError(f"'{where}' has a tokenizer with no tokens")
    types = list(_get(values, "tokenizer.ggml.token_type") or [1] * len(tokens))
    if len(types) != len(tokens):
        raise GgufError(f"'{where}': {len(types):,} token types for {len(tokens):,} tokens")
    if kind == "gpt2":
        merges = [m for m in _get(values, "tokenizer.ggml.merges") or [] if " " in m]
        model = _byte_level(tokens, types, merges, str(_get(values, "tokenizer.ggml.pre",
                                                            "default")))
    elif kind == "llama":
        scores = list(_get(values, "tokenizer.ggml.scores") or [0.0] * len(tokens))
        if len(scores) != len(tokens):
            raise GgufError(f"'{where}': {len(scores):,} scores for {len(tokens):,} tokens")
        gemma = str(_get(values, "general.architecture", "")).startswith("gemma")
        model = _sentencepiece(tokens, scores, types, gemma,
                               bool(_get(values, "tokenizer.ggml.add_space_prefix", not gemma)),
                               _get(values, "tokenizer.ggml.unknown_token_id"))
    else:
        raise GgufError(f"'{where}' has a {kind!r} tokenizer; byte-level BPE (gpt2) and "
                        "SentencePiece BPE (llama) are read")
    post = None
    bos = _get(values, "tokenizer.ggml.bos_token_id")
    if _get(values, "tokenizer.ggml.add_bos_token", kind == "llama") and bos is not None \
            and 0 <= bos < len(tokens):
        post = {"type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": tokens[bos], "type_id": 0}},
                           {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": tokens[bos], "type_id": 0}},
                         {"Sequence": {"id": "A", "type_id": 0}},
                         {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {tokens[bos]: {"id": tokens[bos], "ids": [bos],
                                                 "tokens": [tokens[bos]]}}}
    return json.dumps({"version": "1.0", "truncation": None, "padding": None,
                       "added_tokens": _added(tokens, types), "post_processor": post, **model},
                      ensure_ascii=False)
