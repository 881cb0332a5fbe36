"""Token files: a text tokenized once into compact ids on disk, reused by later runs and ranks.

A cache entry is two files in the cache directory, named `<tokenizer>-<key>`:
  `.tokens`  compact ids as raw little-endian uint16 (vocabularies up to 65,535) or uint32,
             read through a read-only np.memmap, as nanoGPT reads its train.bin;
  `.json`    the header: format and version, the key's parts (the text's sha256, tokenizer,
             encoding choice, vocabulary), dtype, n_tokens, n_chars, how the bytes were decoded,
             the compact vocabulary (sorted original ids) and a CRC-32 of the vocabulary and
             the data, computed as the data is written.
The key hashes the text's content (not its path or date), the tokenizer, the encoding the user
chose ("auto" = detected, which the content decides) and, for a vocabulary imposed by a model
(`vocab_from`), that vocabulary. Both files are written under temporary names and renamed, the
header last, so a reader never sees a half entry: a header without a data file of exactly
n_tokens * itemsize bytes, or one that does not parse, is rebuilt and never trusted. On reuse
the data is read once, for its checksum and for ids past the vocabulary (a byte changed on disk
was trained on silently, or crashed every later run): a damaged entry is rebuilt, with one
line saying so. The read costs less than the text's sha256 that finds the entry (the data is
smaller than the text, and CRC-32 is faster than sha256). Two
processes building one entry produce the same bytes and the last rename wins; where fcntl
exists a lock file makes the later one wait and reuse instead (torchrun ranks: see
prepare_token_file).
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import os
import re
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from engine.text.textfile import (
    CHUNK_BYTES,
    CorpusError,
    DecodedStream,
    Decoding,
    check_file,
    choose_decoding,
    user_decoding,
)
from engine.text.tokenblocks import scan, write_blocks, write_ids
from engine.text.tokenizers import BaseEncoder, Tokenizer, canonical_name, get_base
from engine.wording import say

__all__ = ["TokenFile", "TokenCacheError", "TokenStream", "CacheStats", "STATS",
           "prepare_token_file", "find_token_file", "resolve_cache_dir", "default_cache_dir",
           "content_sha256", "id_dtype", "CACHE_ENV", "add_cache_options", "cache_choice"]

FORMAT = "transformer-explorer-tokens"
VERSION = 2  # 2: the header carries the data's checksum
CACHE_ENV = "TRANSFORMER_EXPLORER_TOKEN_CACHE"  # a directory, or "off"
_DTYPES = {"uint16": np.dtype("<u2"), "uint32": np.dtype("<u4")}

Progress = Callable[[int, int], None]


class TokenCacheError(OSError):
    """The token cache cannot be written (full disk, read-only folder); the message says where."""


@dataclass
class CacheStats:
    """Entries this process built (tokenized or remapped) and found, for tests and reports."""

    built: int = 0
    reused: int = 0


STATS = CacheStats()


def id_dtype(vocab_size: int) -> np.dtype:
    """The smallest stored dtype for compact ids of a vocabulary."""
    return _DTYPES["uint16"] if vocab_size <= 65535 else _DTYPES["uint32"]


@dataclass(frozen=True)
class TokenFile:
    """One cache entry: compact ids on disk and what they are (built=False: it was reused)."""

    path: Path  # the .tokens data file
    tokenizer: Tokenizer
    dtype: np.dtype
    n_tokens: int
    n_chars: int
    decoding: Decoding
    content_sha256: str
    built: bool = field(default=False, compare=False)
    remapped: bool = field(default=False, compare=False)  # built from the own entry's ids
    damaged: str | None = field(default=None, compare=False)  # why the old entry was rebuilt

    def open(self) -> np.ndarray:
        """The ids as a read-only memmap: pages are read from disk only when indexed."""
        return np.memmap(self.path, dtype=self.dtype, mode="r", shape=(self.n_tokens,))

    def describe(self) -> str:
        """One line for stderr: "tokens: reused <path>" or "tokenized … into <path>"."""
        if not self.built:
            return f"tokens: reused {self.path}"
        if self.damaged:
            return (f"tokens: the cached entry was damaged ({self.damaged}); rebuilt "
                    f"{self.n_tokens:,} tokens into {self.path}")
        if self.remapped:
            return (f"tokens: {self.n_tokens:,} ids mapped to the model's vocabulary into "
                    f"{self.path}")
        return f"tokenized {self.n_tokens:,} tokens ({self.tokenizer.name}) into {self.path}"


# ---------------------------------------------------------------------------------------------
# Where the cache lives.


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/transformer-explorer/tokens, else ~/.cache/… (Windows: %LOCALAPPDATA%)."""
    root = os.environ.get("XDG_CACHE_HOME") or (
        os.environ.get("LOCALAPPDATA") if os.name == "nt" else None)
    base = Path(root) if root else Path.home() / ".cache"
    return base / "transformer-explorer" / "tokens"


def resolve_cache_dir(token_cache: str | Path | bool | None = None) -> Path | None:
    """The cache directory to use, or None for none: False = off; None/True = $CACHE_ENV or the
    default; a path = that directory."""
    if token_cache is False:
        return None
    if token_cache is None or token_cache is True:
        env = os.environ.get(CACHE_ENV)
        if env is not None:
            return None if env.strip().lower() in ("", "off", "0", "no") else Path(env)
        return default_cache_dir()
    return Path(token_cache)


# ---------------------------------------------------------------------------------------------
# Tokenizing a file chunk by chunk.


class TokenStream:
    """Original ids (uint32) of a file, one chunk at a time: memory is one chunk and its ids.

    After iterating, `n_chars` and `decoding` (with its replacement count) are final.
    """

    def __init__(self, path: str | Path, base: BaseEncoder, decoding: Decoding,
                 progress: Progress | None = None, chunk_bytes: int = CHUNK_BYTES):
        self.path, self.base, self.decoding = Path(path), base, decoding
        self.progress, self.chunk_bytes = progress, chunk_bytes
        self.n_chars = 0

    def __iter__(self) -> Iterator[np.ndarray]:
        size = check_file(self.path)
        stream = DecodedStream(self.path, self.decoding, self.chunk_bytes)
        carry = ""
        for piece in itertools.chain(stream, [None]):
            final = piece is None
            text = carry + (piece or "")
            cut = len(text) if final else self.base.safe_cut(text, 0, len(text))
            if cut <= 0 and len(text) > 4 * self.chunk_bytes:
                # No safe place in a huge run (one endless line): cut anyway; at worst the
                # tokens right at this seam differ from a whole-file encode.
                cut = len(text)
            carry = text[cut:] if cut > 0 else text
            if cut > 0:
                self.n_chars += cut
                yield self.base.encode_large(text[:cut])
            if self.progress is not None:
                self.progress(stream.bytes_done, size)
        self.decoding = stream.decoding
        if self.n_chars == 0:
            raise CorpusError(say("text.empty", name=self.path.name))


def content_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes, read in blocks (the cache key's part that names the text)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()  # a small reused buffer


# ---------------------------------------------------------------------------------------------
# Reading an entry: every fact checked before it is trusted.


def _vocab_sha(vocab: np.ndarray) -> str:
    return hashlib.sha256(np.asarray(vocab, dtype="<i8").tobytes()).hexdigest()


def _key(parts: dict) -> str:
    # A model's own tokenizer is named after its folder ("gpt2/vocab.json"): keep file names flat.
    name = re.sub(r"[^\w.-]+", "_", canonical_name(parts["tokenizer"]))
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]
    return f"{name}-{digest}"


def _read_entry(cache: Path, parts: dict) -> TokenFile | None:
    """The entry for `parts` if it is whole and consistent; None if absent or damaged."""
    return _check_entry(cache, parts)[0]


def _check_entry(cache: Path, parts: dict) -> tuple[TokenFile | None, str | None]:
    """(the entry for `parts` if it is whole and its data verified, None otherwise; why an
    entry that was there cannot be used, or None when there was none to use)."""
    key = _key(parts)
    data = cache / f"{key}.tokens"
    try:
        header = json.loads((cache / f"{key}.json").read_text(encoding="utf-8"))
        if (header.get("format") != FORMAT or header.get("version") != VERSION
                or header.get("key") != parts):
            return None, None  # another format or key (a hash collision): not this entry
        dtype = _DTYPES[header["dtype"]]
        n_tokens, n_chars = int(header["n_tokens"]), int(header["n_chars"])
        tokenizer = Tokenizer(parts["tokenizer"], np.asarray(header["vocab"], dtype=np.int64))
        decoding = Decoding(**header["decoding"])
        # A truncated (or grown) data file is caught by its size; a wrong vocabulary by the
        # key's hash of it (a model's) or by the checksum (the entry's own).
        if (n_tokens <= 0 or data.stat().st_size != n_tokens * dtype.itemsize
                or id_dtype(tokenizer.vocab_size) != dtype
                or parts.get("vocab") not in ("own", _vocab_sha(tokenizer.vocab))):
            return None, "its data does not match its header"
        checksum, top = scan(data, dtype, n_tokens, tokenizer.vocab)
        if checksum != header.get("checksum"):
            return None, "its data does not match its checksum"
        if top >= tokenizer.vocab_size:
            return None, f"id {top:,} is past its vocabulary of {tokenizer.vocab_size:,}"
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None, "its header is malformed"  # unreadable or malformed: rebuilt, never trusted
    return TokenFile(data, tokenizer, dtype, n_tokens, n_chars, decoding,
                     parts["sha256"], built=False), None


def find_token_file(path: str | Path, tokenizer: str, encoding: str | None = None,
                    cache_dir: str | Path | None = None,
                    vocab_from: Tokenizer | None = None) -> TokenFile | None:
    """The cached entry for this text and tokenizer if one is whole, without building one."""
    cache = resolve_cache_dir(cache_dir)
    if cache is None:
        return None
    name = vocab_from.name if vocab_from is not None else tokenizer
    own_parts = _parts(Path(path), name, encoding, None, _base_of(tokenizer, vocab_from))
    own = _read_entry(cache, own_parts)
    if vocab_from is None or own is None:
        return own
    if np.array_equal(own.tokenizer.vocab, vocab_from.vocab):
        return _as_vocab(own, vocab_from)
    return _as_vocab(_read_entry(cache, dict(own_parts, vocab=_vocab_sha(vocab_from.vocab))),
                     vocab_from)


def _as_vocab(tf: TokenFile | None, vocab_from: Tokenizer) -> TokenFile | None:
    """An entry with the model's own Tokenizer object (its vocabulary is the entry's)."""
    return None if tf is None else replace(tf, tokenizer=vocab_from)


def _parts(path: Path, tokenizer: str, encoding: str | None,
           vocab_from: Tokenizer | None, base: BaseEncoder | None = None) -> dict:
    check_file(path)
    # The user's codec name is normalised ("GBK" = "gbk"); "auto" is decided by the content.
    choice = "auto" if encoding is None else user_decoding(path, encoding).name
    parts = {"sha256": content_sha256(path), "tokenizer": canonical_name(tokenizer),
             "encoding": choice,
             "vocab": "own" if vocab_from is None else _vocab_sha(vocab_from.vocab)}
    if base is not None and hasattr(base, "to_dict"):
        # A model's own BPE or character table (engine.text.bpe, engine.text.fullvocab) is not known by
        # name alone: two folders may both be "model/vocab.json". Its content is the key.
        data = json.dumps(base.to_dict(), sort_keys=True).encode()
        parts["base"] = hashlib.sha256(data).hexdigest()
    return parts


def _base_of(tokenizer: str, vocab_from: Tokenizer | None) -> BaseEncoder:
    """The encoder that turns the text into original ids: the model's own when it has one."""
    return vocab_from.base if vocab_from is not None else get_base(tokenizer)


# ---------------------------------------------------------------------------------------------
# Writing an entry: temporary names, then renames (the header last).


@contextlib.contextmanager
def _writing(cache: Path) -> Iterator[None]:
    """Turn a failure to write into the cache into TokenCacheError naming the folder."""
    try:
        yield
    except TokenCacheError:
        raise
    except OSError as e:
        raise TokenCacheError(say("cache.unwritable", folder=str(cache),
                                  reason=str(e.strerror or e))) from e


@contextlib.contextmanager
def _locked(cache: Path, key: str, progress: Progress | None) -> Iterator[None]:
    """Hold `<key>.lock` while building, so a second process waits and then reuses."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock; the renames alone keep every entry whole
        yield
        return
    with _writing(cache):
        f = open(cache / f"{key}.lock", "a+b")
    with f:
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                # Polled, not blocking: the progress callback can still cancel the wait.
                if progress is not None:
                    progress(0, 0)
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _tmp(cache: Path, key: str, suffix: str) -> Path:
    return cache / f"{key}{suffix}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"


def _publish(cache: Path, parts: dict, tmp_data: Path, header: dict) -> Path:
    """Rename the data into place, then write and rename the header that vouches for it."""
    key = _key(parts)
    data, head = cache / f"{key}.tokens", cache / f"{key}.json"
    tmp_head = _tmp(cache, key, ".json")
    try:
        os.replace(tmp_data, data)
        with open(tmp_head, "w", encoding="utf-8") as f:
            json.dump(header, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_head, head)
    finally:
        tmp_head.unlink(missing_ok=True)
    return data


def _header(parts: dict, tokenizer: Tokenizer, dtype: np.dtype, n_tokens: int, n_chars: int,
            decoding: Decoding, source_bytes: int | None, checksum: str) -> dict:
    return {"format": FORMAT, "version": VERSION, "key": parts, "dtype": dtype.name,
            "n_tokens": n_tokens, "n_chars": n_chars, "source_bytes": source_bytes,
            "decoding": asdict(decoding), "vocab": tokenizer.vocab.tolist(),
            "checksum": checksum,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def _build_own(cache: Path, parts: dict, path: Path, encoding: str | None,
               progress: Progress | None, chunk_bytes: int, base: BaseEncoder) -> TokenFile:
    """Tokenize the file: original ids to a temporary file chunk by chunk, counting them; then
    the compact ids block by block over a memmap of it."""
    decoding = choose_decoding(path, encoding)  # refuses binary files before anything is written
    key = _key(parts)
    orig_dtype = _DTYPES["uint16"] if base.n_ids <= 65536 else _DTYPES["uint32"]
    tmp_orig, tmp_data = _tmp(cache, key, ".ids"), _tmp(cache, key, ".tokens")
    stream = TokenStream(path, base, decoding, progress, chunk_bytes)
    counts = np.zeros(0, dtype=np.int64)
    n = 0
    try:
        with _writing(cache):
            f = open(tmp_orig, "wb")
        with f:
            for ids in stream:
                if len(ids) and int(ids.max()) >= len(counts):
                    counts = np.concatenate([counts, np.zeros(
                        int(ids.max()) + 1 - len(counts), dtype=np.int64)])
                counts += np.bincount(ids, minlength=len(counts))
                with _writing(cache):
                    write_ids(f, ids.astype(orig_dtype, copy=False))
                n += len(ids)
        tokenizer = Tokenizer(base.name, np.flatnonzero(counts).astype(np.int64))
        dtype = id_dtype(tokenizer.vocab_size)
        # A table from every original id that occurs to its compact id: one take per block.
        table = np.full(len(counts), tokenizer.unk_id, dtype=dtype)
        table[tokenizer.vocab] = np.arange(len(tokenizer.vocab), dtype=dtype)
        with _writing(cache):
            checksum = write_blocks(tmp_data, tmp_orig, orig_dtype, n, table, tokenizer.vocab)
        header = _header(parts, tokenizer, dtype, n, stream.n_chars, stream.decoding,
                         path.stat().st_size, checksum)
        with _writing(cache):
            data = _publish(cache, parts, tmp_data, header)
    finally:
        tmp_orig.unlink(missing_ok=True)
        tmp_data.unlink(missing_ok=True)
    STATS.built += 1
    return TokenFile(data, tokenizer, dtype, n, stream.n_chars, stream.decoding,
                     parts["sha256"], built=True)


def _build_remapped(cache: Path, parts: dict, own: TokenFile, vocab_from: Tokenizer) -> TokenFile:
    """The own entry's ids in another vocabulary (a model's): a remap, no tokenizing."""
    key = _key(parts)
    dtype = id_dtype(vocab_from.vocab_size)
    # Own compact id -> original id -> the model's compact id (unknown when it has none).
    table = vocab_from.to_compact(own.tokenizer.vocab).astype(dtype)
    table = np.append(table, np.array([vocab_from.unk_id], dtype=dtype))
    tmp_data = _tmp(cache, key, ".tokens")
    try:
        with _writing(cache):
            checksum = write_blocks(tmp_data, own.path, own.dtype, own.n_tokens, table,
                                     vocab_from.vocab)
            header = _header(parts, vocab_from, dtype, own.n_tokens, own.n_chars,
                             own.decoding, None, checksum)
            data = _publish(cache, parts, tmp_data, header)
    finally:
        tmp_data.unlink(missing_ok=True)
    STATS.built += 1
    return TokenFile(data, vocab_from, dtype, own.n_tokens, own.n_chars, own.decoding,
                     own.content_sha256, built=True, remapped=True)


def _prepare(cache: Path, parts: dict, make: Callable[[], TokenFile],
             progress: Progress | None) -> TokenFile:
    found, damaged = _check_entry(cache, parts)
    if found is None:
        with _writing(cache):
            cache.mkdir(parents=True, exist_ok=True)
        with _locked(cache, _key(parts), progress):
            found, again = _check_entry(cache, parts)  # built by another process meanwhile?
            if found is None:
                damaged = damaged or again
                try:
                    made = make()
                except TokenCacheError:
                    # Without a lock (Windows) a rename onto a file another process has open
                    # fails: its entry, when whole, is as good as ours.
                    found = _read_entry(cache, parts)
                    if found is None:
                        raise
                else:
                    return replace(made, damaged=damaged)
    STATS.reused += 1
    return found


def prepare_token_file(
    path: str | Path,
    tokenizer: str,
    encoding: str | None = None,
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
    vocab_from: Tokenizer | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> TokenFile:
    """The token file of a text: found in the cache, or tokenized into it now.

    For torchrun: rank 0 calls this first; the other ranks call it after a barrier (or at the
    same time: the lock makes them wait) and get the same entry with built=False. `cache_dir`
    None means $TRANSFORMER_EXPLORER_TOKEN_CACHE or the default folder. Raises CorpusError for
    unusable text and TokenCacheError when the cache cannot be written (nothing half-written
    is left behind).
    """
    path = Path(path)
    cache = resolve_cache_dir(cache_dir)
    if cache is None:
        raise TokenCacheError(say("cache.off"))
    name = vocab_from.name if vocab_from is not None else tokenizer
    base = _base_of(tokenizer, vocab_from)
    own_parts = _parts(path, name, encoding, None, base)
    own = _prepare(cache, own_parts,
                   lambda: _build_own(cache, own_parts, path, encoding, progress, chunk_bytes,
                                      base),
                   progress)
    if vocab_from is None:
        return own
    if np.array_equal(own.tokenizer.vocab, vocab_from.vocab):
        return _as_vocab(own, vocab_from)  # the model was trained on this text
    parts = dict(own_parts, vocab=_vocab_sha(vocab_from.vocab))
    remapped = _prepare(cache, parts, lambda: _build_remapped(cache, parts, own, vocab_from),
                        progress)
    return replace(remapped, tokenizer=vocab_from)  # the caller's object, as in memory


# ---------------------------------------------------------------------------------------------
# The command line's two options (kept here so the CLI only passes them on).


def add_cache_options(parser: argparse.ArgumentParser) -> None:
    """--token-cache DIR and --no-token-cache on a subcommand's parser."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--token-cache", metavar="DIR",
                       help=f"folder of tokenized texts, reused by later runs (default: "
                       f"${CACHE_ENV} or {default_cache_dir()})")
    group.add_argument("--no-token-cache", action="store_true",
                       help="tokenize into memory, write no token file")


def cache_choice(args: argparse.Namespace) -> str | bool | None:
    """load_corpus' token_cache for parsed --token-cache / --no-token-cache."""
    return False if args.no_token_cache else args.token_cache
