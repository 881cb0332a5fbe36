"""Sizes a file claims are checked before memory is allocated (issue 21, failures 2 and 8).

Each hostile file is built here, then opened by the real CLI in a child process whose address
space is capped (RLIMIT_AS), as a user's `ulimit -v` would: today's code built the model (or the
tokenizer's tables) first and died in a traceback or a MemoryError; now the refusal comes first,
on one line naming the file and the figures.
"""
from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import safetensors.torch
import torch

from engine.devices import format_bytes, memory_shortfall
from engine.storage.checkpoint import CheckpointError, save_checkpoint
from engine.storage.imports import open_model
from engine.storage.imports.pickles import PickleRefused, read_plain_pickle
from engine.text.bpe import BpeError, read_bpe
from engine.text.filetype import META_KEY
from engine.text.tokenizers import Tokenizer
from tests.helpers import tiny_model

ROOT = Path(__file__).resolve().parents[1]
CAP = 3 << 30  # address space of the child: torch and the CLI take ~0.7 GB of it


def _cli(*argv: str | Path, cap: int = CAP) -> tuple[int, str, float]:
    """(exit status, stderr, seconds) of `python -m engine.cli ARGV` under a `ulimit -v`."""
    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "engine.cli", *map(str, argv)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
                          preexec_fn=limit)
    return done.returncode, done.stderr, time.monotonic() - start


def _one_line(err: str) -> str:
    assert "Traceback" not in err and "MemoryError" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# ----------------------------------------------------------------------------- the helper


def test_the_one_would_this_fit_question():
    assert memory_shortfall(10, "x", free=100) is None
    words = memory_shortfall(7_300_000_000, "its weights", free=2_100_000_000)
    assert words == "its weights need 7.3 GB, but only 2.1 GB of memory are free on cpu"
    assert format_bytes(412_000_000) == "412 MB" and format_bytes(11) == "11 bytes"


# ----------------------------------------------------------------------------- Hugging Face


def _hf_folder(folder: Path, **config) -> Path:
    folder.mkdir()
    cfg = {"model_type": "gpt2", "n_layer": 2, "n_head": 2, "n_embd": 8, "vocab_size": 300,
           "n_positions": 16, **config}
    (folder / "config.json").write_text(json.dumps(cfg))
    # A few real tensors under GPT-2's names: the file is kBs whatever the config says.
    safetensors.torch.save_file({"wte.weight": torch.zeros(300, 8),
                                 "wpe.weight": torch.zeros(16, 8)},
                                str(folder / "model.safetensors"))
    return folder


@pytest.mark.parametrize("sizes", [
    {"n_layer": 100_000, "n_embd": 65_536, "n_head": 16},
    {"n_layer": 1_000, "n_embd": 4_096, "n_head": 16},
    {"vocab_size": 2_000_000_000},
])
def test_a_huge_hugging_face_config_is_refused_before_the_model_is_built(tmp_path, sizes):
    """Today: the model was built first (7.5 GB, 22 s, then a traceback or the OOM killer)."""
    folder = _hf_folder(tmp_path / "huge", **sizes)
    code, err, seconds = _cli("info", folder)
    line = _one_line(err)
    assert code == 2
    assert "'huge/config.json'" in line and "too large" in line and "GB" in line
    assert "of memory are free" in line
    assert seconds < 60  # nothing of the model's size was touched (a generous bound)


def test_a_config_that_fits_but_does_not_match_its_small_file_is_refused_before_building(
        tmp_path):
    """GPT-2 small's sizes (85 M weights) over a file of kBs: refused by the weights' count,
    before a model of the config's size is built (today: built, then a shape refused)."""
    folder = _hf_folder(tmp_path / "xl", n_layer=12, n_embd=768, n_head=12, vocab_size=300)
    code, err, _ = _cli("info", folder)
    line = _one_line(err)
    assert code == 2 and "'model.safetensors' does not match its configuration" in line
    assert "the file holds 2,528 weights" in line


@pytest.mark.parametrize("key,value", [("n_embd", None), ("n_embd", [1]), ("n_layer", "2"),
                                       ("n_head", 1.5), ("vocab_size", True)])
def test_a_config_count_that_is_not_a_whole_number_is_one_line(tmp_path, key, value):
    """Today: `n_embd: null` or `[1]` was a TypeError traceback."""
    folder = _hf_folder(tmp_path / "odd", **{key: value})
    with pytest.raises(CheckpointError) as err:
        open_model(folder)
    message = str(err.value)
    assert "\n" not in message and "'odd/config.json'" in message
    assert f"{key}: must be a whole number, got {value!r}" in message


def test_n_embd_null_in_the_cli_is_one_line(tmp_path):
    folder = _hf_folder(tmp_path / "nul")
    cfg = json.loads((folder / "config.json").read_text())
    cfg["n_embd"] = None
    (folder / "config.json").write_text(json.dumps(cfg))
    code, err, _ = _cli("info", folder)
    line = _one_line(err)
    assert code == 2 and "'nul/config.json'" in line and "n_embd" in line


# ----------------------------------------------------------------------------- our own file


def _edited(path: Path, **changes) -> None:
    """Rewrite our file with only its embedded model config changed (the tensors, and the
    checksum over them, untouched)."""
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        metadata = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    meta = json.loads(metadata[META_KEY])
    meta["model_config"].update(changes)
    metadata[META_KEY] = json.dumps(meta)
    safetensors.torch.save_file(tensors, str(path), metadata=metadata)


@pytest.mark.parametrize("changes", [
    {"n_layer": 1000, "d_model": 512, "n_head": 8, "d_ff": 2048},  # 3.2 GB: fits, mismatched
    {"n_layer": 100_000, "d_model": 8192, "n_head": 8, "d_ff": 32768},  # fits nowhere
])
def test_our_file_with_an_edited_config_is_refused_before_the_model_is_built(tmp_path,
                                                                            changes):
    """Today: `sample` allocated what the edited config claimed (7.3 GB) before comparing."""
    tok = Tokenizer("char", np.arange(97, 123))
    path = save_checkpoint(tmp_path / "m.safetensors", tiny_model(tok.vocab_size), tok)
    _edited(path, **changes)
    code, err, _ = _cli("sample", path, "--prompt", "ab", "--tokens", "2", cap=2 << 30)
    line = _one_line(err)
    assert code == 2 and "'m.safetensors'" in line
    assert "does not match its model configuration" in line
    assert "the file holds 5,312 weights" in line


# ----------------------------------------------------------------------------- vocabularies


def _bpe_files(folder: Path, vocab: dict, merges: str = "#version: 0.2\n") -> Path:
    from engine.text.bpe import bytes_to_unicode

    folder.mkdir()
    full = {ch: b for b, ch in bytes_to_unicode().items()}
    full.update(vocab)
    (folder / "vocab.json").write_text(json.dumps(full))
    (folder / "merges.txt").write_text(merges)
    return folder


@pytest.mark.parametrize("big", [300_000_000, 2_000_000_000])
def test_a_vocab_json_with_a_huge_id_is_refused_before_its_tables_are_sized(tmp_path, big):
    """Today: one id of 3e8 in a 4 kB vocab.json cost 2.6 GB; 2e9, a MemoryError traceback."""
    folder = _bpe_files(tmp_path / "tok", {"<|endoftext|>": big})
    assert (folder / "vocab.json").stat().st_size < 5000
    with pytest.raises(BpeError) as err:
        read_bpe(folder)
    message = str(err.value)
    assert "\n" not in message and "tok/vocab.json" in message
    assert f"{big:,}" in message and "257 tokens" in message
    # Through the CLI, as the tokenizer of a model (the limit: a 2 GB address space).
    model = _gpt2_folder(tmp_path / "m")
    code, err, _ = _cli("info", model, "--tokenizer-from", folder, cap=2 << 30)
    line = _one_line(err)
    assert code == 2 and "tok/vocab.json" in line and f"{big:,}" in line


def _gpt2_folder(folder: Path) -> Path:
    """A whole, valid GPT-2 folder without a tokenizer (our tiny model, exported)."""
    from engine.storage.imports.hf_export import export_hf

    model = tiny_model(300, positional="learned", norm="pre", activation="gelu")
    export_hf(model, None, folder)
    return folder


def _tokenizer_json(path: Path, added: list, merges: list | None = None) -> Path:
    from engine.text.bpe import bytes_to_unicode

    vocab = {ch: b for b, ch in bytes_to_unicode().items()}
    path.write_text(json.dumps({
        "model": {"type": "BPE", "vocab": vocab, "merges": merges or []},
        "pre_tokenizer": {"type": "ByteLevel"}, "added_tokens": added}))
    return path


def test_tokenizer_json_added_tokens_with_a_huge_id_are_refused(tmp_path):
    path = _tokenizer_json(tmp_path / "tokenizer.json",
                           [{"id": 2_000_000_000, "content": "<|x|>"}])
    with pytest.raises(BpeError, match=r"2,000,000,000 but only 257 tokens"):
        read_bpe(path)


@pytest.mark.parametrize("added,merges,words", [
    ([{"id": "five", "content": "<|x|>"}], None, "added token '<|x|>' has the id 'five'"),
    ([{"id": 1.5, "content": "<|x|>"}], None, "has the id 1.5"),
    ([], [[1, 2], 5], "merge [1, 2] is not two tokens"),
    ([], [5], "merge 5 is not two tokens"),
    ([], [["a", "b", "c"]], 'merge ["a", "b", "c"] is not two tokens'),
])
def test_a_malformed_tokenizer_json_is_one_line_naming_the_file(tmp_path, added, merges, words):
    """Today: merges like [[1,2],5] were a TypeError traceback; a non-integer added id was one
    line that did not name the file."""
    path = _tokenizer_json(tmp_path / "tokenizer.json", added, merges)
    with pytest.raises(BpeError) as err:
        read_bpe(path)
    message = str(err.value)
    assert "\n" not in message and "'tokenizer.json'" in message and words in message


# ----------------------------------------------------------------------------- meta.pkl


def test_a_memo_bomb_of_eleven_bytes_is_refused_without_unpickling(tmp_path):
    """LONG_BINPUT 2**30 makes the C unpickler grow its memo to 16 GB (RSS) before anything
    else; the scan refuses it with the figure, having built nothing."""
    meta = tmp_path / "meta.pkl"
    meta.write_bytes(b"\x80\x02]r\xff\xff\xff\x3f.")
    with pytest.raises(PickleRefused) as err:
        read_plain_pickle(meta)
    message = str(err.value)
    assert "'meta.pkl' would take more than 134 MB of memory" in message
    assert "9 bytes on disk" in message


def test_a_pickle_of_cheap_opcodes_building_gigabytes_is_refused(tmp_path):
    """3 MB of EMPTY_SET opcodes build 672 MB of sets; refused by the scan."""
    meta = tmp_path / "meta.pkl"
    meta.write_bytes(b"\x80\x04]\x94(" + b"\x8f" * 3_000_000 + b"e.")
    with pytest.raises(PickleRefused, match="would take more than 134 MB of memory"):
        read_plain_pickle(meta)


def test_a_60_mb_pickle_is_refused_by_its_size_before_it_is_read(tmp_path):
    """Today: 1.4 GB and 13.7 s before the refusal."""
    meta = tmp_path / "meta.pkl"
    with open(meta, "wb") as f:
        f.write(b"\x80\x04]\x94(")
        f.write(b"N" * (60 << 20))
        f.write(b"e.")
    start = time.monotonic()
    with pytest.raises(PickleRefused, match=r"'meta.pkl' is 63 MB, too large for a vocabulary "
                                            r"\(at most 4 MB\)"):
        read_plain_pickle(meta)
    assert time.monotonic() - start < 5


def test_every_character_of_unicode_is_still_a_vocabulary(tmp_path):
    chars = [chr(i) for i in range(32, 150_000) if not 0xD800 <= i < 0xE000]
    meta = tmp_path / "meta.pkl"
    meta.write_bytes(pickle.dumps({"vocab_size": len(chars), "itos": dict(enumerate(chars)),
                                   "stoi": {c: i for i, c in enumerate(chars)}}))
    assert read_plain_pickle(meta)["vocab_size"] == len(chars)
