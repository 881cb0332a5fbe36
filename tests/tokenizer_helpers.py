"""Small tokenizer.json files of today's kinds, trained here with the `tokenizers` library on an
English + Chinese text (no download): byte-level BPE as Llama 3 / Qwen / SmolLM2 write it, and
SentencePiece BPE with byte fallback as Llama 2 / Gemma write it."""
from __future__ import annotations

import json
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, \
    processors, trainers

TEXT = ("The cat sat on the mat. The dog sat on the log, and the bird sang in the tree.\n"
        "我们今天学习注意力机制。模型读取每一个词，然后预测下一个词。\n"
        "Attention lets every token look at the tokens before it; 注意力让每个词看见前面的词。\n"
        ) * 20

# Llama 3's pre-tokenizer regex (Qwen2's differs only in \p{N}{1,3} vs \p{N}).
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                  r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def byte_level(path: Path, vocab_size: int = 400, bos: str | None = "<|begin_of_text|>",
               specials: tuple[str, ...] = ("<|end_of_text|>", "<|im_start|>", "<|im_end|>"),
               ) -> Path:
    """A byte-level BPE tokenizer.json (Llama 3 style; bos=None: Qwen style, no BOS added)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    all_specials = ([bos] if bos else []) + list(specials)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=all_specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(TEXT.splitlines(keepends=True), trainer)
    if bos:
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B",
            special_tokens=[(bos, tok.token_to_id(bos))])
    tok.save(str(path))
    return path


def sentencepiece(path: Path, n_merges: int = 150, prepend: bool = True) -> Path:
    """A SentencePiece-style BPE with byte fallback (Llama 2: "▁" prepended; Gemma: not)."""
    # Learn merges on text with spaces as "▁", then lay the vocabulary out as Llama 2 does:
    # <unk> <s> </s>, the 256 byte tokens, then the learned pieces.
    learner = Tokenizer(models.BPE())
    learner.normalizer = normalizers.Replace(" ", "\u2581")
    learner.pre_tokenizer = pre_tokenizers.Split(Regex(r"\n"), behavior="isolated")
    trainer = trainers.BpeTrainer(vocab_size=10_000, limit_alphabet=60, show_progress=False)
    learner.train_from_iterator(TEXT.splitlines(keepends=True), trainer)
    learned = json.loads(learner.to_str())["model"]
    merges = [m if isinstance(m, list) else m.split(" ") for m in learned["merges"]][:n_merges]
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    pieces = sorted((t for t in learned["vocab"] if len(t) == 1 and t != "\n"),
                    key=learned["vocab"].get)
    pieces += ["".join(m) for m in merges]
    for piece in pieces:
        vocab.setdefault(piece, len(vocab))
    norm = [normalizers.Prepend("\u2581")] if prepend else []
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[tuple(m) for m in merges],
                               unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([*norm, normalizers.Replace(" ", "\u2581")])
    decs = [decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse()]
    tok.decoder = decoders.Sequence(decs + ([decoders.Strip(" ", 1, 0)] if prepend else []))
    tok.add_special_tokens(["<unk>", "<s>", "</s>"])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)])
    tok.save(str(path))
    return path


def reference(path: Path):
    """transformers' fast tokenizer over the same file (the model's own tokenizer)."""
    from transformers import PreTrainedTokenizerFast
    return PreTrainedTokenizerFast(tokenizer_file=str(path))
