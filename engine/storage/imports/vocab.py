"""Finding an imported model's own tokenizer: meta.pkl, BPE files, or GPT-2's already on disk."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.text.bpe import BpeError, bpe_files_in, find_gpt2_bpe, read_bpe
from engine.storage.checkpoint import CheckpointError
from engine.text.tokenizer_json import TokenizerJsonError, read_tokenizer_json
from engine.text.fullvocab import CharTableBase, FullBase, FullTokenizer
from engine.text.tokenizers import available_tokenizers, get_base
from engine.storage.imports.pickles import read_plain_pickle

GPT2_IDS = 50257  # GPT-2's BPE; nanoGPT pads its table to 50,304 rows


class TokenizerNeeded(CheckpointError):
    """The model's file has no vocabulary and none was found: the user must choose one."""


def meta_tokenizer(path: Path, rows: int) -> FullTokenizer:
    """nanoGPT's character vocabulary from meta.pkl (read without running code)."""
    meta: Any = read_plain_pickle(path)
    itos = meta.get("itos") if isinstance(meta, dict) else None
    if isinstance(itos, dict):
        try:
            itos = [itos[i] for i in range(len(itos))]
        except KeyError:
            itos = None
    if not isinstance(itos, list):
        raise CheckpointError(f"'{path.name}' is not a nanoGPT vocabulary (no 'itos' list or "
                              "map of ids 0..n-1)")
    try:
        return _full(CharTableBase(itos, name=f"{path.parent.name}/{path.name}"), rows)
    except ValueError as e:
        raise CheckpointError(f"'{path.name}': {e}") from None


def _full(base: FullBase, rows: int) -> FullTokenizer:
    try:
        return FullTokenizer(base, rows)
    except ValueError as e:
        raise CheckpointError(str(e)) from None


def tokenizer_at(path: str | Path, rows: int) -> FullTokenizer:
    """The tokenizer a user chose: a meta.pkl, BPE files (vocab.json, merges.txt,
    tokenizer.json) or a folder holding them."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"'{path}' does not exist; choose a meta.pkl, vocab.json or "
                              "tokenizer.json")
    if path.is_file() and path.suffix == ".pkl":
        return meta_tokenizer(path, rows)
    if path.is_dir() and (path / "meta.pkl").is_file() and not bpe_files_in(path):
        return meta_tokenizer(path / "meta.pkl", rows)
    try:
        return _full(read_bpe(path), rows)
    except BpeError as e:
        # Not GPT-2's byte-level BPE: a tokenizer.json of another kind (SentencePiece BPE
        # with byte fallback, a Llama 3 regex) is read by the tokenizers library itself.
        json_path = path if path.is_file() else path / "tokenizer.json"
        if json_path.name.endswith(".json") and json_path.name != "vocab.json" \
                and json_path.is_file():
            try:
                return _full(read_tokenizer_json(json_path), rows)
            except TokenizerJsonError as e2:
                raise CheckpointError(str(e2)) from None
        raise CheckpointError(str(e)) from None


def installed_gpt2(rows: int) -> FullTokenizer | None:
    """GPT-2's tokenizer if it is already on this machine (Hugging Face cache, or tiktoken's
    cache of its gpt2 files), never downloaded; None when it is not."""
    folder = find_gpt2_bpe()
    if folder is not None:
        try:
            return _full(read_bpe(folder), rows)
        except BpeError:
            pass
    if "gpt2" in available_tokenizers():  # only ever true when its files are cached
        return _full(get_base("gpt2"), rows)
    return None


def needed(what: str, rows: int, may_be_chars: bool = True) -> TokenizerNeeded:
    """The error asking the user to choose a tokenizer for a model of `rows` rows."""
    if may_be_chars and rows < 1000:
        hint = "it looks character-level: choose its meta.pkl (the data/<dataset>/ folder)"
    else:
        hint = ("choose its tokenizer: GPT-2's vocab.json and merges.txt (or tokenizer.json), "
                "or a meta.pkl")
    return TokenizerNeeded(f"{what} has no vocabulary of its own and none was found; {hint}")
