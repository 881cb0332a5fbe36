"""The user's text file as training data: reading it, tokenizing it, and cutting batches.

Files can be larger than memory, so load_corpus tokenizes them once, chunk by chunk, into a
token file in a cache folder (engine.text.tokenfile) and trains on memmap views of it: only the
windows of a batch are read. Without the cache they are tokenized in chunks into a growing
uint32 array (4 bytes/token), then stored as compact ids (2 bytes/token up to 65,535 ids).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from engine.wording import plural
from engine.text.textfile import (
    CHUNK_BYTES, CorpusError, Decoding, check_file, choose_decoding, open_text,
)
from engine.text.tokenfile import (
    TokenCacheError,
    TokenFile,
    TokenStream,
    id_dtype,
    prepare_token_file,
    resolve_cache_dir,
)
from engine.text.tokenizers import DEFAULT_TOKENIZER, BaseEncoder, Tokenizer, get_base

__all__ = ["Corpus", "CorpusError", "load_corpus", "corpus_from_text", "read_text",
           "tokenize_file", "stream_tokens", "token_counts", "min_tokens",
           "corpus_from_token_file", "TokenCacheWarning"]

Progress = Callable[[int, int], None]


class TokenCacheWarning(UserWarning):
    """The token cache could not be used; the text was tokenized into memory instead."""

_BLOCK = 1 << 20  # ids handled per numpy block, so temporaries stay small


def read_text(path: str | Path, encoding: str | None = None) -> tuple[str, str]:
    """The text of a file and its encoding name; CorpusError if it is not usable text.

    `encoding` overrides detection. For the replacement count and how the encoding was
    chosen, use engine.text.textfile.open_text (same rules, returns a Decoding).
    """
    opened = open_text(path, encoding)
    return opened.text, opened.decoding.name


# ---------------------------------------------------------------------------------------------
# Tokenizing a large file in chunks.


class _IdBuffer:
    """A growing uint32 array (no Python lists: 4 bytes per token)."""

    def __init__(self, capacity: int):
        self._data = np.empty(max(capacity, 1024), dtype=np.uint32)
        self.n = 0

    def extend(self, ids: np.ndarray) -> None:
        need = self.n + len(ids)
        if need > len(self._data):
            grown = np.empty(max(need, len(self._data) * 3 // 2), dtype=np.uint32)
            grown[: self.n] = self._data[: self.n]
            self._data = grown
        self._data[self.n : need] = ids
        self.n = need

    def result(self) -> np.ndarray:
        # Shrinking in place (realloc) avoids a second full-size copy.
        self._data.resize(self.n, refcheck=False)
        return self._data


@dataclass
class TokenizedFile:
    """Original ids of a whole file, and how its bytes were read."""

    ids: np.ndarray  # uint32 original ids (tiktoken ids or code points)
    decoding: Decoding
    n_chars: int  # characters of text the ids came from


def stream_tokens(
    path: str | Path, base: BaseEncoder, progress: Progress | None = None,
    chunk_bytes: int = CHUNK_BYTES, encoding: str | None = None,
) -> TokenizedFile:
    """Tokenize a file chunk by chunk into memory: the ids (4 bytes each) plus one chunk.

    For files larger than memory, engine.text.tokenfile writes the ids to disk instead.
    """
    path = Path(path)
    size = check_file(path)
    stream = TokenStream(path, base, choose_decoding(path, encoding), progress, chunk_bytes)
    out = _IdBuffer(size // 3)  # about 4 bytes of English or 1.5 Chinese characters per token
    for ids in stream:
        out.extend(ids)
    return TokenizedFile(out.result(), stream.decoding, stream.n_chars)


def tokenize_file(
    path: str | Path,
    base_name: str = DEFAULT_TOKENIZER,
    progress: Progress | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    encoding: str | None = None,
) -> np.ndarray:
    """Original ids (uint32) of a text file, read in chunks; progress(bytes_done, bytes_total)."""
    return stream_tokens(path, get_base(base_name), progress, chunk_bytes, encoding).ids


# ---------------------------------------------------------------------------------------------
# The corpus: compact ids split into training and validation.


def token_counts(ids: np.ndarray) -> np.ndarray:
    """How often each id occurs in a large uint32 array (index = id), block by block.

    One np.bincount of the whole array would first copy it as int64: twice the ids' memory.
    """
    counts = np.zeros(int(ids.max()) + 1 if len(ids) else 0, dtype=np.int64)
    for start in range(0, len(ids), _BLOCK):
        counts += np.bincount(ids[start : start + _BLOCK], minlength=len(counts))
    return counts


def _used_ids(ids: np.ndarray) -> np.ndarray:
    """Sorted distinct values of a large uint32 array."""
    return np.flatnonzero(token_counts(ids)).astype(np.int64)


def _to_compact(tokenizer: Tokenizer, ids: np.ndarray) -> np.ndarray:
    """Compact ids of a large array of original ids, stored in the smallest dtype."""
    out = np.empty(len(ids), dtype=id_dtype(tokenizer.vocab_size))
    for start in range(0, len(ids), _BLOCK):
        out[start : start + _BLOCK] = tokenizer.to_compact(ids[start : start + _BLOCK])
    return out


def min_tokens(context_length: int, val_fraction: float) -> int:
    """Fewest tokens for which both splits hold at least context_length + 1 tokens."""
    need = context_length + 1
    n = max(2 * need, math.ceil(need / val_fraction) - 1)
    while not (_n_val(n, val_fraction) >= need and n - _n_val(n, val_fraction) >= need):
        n += 1
    return n


def _n_val(n_tokens: int, val_fraction: float) -> int:
    return int(n_tokens * val_fraction + 1e-9)  # 1e-9: 170 * 0.1 must give 17, not 16


def _same_file(a: str | Path | None, b: Path) -> bool:
    return a is not None and Path(a).resolve() == b.resolve()  # numpy keeps str or Path


@dataclass
class Corpus:
    """Compact token ids of one text, split into training and validation parts."""

    tokenizer: Tokenizer
    train: np.ndarray  # compact ids, uint16 (or uint32 for vocabularies over 65,535)
    val: np.ndarray  # the last val_fraction of the text
    source: str  # file path, or a name such as "<text>"
    encoding: str  # how the file was decoded, e.g. "utf-8", "gb18030"
    n_chars: int  # characters of text the ids came from
    decoding: Decoding | None = None  # why that encoding, and what was replaced (files only)
    token_file: TokenFile | None = None  # where train/val live on disk (None: in memory)

    @property
    def n_tokens(self) -> int:
        """Tokens in both splits."""
        return len(self.train) + len(self.val)

    def get_batch(
        self, split: str, batch_size: int, context_length: int, generator: torch.Generator,
        device: str | torch.device = "cpu",
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Random windows x (B, T) int64 and their next tokens y = x shifted by one."""
        if split not in ("train", "val"):
            raise ValueError(f"split must be 'train' or 'val', not {split!r}")
        data = self.train if split == "train" else self.val
        if len(data) < context_length + 1:
            raise ValueError(
                f"the {split} split has {len(data)} tokens; context {context_length} needs "
                f"{context_length + 1}"
            )
        # Offsets come from the caller's generator, so a seeded run sees the same batches.
        starts = torch.randint(len(data) - context_length, (batch_size,), generator=generator)
        idx = starts.numpy()[:, None] + np.arange(context_length + 1)  # (B, T+1)
        windows = torch.from_numpy(data[idx].astype(np.int64))  # (B, T+1)
        x = windows[:, :-1]  # (B, T)
        y = windows[:, 1:]  # (B, T)
        return x.contiguous().to(device), y.contiguous().to(device)

    def seeded_batches(
        self, split: str, count: int, batch_size: int, context_length: int, seed: int = 0,
        device: str | torch.device = "cpu",
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """`count` batches (x, y) drawn by a generator seeded with `seed`, so every call gives
        the same ones; windows shorter than `context_length` when the split is shorter."""
        data = self.train if split == "train" else self.val
        T = min(context_length, len(data) - 1)
        g = torch.Generator().manual_seed(seed)
        return [self.get_batch(split, batch_size, T, g, device) for _ in range(count)]

    def _on_disk(self) -> bool:
        """train and val are still the two memmap views of the whole token file."""
        tf = self.token_file
        return (tf is not None and isinstance(self.train, np.memmap)
                and isinstance(self.val, np.memmap)
                and len(self.train) + len(self.val) == tf.n_tokens
                and _same_file(self.train.filename, tf.path)
                and _same_file(self.val.filename, tf.path))

    def __getstate__(self) -> dict:
        # A memmap pickles as a full in-memory copy: a corpus of several GB sent to the
        # training process would be copied whole. It travels as its file and split instead.
        state = dict(self.__dict__)
        if self._on_disk():
            state["train"], state["val"] = None, None
            state["_split"] = len(self.train)
        return state

    def __setstate__(self, state: dict) -> None:
        split = state.pop("_split", None)
        self.__dict__.update(state)
        if split is not None:
            try:
                ids = self.token_file.open()
            except OSError as e:
                raise CorpusError(f"the token file '{self.token_file.path}' of "
                                  f"'{self.source}' cannot be read ({e}); open the text again"
                                  ) from e
            self.train, self.val = ids[:split], ids[split:]


def _check_settings(context_length: int, val_fraction: float) -> None:
    if not 0 < val_fraction < 1:
        raise CorpusError(f"val_fraction must be between 0 and 1, not {val_fraction}")
    if context_length < 1:
        raise CorpusError(f"context_length must be at least 1, not {context_length}")


def _split_at(n_tokens: int, label: str, context_length: int, val_fraction: float) -> int:
    """Where validation starts; CorpusError when either part is too short for the context."""
    _check_settings(context_length, val_fraction)
    need = min_tokens(context_length, val_fraction)
    if n_tokens < need:
        raise CorpusError(
            f"'{label}' has only {plural(n_tokens, 'token')}; training with context "
            f"{context_length} needs at least {need:,} tokens (choose a longer file or a "
            "smaller context)"
        )
    return n_tokens - _n_val(n_tokens, val_fraction)


def _make_corpus(
    ids: np.ndarray, name: str, source: str, label: str, encoding: str, n_chars: int,
    context_length: int, val_fraction: float, vocab_from: Tokenizer | None,
    decoding: Decoding | None = None,
) -> Corpus:
    """Compact vocabulary, compact ids and the train/val split of original ids."""
    split = _split_at(len(ids), label, context_length, val_fraction)
    tokenizer = vocab_from if vocab_from is not None else Tokenizer(name, _used_ids(ids))
    compact = _to_compact(tokenizer, ids)
    # Views of one array: no copy at the moment memory peaks (uint32 ids + compact ids).
    return Corpus(tokenizer, compact[:split], compact[split:], source, encoding, n_chars,
                  decoding)


def corpus_from_token_file(tf: TokenFile, source: str, context_length: int = 16,
                           val_fraction: float = 0.1) -> Corpus:
    """A Corpus whose train/val are read-only memmap views of a token file (see tokenfile)."""
    split = _split_at(tf.n_tokens, Path(source).name, context_length, val_fraction)
    ids = tf.open()
    return Corpus(tf.tokenizer, ids[:split], ids[split:], source, tf.decoding.name,
                  tf.n_chars, tf.decoding, tf)


def load_corpus(
    path: str | Path,
    tokenizer: str = DEFAULT_TOKENIZER,
    context_length: int = 16,
    val_fraction: float = 0.1,
    progress: Progress | None = None,
    vocab_from: Tokenizer | None = None,
    encoding: str | None = None,
    token_cache: str | Path | bool | None = None,
) -> Corpus:
    """Tokenize a text file into a Corpus; with `vocab_from`, keep that vocabulary (rest = unk).

    `encoding` overrides detection; corpus.decoding says which was used and what was replaced.
    `token_cache`: None = the default cache folder (engine.text.tokenfile.resolve_cache_dir), a
    folder, or False to tokenize into memory. From the cache, train/val are memmaps of the token
    file (corpus.token_file; .built says whether this call tokenized it); when the cache cannot
    be written, a warning says so and the text is tokenized into memory.
    """
    _check_settings(context_length, val_fraction)  # before a long tokenization
    cache = resolve_cache_dir(token_cache)
    # A model's own BPE or character table (an imported model) has no registry name the cache
    # could rebuild it from: such texts are tokenized into memory (the cache keys by name).
    if vocab_from is not None and hasattr(vocab_from.base, "to_dict"):
        cache = None
    if cache is not None:
        try:
            tf = prepare_token_file(path, tokenizer, encoding, cache, progress, vocab_from)
            return corpus_from_token_file(tf, str(path), context_length, val_fraction)
        except TokenCacheError as e:
            warnings.warn(f"{e}; tokenizing into memory instead", TokenCacheWarning,
                          stacklevel=2)
    name = vocab_from.name if vocab_from is not None else tokenizer
    # The vocabulary's own encoder: a model's BPE read from its files has no registry name.
    base = vocab_from.base if vocab_from is not None else get_base(tokenizer)
    got = stream_tokens(path, base, progress, CHUNK_BYTES, encoding)
    return _make_corpus(got.ids, name, str(path), Path(path).name, got.decoding.name,
                        got.n_chars, context_length, val_fraction, vocab_from, got.decoding)


def corpus_from_text(
    text: str,
    name: str = "<text>",
    tokenizer: str = DEFAULT_TOKENIZER,
    context_length: int = 16,
    val_fraction: float = 0.1,
    vocab_from: Tokenizer | None = None,
) -> Corpus:
    """A Corpus of an in-memory text (for tests and text typed into the GUI)."""
    base_name = vocab_from.name if vocab_from is not None else tokenizer
    ids = (vocab_from.base if vocab_from is not None else get_base(tokenizer)).encode_large(text)
    return _make_corpus(ids, base_name, name, name, "text", len(text), context_length,
                        val_fraction, vocab_from)
