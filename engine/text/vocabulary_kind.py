"""What kind of vocabulary a model reads text with, in facts the guide's words are chosen by:
the app's compact vocabulary (of cl100k_base, as the guide is written for; of another tiktoken
encoding; of characters: renumbered to the ids a corpus uses),
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

COMPACT = "compact"  # the app's own of cl100k_base (the guide's): the ids used, renumbered
COMPACT_TIKTOKEN = "compact-tiktoken"  # the same, of another tiktoken encoding
COMPACT_CHARS = "compact-chars"  # the same, of characters (code points)
BYTE_LEVEL = "byte-level"  # GPT-2's bytes-as-characters BPE (Llama 3, Qwen, SmolLM2)
SENTENCEPIECE = "sentencepiece"  # "▁" for a space, <0xE6> byte tokens (Llama 2, Gemma)
FULL = "full"  # any other full vocabulary (nanoGPT's characters, a WordPiece ...)


@dataclass(frozen=True)
class VocabularyFacts:
    """A tokenizer as the walkthrough describes it."""

    kind: str  # COMPACT, COMPACT_TIKTOKEN, COMPACT_CHARS, BYTE_LEVEL, SENTENCEPIECE or FULL
    origin: str  # "tiktoken", "char", "tokenizer.json", "gguf", "bpe-files" or "meta.pkl"
    name: str  # the tokenizer's name: an encoding, a file, "folder/tokenizer.json"
    n_tokens: int  # ids the tokenizer has (a compact one: the ids its training text used)
    rows: int  # rows of the model's token table (padding, or the unknown row, included)
    base_ids: int  # ids of the encoding behind a compact vocabulary (n_tokens when full)
    sample: str  # SAMPLE as this tokenizer cuts it: pieces joined by " | "
    sample_tokens: int  # how many tokens SAMPLE takes

    @property
    def full(self) -> bool:
        """The model's own full vocabulary (id == row), not the app's compact one."""
        return self.kind not in (COMPACT, COMPACT_TIKTOKEN, COMPACT_CHARS)

    @property
    def group(self) -> str:
        """"full" or "compact": the guide's paragraphs shared by every kind of the group."""
        return FULL if self.full else COMPACT

    def fields(self) -> dict[str, str]:
        """The facts as the guide's {placeholders} write them (figures with , separators)."""
        return {"name": self.name, "n_tokens": f"{self.n_tokens:,}", "rows": f"{self.rows:,}",
                "base_ids": f"{self.base_ids:,}",
                "sample_text": SAMPLE, "sample": self.sample,
                "sample_tokens": str(self.sample_tokens)}


def is_full(tokenizer: Tokenizer | None) -> bool:
    """Whether `tokenizer` is a model's own full vocabulary, where an id is its row of the
    token table (no compact ids to show beside the ids)."""
    return isinstance(tokenizer, FullTokenizer)


def _kind_and_origin(tokenizer: Tokenizer) -> tuple[str, str]:
    base = tokenizer.base
    if not is_full(tokenizer):
        if tokenizer.kind == "char":
            return COMPACT_CHARS, "char"
        return (COMPACT if tokenizer.name == "cl100k_base" else COMPACT_TIKTOKEN), "tiktoken"
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
    n_tokens = len(tokenizer.vocab)  # a full one: every id; a compact one: the ids used
    base_ids = getattr(tokenizer.base, "n_ids", n_tokens)
    return VocabularyFacts(kind, origin, tokenizer.name, int(n_tokens),
                           int(tokenizer.vocab_size), int(base_ids),
                           " | ".join(tokenizer.pieces(ids)), int(len(ids)))
