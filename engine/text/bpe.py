"""A model's own GPT-2-style byte-level BPE, built into a tiktoken encoding from its local files.

GPT-2's `vocab.json` names every token by its bytes through the byte-to-unicode table (a space is
"Ġ"), and `merges.txt` lists the merges in the order they were learned; `tokenizer.json` (the
`tokenizers` library) holds both. tiktoken merges the adjacent pair whose joined bytes have the
lowest rank, so merge order must become rank order. GPT-2 numbers its merged tokens in merge
order, so its ids are the ranks; a tokenizer trained elsewhere may not, and then ranks are
numbered separately and mapped to the model's ids. Nothing is ever downloaded.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import tiktoken

from engine.devices import memory_shortfall
from engine.text.filetype import open_regular
from engine.text.tokenizers import TiktokenBase

# GPT-2's pre-tokenizer (openai/gpt-2 encoder.py; also the `tokenizers` ByteLevel default).
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

# Ids a vocabulary may leave unused beyond twice its tokens (a model's padding, a few removed
# tokens); past that, an id is a damaged or hostile file, not a vocabulary.
ID_GAP = 1024
_BYTES_PER_ID = 48  # per id: the id -> bytes table slot, the full tokenizer's id, a rank

# Where a GPT-2 tokenizer may already be on this machine: the Hugging Face hub cache.
HF_GPT2_REPOS = ("models--openai-community--gpt2", "models--gpt2")


class BpeError(ValueError):
    """Files that are not a usable byte-level BPE; one-line message naming the file."""


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's table: each byte as a printable character, so a token is a readable string."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:  # the others (space, control bytes...) move past 255, in byte order
            table[b] = chr(256 + extra)
            extra += 1
    return table


_BYTE_OF = {ch: b for b, ch in bytes_to_unicode().items()}
# str.translate's table: each byte-level character to the byte it stands for (as the character
# of that code, so .encode("latin-1") gives the byte); every other character of code < 256 to
# one that latin-1 cannot encode, so a token holding one is written plainly. In C: 150,000
# tokens take milliseconds instead of a second.
_TO_BYTES = {**{c: 0x10FFFF for c in range(256)}, **{ord(ch): b for ch, b in _BYTE_OF.items()}}


def token_bytes_of(token: str) -> bytes:
    """The bytes a vocab.json key stands for (an added token written plainly: its UTF-8)."""
    try:
        return token.translate(_TO_BYTES).encode("latin-1")
    except UnicodeEncodeError:  # a character that is not byte-level: written plainly
        return token.encode("utf-8")


class BpeBase(TiktokenBase):
    """A byte-level BPE from a model's files; original ids are the model's own token ids."""

    def __init__(self, name: str, vocab: dict[str, int], merges: list[str]):
        if len(set(vocab.values())) != len(vocab):  # tiktoken's core would abort on it
            raise BpeError(f"tokenizer {name!r} gives the same id to two tokens")
        self.vocab_json, self.merges = dict(vocab), list(merges)
        n_ids = max(vocab.values(), default=-1) + 1
        # Tables are indexed by id: an id far past the number of tokens would size them (a 4 kB
        # vocab.json with one id of 3e8 took 2.6 GB). Ids number the tokens, with few gaps.
        if n_ids > 2 * len(vocab) + ID_GAP:
            raise BpeError(f"tokenizer {name!r} has an id of {n_ids - 1:,} but only "
                           f"{len(vocab):,} tokens; ids must number the tokens (at most "
                           f"{2 * len(vocab) + ID_GAP - 1:,} for this many)")
        short = memory_shortfall(n_ids * _BYTES_PER_ID, f"its tables of {n_ids:,} ids")
        if short is not None:
            raise BpeError(f"tokenizer {name!r} is too large to open: {short}")
        self._table: list[bytes | None] = [None] * n_ids  # id -> bytes (None: no such id)
        id_of: dict[bytes, int] = {}
        for token, i in vocab.items():
            data = token_bytes_of(token)
            self._table[i] = data
            id_of.setdefault(data, i)
        missing = [b for b in range(256) if bytes([b]) not in id_of]
        if missing:
            raise BpeError(f"tokenizer {name!r} is not byte-level: it has no token for byte "
                           f"0x{missing[0]:02x}, so some text could not be encoded")
        # Merge order: the tokens merges create, first creation first.
        created: list[bytes] = []
        seen = {bytes([b]) for b in range(256)}
        for line in merges:
            parts = line.split(" ")
            if len(parts) != 2:
                raise BpeError(f"tokenizer {name!r}: merge {line!r} is not two tokens")
            joined = token_bytes_of(parts[0]) + token_bytes_of(parts[1])
            if joined in id_of and joined not in seen:  # a merge outside the vocabulary: unused
                seen.add(joined)
                created.append(joined)
        ids = [id_of[t] for t in created]
        if all(a < b for a, b in zip(ids, ids[1:])):
            # The model's ids already follow merge order (GPT-2): they are the ranks.
            ranks = {bytes([b]): id_of[bytes([b])] for b in range(256)}
            ranks.update(zip(created, ids))
            self._rank_to_id = self._id_to_rank = None
        else:
            ranks = {bytes([b]): b for b in range(256)}
            ranks.update((t, 256 + k) for k, t in enumerate(created))
            order = sorted(ranks, key=ranks.__getitem__)
            self._rank_to_id = np.array([id_of[t] for t in order], dtype=np.int64)
            self._id_to_rank = np.full(n_ids, -1, dtype=np.int64)
            self._id_to_rank[self._rank_to_id] = np.arange(len(order))
        # Tokens no merge makes (e.g. <|endoftext|>) are never produced from text; they keep
        # their bytes for display and decoding, so they are not given to tiktoken at all.
        encoding = tiktoken.Encoding(name, pat_str=GPT2_PATTERN, mergeable_ranks=ranks,
                                     special_tokens={})
        super().__init__(name, encoding)
        self.n_ids = n_ids

    @property
    def ids_are_ranks(self) -> bool:
        """True when the model's ids are tiktoken's ranks (no mapping between them)."""
        return self._rank_to_id is None

    def _ids(self, ranks: list[int] | np.ndarray, dtype: type) -> np.ndarray:
        arr = np.asarray(ranks, dtype=np.int64)
        return (arr if self._rank_to_id is None else self._rank_to_id[arr]).astype(dtype)

    def encode(self, text: str) -> np.ndarray:
        """The model's ids of `text` (int64); special tokens in the text are plain text."""
        return self._ids(self.encoding.encode_ordinary(text), np.int64)

    def encode_large(
        self, text: str, num_threads: int = 2, part_chars: int = 1 << 18
    ) -> np.ndarray:
        """The model's ids (uint32) of a long text, encoded in parallel parts."""
        return self._ids(super().encode_large(text, num_threads, part_chars), np.uint32)

    def decode_bytes(self, ids: np.ndarray) -> bytes:
        """The joined bytes of model ids (ids with no token add nothing)."""
        return b"".join(self._table[i] or b"" for i in np.asarray(ids, dtype=np.int64).tolist())

    def token_bytes(self, original_id: int) -> bytes:
        """Exact bytes of one model id; ValueError if the tokenizer has no such id."""
        i = int(original_id)
        if not 0 <= i < self.n_ids or self._table[i] is None:
            raise ValueError(f"id {original_id} does not exist in {self.name}")
        return self._table[i]

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild it elsewhere (a training process, a checkpoint)."""
        return {"type": "bpe", "name": self.name, "vocab": self.vocab_json,
                "merges": self.merges}


# ---------------------------------------------------------------------------------------------
# Reading the files.


def _read_json(path: Path) -> Any:
    try:
        with open_regular(path) as f:  # a FIFO is refused, not waited on
            return json.loads(f.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        raise BpeError(f"'{path.name}' could not be read as JSON ({' '.join(str(e).split())})")


def _check_vocab(vocab: Any, where: str) -> dict[str, int]:
    if not isinstance(vocab, dict) or not vocab or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
        for k, v in vocab.items()
    ):
        raise BpeError(f"'{where}' is not a vocabulary (a map from token to id)")
    return vocab


def _name(path: Path) -> str:
    """A readable name for the tokenizer in `path`: its model's folder, or in the Hugging Face
    cache its repository ("openai-community/gpt2" rather than a snapshot hash)."""
    folder = path.parent
    if folder.parent.name == "snapshots" and folder.parent.parent.name.startswith("models--"):
        return folder.parent.parent.name[len("models--"):].replace("--", "/")
    return f"{folder.name}/{path.name}"


def _from_tokenizer_json(path: Path) -> BpeBase:
    data = _read_json(path)
    model = data.get("model") if isinstance(data, dict) else None
    if not isinstance(model, dict) or model.get("type") != "BPE":
        kind = model.get("type") if isinstance(model, dict) else None
        raise BpeError(f"'{path.name}' is a {kind or 'non-BPE'} tokenizer; only byte-level BPE "
                       "(as GPT-2's) can be used")
    if "ByteLevel" not in json.dumps(data.get("pre_tokenizer")):
        raise BpeError(f"'{path.name}' is a BPE without GPT-2's byte-level pre-tokenizer; "
                       "only byte-level BPE can be used")
    vocab = dict(_check_vocab(model.get("vocab"), path.name))
    added_tokens = data.get("added_tokens") or []
    if not isinstance(added_tokens, list):
        raise BpeError(f"'{path.name}': added_tokens is not a list")
    for added in added_tokens:
        if isinstance(added, dict) and isinstance(added.get("content"), str):
            i = added.get("id")
            if isinstance(i, bool) or not isinstance(i, int) or i < 0:
                raise BpeError(f"'{path.name}': added token {added['content']!r} has the id "
                               f"{i!r}; an id is a whole number >= 0")
            vocab.setdefault(added["content"], i)
    return BpeBase(_name(path), vocab, _merge_lines(model.get("merges") or [], path.name))


def _merge_lines(merges: Any, where: str) -> list[str]:
    """tokenizer.json's merges ("a b", or ["a", "b"] in newer files) as merges.txt lines."""
    if not isinstance(merges, list):
        raise BpeError(f"'{where}': merges is not a list")
    lines = []
    for m in merges:
        if isinstance(m, list) and len(m) == 2 and all(isinstance(p, str) for p in m):
            m = " ".join(m)
        if not isinstance(m, str):
            raise BpeError(f"'{where}': merge {json.dumps(m)[:60]} is not two tokens")
        lines.append(m)
    return lines


def _from_vocab_merges(vocab_path: Path, merges_path: Path) -> BpeBase:
    vocab = _check_vocab(_read_json(vocab_path), vocab_path.name)
    try:
        lines = merges_path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise BpeError(f"'{merges_path.name}' could not be read ({e})") from None
    merges = [line for line in lines if line and not line.startswith("#version")]
    return BpeBase(_name(vocab_path), vocab, merges)


def bpe_files_in(folder: Path) -> bool:
    """True if `folder` holds a BPE tokenizer's files (vocab.json + merges.txt or
    tokenizer.json)."""
    return (folder / "tokenizer.json").is_file() or (
        (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file())


def read_bpe(path: str | Path) -> BpeBase:
    """The BPE in a folder (vocab.json + merges.txt, else tokenizer.json) or named by one of
    those files; BpeError (one line) when they are missing or not a byte-level BPE."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    if path.is_file() and path.name.endswith(".json") and path.name != "vocab.json":
        return _from_tokenizer_json(path)
    if (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file():
        return _from_vocab_merges(folder / "vocab.json", folder / "merges.txt")
    if (folder / "tokenizer.json").is_file():
        return _from_tokenizer_json(folder / "tokenizer.json")
    raise BpeError(f"'{path}' has no BPE tokenizer files (vocab.json and merges.txt, or "
                   "tokenizer.json)")


def hf_cache_dirs() -> list[Path]:
    """The Hugging Face hub caches to look in, as huggingface_hub resolves them."""
    dirs = []
    if os.environ.get("HF_HUB_CACHE"):
        dirs.append(Path(os.environ["HF_HUB_CACHE"]))
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "huggingface")
    dirs.append(Path(home) / "hub")
    return dirs


def find_gpt2_bpe() -> Path | None:
    """A folder with GPT-2's tokenizer files already on this machine (no download), or None."""
    for cache in hf_cache_dirs():
        for repo in HF_GPT2_REPOS:
            snapshots = cache / repo / "snapshots"
            if snapshots.is_dir():
                for snap in sorted(snapshots.iterdir()):
                    if bpe_files_in(snap):
                        return snap
    return None
