"""A model's own full vocabulary: token id == row of the model's table, no compact remapping.

Imported models (nanoGPT, Hugging Face GPT-2) were trained on every id of their tokenizer, so
their table cannot be narrowed to the ids one corpus uses. `FullTokenizer` is a `Tokenizer` whose
compact ids are the original ids. The table may be longer than the tokenizer (nanoGPT pads
GPT-2's 50,257 ids to 50,304 rows): those rows are shown as "<pad>" and decode to nothing
readable. There is no unknown row: byte-level BPE encodes any text, and a character a
character-level vocabulary lacks is left out of the ids (nanoGPT itself fails on it), so
`unk_id` is one past the table and never appears in an encoding; `count_unknown` says how many
characters were left out.
"""
from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

import numpy as np

from engine.text.bpe import BpeBase
from engine.text.tokenizer_json import TokenizerJsonBase
from engine.text.tokenizers import CHAR, TiktokenBase, Tokenizer, display_bytes, get_base

PAD_PIECE = "<pad>"  # a row past the tokenizer's ids: no token maps to it


class CharTableBase:
    """A character-level vocabulary (nanoGPT's meta.pkl): id i is the character itos[i]."""

    kind = "char"

    def __init__(self, itos: list[str], name: str = "meta.pkl"):
        if not itos or not all(isinstance(c, str) and len(c) == 1 for c in itos):
            raise ValueError("a character vocabulary must list single characters")
        self.name, self.itos = name, list(itos)
        self.n_ids = len(itos)
        codes = np.array([ord(c) for c in itos], dtype=np.int64)
        self._order = np.argsort(codes, kind="stable")
        self._codes = codes[self._order]  # sorted code points, for searchsorted

    def _lookup(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        pos = np.minimum(np.searchsorted(self._codes, cps), len(self._codes) - 1)
        known = self._codes[pos] == cps
        return self._order[pos], known

    def encode(self, text: str) -> np.ndarray:
        """Ids of the characters of `text` that the vocabulary has (int64)."""
        ids, known = self._lookup(text)
        return ids[known].astype(np.int64)

    def encode_large(self, text: str, num_threads: int = 2, part_chars: int = 0) -> np.ndarray:
        """As encode, uint32; the arguments exist to match TiktokenBase."""
        return self.encode(text).astype(np.uint32)

    def count_unknown(self, text: str) -> int:
        """Characters of `text` the vocabulary lacks (left out of encode)."""
        return int((~self._lookup(text)[1]).sum())

    def safe_cut(self, text: str, start: int, end: int) -> int:
        """Any place is safe for characters."""
        return end - 1 if end - 1 > start else -1

    def decode_text(self, ids: np.ndarray) -> str:
        """Text of ids (anything outside the vocabulary becomes U+FFFD)."""
        return "".join(self.itos[i] if 0 <= i < self.n_ids else "\ufffd"
                       for i in np.asarray(ids, dtype=np.int64).ravel().tolist())

    def decode_bytes(self, ids: np.ndarray) -> bytes:
        """UTF-8 bytes of the ids' characters."""
        return self.decode_text(ids).encode("utf-8", "surrogatepass")

    def token_bytes(self, original_id: int) -> bytes:
        """UTF-8 bytes of one character."""
        if not 0 <= int(original_id) < self.n_ids:
            raise ValueError(f"id {original_id} does not exist in {self.name}")
        return self.itos[int(original_id)].encode("utf-8", "surrogatepass")

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild it elsewhere."""
        return {"type": "chars", "name": self.name, "itos": self.itos}


FullBase = BpeBase | CharTableBase | TiktokenBase | TokenizerJsonBase

# Bases rebuilt from data, by a hash of that data: a GPT-2 BPE takes a while to build, and a
# tokenizer is rebuilt each time it is unpickled (every training process) or read from a file.
_BASES: dict[str, FullBase] = {}
_LOCK = threading.Lock()


def base_from_dict(d: Any) -> FullBase:
    """Rebuild a base saved by its to_dict(); ValueError with a clear message on bad data."""
    if not isinstance(d, dict):
        raise ValueError("tokenizer base must be a dict")
    kind, name = d.get("type"), d.get("name")
    if kind == "tiktoken" and isinstance(name, str) and name != CHAR:
        base = get_base(name)
        if not isinstance(base, TiktokenBase):
            raise ValueError(f"tokenizer {name!r} is not a tiktoken encoding")
        return base
    if kind not in ("bpe", "chars", "tokenizer.json") or not isinstance(name, str):
        raise ValueError(f"unknown tokenizer base {kind!r}")
    key = hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()
    with _LOCK:
        if key not in _BASES:
            if kind == "bpe":
                vocab, merges = d.get("vocab"), d.get("merges")
                if not isinstance(vocab, dict) or not isinstance(merges, list):
                    raise ValueError("a BPE tokenizer needs its vocab and merges")
                _BASES[key] = BpeBase(name, vocab, [str(m) for m in merges])
            elif kind == "tokenizer.json":
                if not isinstance(d.get("json"), str):
                    raise ValueError("a tokenizer.json base needs its json text")
                settings = d.get("settings")
                _BASES[key] = TokenizerJsonBase(
                    name, d["json"], settings if isinstance(settings, str) else None,
                    from_gguf=d.get("gguf") is True)
            else:
                _BASES[key] = CharTableBase(list(d.get("itos") or []), name)
        return _BASES[key]


def _base_dict(base: FullBase) -> dict[str, Any]:
    if isinstance(base, (BpeBase, CharTableBase, TokenizerJsonBase)):
        return base.to_dict()
    return {"type": "tiktoken", "name": base.name}


class FullTokenizer(Tokenizer):
    """Every id of the model's own tokenizer, as the model's rows (original id == compact id)."""

    def __init__(self, base: FullBase, rows: int | None = None):
        n = base.n_ids
        rows = n if rows is None else int(rows)
        if rows < n:
            raise ValueError(f"the tokenizer {base.name!r} has {n:,} ids but the model only "
                             f"{rows:,} rows; choose the model's own tokenizer")
        self._base = base
        self.name = base.name
        self.rows = rows  # the model's table, >= the tokenizer's ids (padding after them)
        self.vocab = np.arange(n, dtype=np.int64)  # original ids; compact id i <-> vocab[i]

    @property
    def n_tokens(self) -> int:
        """Ids the tokenizer itself has (rows past them are padding)."""
        return len(self.vocab)

    @property
    def unk_id(self) -> int:
        """One past the table: never produced by encode, counted as unknown if ever given."""
        return self.rows

    @property
    def vocab_size(self) -> int:
        """Rows of the model's token table, padding included."""
        return self.rows

    @property
    def bos_id(self) -> int | None:
        """The model's own begin-of-text token, where its tokenizer names one."""
        return getattr(self._base, "bos_id", None)

    @property
    def eos_id(self) -> int | None:
        """The model's own end-of-text token (generation stops there), or None."""
        return getattr(self._base, "eos_id", None)

    def encode_prompt(self, text: str) -> np.ndarray:
        """Ids of a prompt as the model's own tokenizer writes it (its BOS added where it adds
        one); a tokenizer without that rule gives encode(text)."""
        own = getattr(self._base, "encode_prompt", None)
        return own(text) if own is not None else self.encode(text)

    def encode(self, text: str) -> np.ndarray:
        """Ids of `text` (int64), the model's own rows."""
        return self._base.encode(text).astype(np.int64)

    def count_unknown(self, text: str) -> int:
        """Characters a character vocabulary lacks (left out of encode); 0 for byte-level BPE."""
        count = getattr(self._base, "count_unknown", None)
        return count(text) if count is not None else 0

    def to_compact(self, original_ids: np.ndarray) -> np.ndarray:
        """The same ids (int64); ids the tokenizer does not have become unk_id."""
        ids = np.asarray(original_ids, dtype=np.int64)
        return np.where((ids >= 0) & (ids < self.n_tokens), ids, self.unk_id)

    def to_original(self, compact_ids: np.ndarray) -> np.ndarray:
        """The same ids (int64); padding rows and unk_id become -1."""
        ids = self._check_compact(compact_ids)
        return np.where(ids < self.n_tokens, ids, -1)

    def decode(self, ids: np.ndarray) -> str:
        """Text of ids; padding rows become U+FFFD, and a character split over tokens is whole."""
        original = self.to_original(ids).ravel()
        if isinstance(self._base, CharTableBase):
            return self._base.decode_text(original)
        texts, start = [], 0
        for stop in [*np.flatnonzero(original < 0).tolist(), len(original)]:
            texts.append(self._base.decode_bytes(original[start:stop]).decode("utf-8", "replace"))
            start = stop + 1
        return "\ufffd".join(texts)

    def piece_bytes(self, compact_id: int) -> bytes:
        """The exact bytes of one token (b"" for a padding row or unk_id)."""
        i = int(self._check_compact(compact_id))
        if i >= self.n_tokens:
            return b""
        try:
            return self._base.token_bytes(i)
        except ValueError:  # an id the tokenizer's files skip
            return b""

    def piece(self, compact_id: int) -> str:
        """One token for display; "<pad>" for a row past the tokenizer, "<unk>" for unk_id."""
        i = int(self._check_compact(compact_id))
        if i == self.unk_id:
            return "<unk>"
        if i >= self.n_tokens:
            return PAD_PIECE
        data = self.piece_bytes(i)
        return display_bytes(data) if data else PAD_PIECE

    def __reduce__(self) -> tuple:
        # The base's data travels (a BPE from files has no name to be rebuilt from).
        return (tokenizer_from_dict, (self.to_dict(),))

    @classmethod
    def from_dict(cls, d: Any) -> Tokenizer:
        """Rebuild a tokenizer saved by to_dict (of either kind)."""
        return tokenizer_from_dict(d)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable mapping, saved with a model (a GPT-2 BPE is about 1.7 MB)."""
        return {"kind": "full", "name": self.name, "rows": self.rows,
                "base": _base_dict(self._base)}


def tokenizer_from_dict(d: Any) -> Tokenizer:
    """Any saved tokenizer: a FullTokenizer's dict, or a compact Tokenizer's."""
    if isinstance(d, dict) and d.get("kind") == "full":
        rows = d.get("rows")
        if isinstance(rows, bool) or not isinstance(rows, int) or rows <= 0:
            raise ValueError(f"tokenizer rows must be a positive integer, not {rows!r}")
        return FullTokenizer(base_from_dict(d.get("base")), rows)
    return Tokenizer.from_dict(d)


def tokenizer_summary(d: dict[str, Any]) -> dict[str, Any]:
    """Name and rows of a saved tokenizer's dict, without rebuilding it (for `info`)."""
    if d.get("kind") == "full":
        return {"name": d.get("name"), "vocab_size": d.get("rows"), "full": True}
    return {"name": d.get("name"), "vocab_size": len(d.get("vocab") or []) + 1}


def is_full(tokenizer: Tokenizer) -> bool:
    """True for a model's own full vocabulary."""
    return isinstance(tokenizer, FullTokenizer)
