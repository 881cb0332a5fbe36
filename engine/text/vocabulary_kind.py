"""What kind of vocabulary a model reads text with, in facts the guide's words are chosen by:
the app's compact vocabulary (cl100k_base or characters, renumbered to the ids a corpus uses),
or a model's own full one (byte-level BPE, SentencePiece BPE with byte fallback, characters),
where it came from (a tokenizer.json, a GGUF file's vocabulary, GPT-2's files, tiktoken,
nanoGPT's meta.pkl), its size, and how it cuts one short sample.
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.text.bpe import BpeBase
from engine.text.fullvocab import CharTableBase, FullTokenizer
from engine.text.tokenizer_json import TokenizerJsonBase
from engine.text.tokenizers import Tokenizer

SAMPLE = "掩码 attention"  # Chinese and English: the guide shows how a vocabulary cuts them

COMPACT = "compact"  # the app's own: the ids of the training text, renumbered
BYTE_LEVEL = "byte-level"  # GPT-2's bytes-as-characters BPE (Llama 3, Qwen, SmolLM2)
SENTENCEPIECE = "sentencepiece"  # "▁" for a space, <0xE6> byte tokens (Llama 2, Gemma)
FULL = "full"  # any other full vocabulary (nanoGPT's characters, a WordPiece ...)


@dataclass(frozen=True)
class VocabularyFacts:
    """A tokenizer as the walkthrough describes it."""

    kind: str  # COMPACT, BYTE_LEVEL, SENTENCEPIECE or FULL
    origin: str  # "tiktoken", "char", "tokenizer.json", "gguf", "bpe-files" or "meta.pkl"
    name: str  # the tokenizer's name: an encoding, a file, "folder/tokenizer.json"
    n_tokens: int  # ids the tokenizer has
    rows: int  # rows of the model's token table (padding rows included)
    sample: str  # SAMPLE as this tokenizer cuts it: pieces joined by " | "
    sample_tokens: int  # how many tokens SAMPLE takes

    @property
    def full(self) -> bool:
        """The model's own full vocabulary (id == row), not the app's compact one."""
        return self.kind != COMPACT

    def fields(self) -> dict[str, str]:
        """The facts as the guide's {placeholders} write them (figures with , separators)."""
        return {"name": self.name, "n_tokens": f"{self.n_tokens:,}", "rows": f"{self.rows:,}",
                "sample_text": SAMPLE, "sample": self.sample,
                "sample_tokens": str(self.sample_tokens)}


def _kind_and_origin(tokenizer: Tokenizer) -> tuple[str, str]:
    base = tokenizer.base
    if not isinstance(tokenizer, FullTokenizer):
        return COMPACT, tokenizer.kind  # "tiktoken" or "char"
    if isinstance(base, TokenizerJsonBase):
        origin = "gguf" if base.from_gguf else "tokenizer.json"
        if base.byte_level:
            return BYTE_LEVEL, origin
        return (SENTENCEPIECE if base.byte_fallback else FULL), origin
    if isinstance(base, CharTableBase):
        return FULL, "meta.pkl"
    # GPT-2's own files (BpeBase) or a tiktoken encoding used whole: byte-level BPE both.
    return BYTE_LEVEL, "bpe-files" if isinstance(base, BpeBase) else "tiktoken"


def vocabulary_facts(tokenizer: Tokenizer) -> VocabularyFacts:
    """The facts of `tokenizer` (a compact Tokenizer or a model's FullTokenizer)."""
    kind, origin = _kind_and_origin(tokenizer)
    ids = tokenizer.encode(SAMPLE)  # (n,) the model's rows
    n_tokens = getattr(tokenizer, "n_tokens", tokenizer.vocab_size)
    return VocabularyFacts(kind, origin, tokenizer.name, int(n_tokens),
                           int(tokenizer.vocab_size), " | ".join(tokenizer.pieces(ids)),
                           int(len(ids)))
