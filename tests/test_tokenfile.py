"""Issue 10, part 2: a text is tokenized once into a token file on disk, reused by later runs
and other processes, rebuilt when anything it depends on changes or when it is damaged, and
trained on through memmaps, so neither tokenizing nor training holds the corpus in memory."""
from __future__ import annotations

import errno
import json
import os
import pickle
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.text import tokenfile
from engine.text.corpus import (
    CorpusError,
    TokenCacheWarning,
    corpus_from_text,
    load_corpus,
)
from engine.text.tokenfile import (
    TokenCacheError,
    find_token_file,
    prepare_token_file,
    resolve_cache_dir,
)
from reliability_helpers import run

ROOT = Path(__file__).resolve().parents[1]
WORDS = ("the model reads a window of tokens and predicts the next one attention lets every "
         "position look back 注意力 模型 训练 3.14 GPT-2 don't").split()


def _text(n_bytes: int, seed: int = 0) -> bytes:
    rng = random.Random(seed)
    lines = [" ".join(rng.choices(WORDS, k=rng.randint(3, 30))) + "\n" for _ in range(3000)]
    block = "".join(lines).encode("utf-8")
    return (block * (n_bytes // len(block) + 1))[:n_bytes].rsplit(b"\n", 1)[0] + b"\n"


@pytest.fixture(scope="module")
def text_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("text") / "book.txt"
    path.write_bytes(_text(2_000_000))
    return path


def _entries(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir() if not p.name.endswith(".lock"))


def _same(a, b) -> None:
    assert a.tokenizer.name == b.tokenizer.name
    assert np.array_equal(a.tokenizer.vocab, b.tokenizer.vocab)
    assert a.train.dtype == b.train.dtype and a.val.dtype == b.val.dtype
    assert np.array_equal(a.train, b.train) and np.array_equal(a.val, b.val)
    assert (a.n_chars, a.encoding, a.decoding) == (b.n_chars, b.encoding, b.decoding)


def test_built_once_then_reused(tmp_path, text_file):
    built_before, reused_before = tokenfile.STATS.built, tokenfile.STATS.reused
    first = load_corpus(text_file, token_cache=tmp_path)
    second = load_corpus(text_file, token_cache=tmp_path)
    assert first.token_file.built and not second.token_file.built
    # Counted, not timed (issue 21): the second run tokenized nothing and reused one entry.
    assert tokenfile.STATS.built == built_before + 1
    assert tokenfile.STATS.reused == reused_before + 1
    assert second.token_file.path == first.token_file.path
    assert isinstance(second.train, np.memmap) and not second.train.flags.writeable
    _same(first, second)
    assert [n.rsplit(".", 1)[1] for n in _entries(tmp_path)] == ["json", "tokens"]
    header = json.loads(first.token_file.path.with_suffix(".json").read_text())
    assert header["n_tokens"] == first.n_tokens and header["dtype"] == "uint16"
    assert header["key"]["tokenizer"] == "cl100k_base" and header["key"]["encoding"] == "auto"
    found = find_token_file(text_file, "cl100k_base", cache_dir=tmp_path)
    assert (found.path, found.n_tokens, found.built) == (first.token_file.path, first.n_tokens,
                                                         False)


def test_rebuilt_when_text_tokenizer_or_encoding_changes(tmp_path, text_file):
    base = prepare_token_file(text_file, "cl100k_base", cache_dir=tmp_path)
    other = tmp_path / "other.txt"
    other.write_bytes(text_file.read_bytes().replace(b"model", b"modal", 1))
    changed_text = prepare_token_file(other, "cl100k_base", cache_dir=tmp_path)
    char = prepare_token_file(text_file, "char", cache_dir=tmp_path)
    # cp1252 reads the UTF-8 Chinese as other characters: a different text, a different entry.
    cp1252 = prepare_token_file(text_file, "char", encoding="cp1252", cache_dir=tmp_path)
    files = [base, changed_text, char, cp1252]
    assert all(tf.built for tf in files)
    assert len({tf.path for tf in files}) == 4
    assert char.tokenizer.name == "char" and cp1252.decoding.name == "cp1252"
    assert cp1252.n_chars != char.n_chars
    # Each of them is found again as it is, the user's codec name in any spelling.
    assert not prepare_token_file(text_file, "char", encoding="CP1252",
                                  cache_dir=tmp_path).built
    assert not prepare_token_file(other, "cl100k_base", cache_dir=tmp_path).built


@pytest.mark.parametrize("damage", ["truncate", "grow", "garbage header", "wrong count",
                                    "no data"])
def test_a_damaged_entry_is_rebuilt_not_trusted(tmp_path, text_file, damage):
    good = prepare_token_file(text_file, "cl100k_base", cache_dir=tmp_path)
    expected = np.array(good.open())
    header = good.path.with_suffix(".json")
    if damage == "truncate":
        with open(good.path, "r+b") as f:
            f.truncate(good.path.stat().st_size - 2)
    elif damage == "grow":
        with open(good.path, "ab") as f:
            f.write(b"\0\0")
    elif damage == "garbage header":
        header.write_bytes(b'{"format": "transformer-explorer-tok')
    elif damage == "wrong count":
        h = json.loads(header.read_text())
        h["n_tokens"] -= 1
        header.write_text(json.dumps(h))
    else:
        good.path.unlink()
    again = prepare_token_file(text_file, "cl100k_base", cache_dir=tmp_path)
    assert again.built
    assert np.array_equal(again.open(), expected)
    assert not prepare_token_file(text_file, "cl100k_base", cache_dir=tmp_path).built


@pytest.mark.parametrize("damage", ["bytes changed", "id past the vocabulary",
                                    "vocab shortened"])
def test_damaged_data_of_the_right_size_is_caught_by_its_checksum_and_rebuilt(
        tmp_path, text_file, damage):
    """Issue 21, failure 3. Today: bytes changed inside a .tokens file were trained on silently
    (the loss moved from 6.65 to 6.54), or crashed every later run with IndexError; so did a
    shortened header vocab list. Neither changes the file's size."""
    good = prepare_token_file(text_file, "char", cache_dir=tmp_path)
    expected = np.array(good.open())
    header = good.path.with_suffix(".json")
    if damage == "bytes changed":  # ids that exist, so only the checksum can tell
        with open(good.path, "r+b") as f:
            f.seek(1000)
            f.write(np.array([expected[1000] ^ 1, expected[1001] ^ 1], "<u2").tobytes())
    elif damage == "id past the vocabulary":
        with open(good.path, "r+b") as f:
            f.seek(2000)
            f.write(np.array([60000], "<u2").tobytes())
    else:
        h = json.loads(header.read_text())
        h["vocab"] = h["vocab"][:-3]
        header.write_text(json.dumps(h))
    again = prepare_token_file(text_file, "char", cache_dir=tmp_path)
    assert again.built and again.damaged is not None
    line = again.describe()
    assert "\n" not in line and "damaged" in line and str(again.path) in line
    assert np.array_equal(again.open(), expected)
    assert int(np.array(again.open()).max()) < again.tokenizer.vocab_size
    assert not prepare_token_file(text_file, "char", cache_dir=tmp_path).built


def test_the_cli_says_in_one_line_that_a_damaged_entry_was_rebuilt(tmp_path, text_file,
                                                                   capsys):
    cache = tmp_path / "cache"
    small = ("--steps", "2", "--d-model", "16", "--heads", "2", "--layers", "1", "--context",
             "8", "--eval-interval", "2", "--eval-batches", "1", "--batch", "2")
    assert run(capsys, "train", text_file, "--out", tmp_path / "a", *small, "--token-cache",
               cache)[0] == 0
    data = next(cache.glob("*.tokens"))
    with open(data, "r+b") as f:
        f.seek(64)
        f.write(b"\xff\xff")  # an id past any vocabulary this text has
    code, _, err = run(capsys, "train", text_file, "--out", tmp_path / "b", *small,
                       "--token-cache", cache)
    lines = [line for line in err.splitlines() if "damaged" in line]
    assert code == 0 and len(lines) == 1, err
    assert "its data does not match its checksum" in lines[0] and str(data) in lines[0]


def test_half_written_files_are_ignored_and_an_interrupted_build_leaves_none(tmp_path,
                                                                             text_file):
    tf = prepare_token_file(text_file, "char", cache_dir=tmp_path)
    key = tf.path.stem
    for p in list(tmp_path.iterdir()):
        if not p.name.endswith(".lock"):
            p.unlink()
    # What a killed builder leaves: a temporary data file, and no header vouching for it.
    stray = tmp_path / f"{key}.tokens.999-dead.tmp"
    stray.write_bytes(b"\1\0" * 10)
    assert find_token_file(text_file, "char", cache_dir=tmp_path) is None

    class Stop(Exception):
        pass

    def stop_half_way(done: int, total: int) -> None:
        if done > total // 2:
            raise Stop

    with pytest.raises(Stop):
        prepare_token_file(text_file, "char", cache_dir=tmp_path, progress=stop_half_way,
                           chunk_bytes=1 << 16)
    assert _entries(tmp_path) == [stray.name]  # nothing of the interrupted build remains
    again = prepare_token_file(text_file, "char", cache_dir=tmp_path)
    assert again.built and np.array_equal(again.open(), tf.open())


@pytest.mark.parametrize("tokenizer", ["cl100k_base", "char"])
def test_the_token_file_corpus_equals_the_in_memory_one(tmp_path, text_file, tokenizer):
    on_disk = load_corpus(text_file, tokenizer, context_length=8, val_fraction=0.2,
                          token_cache=tmp_path)
    in_memory = load_corpus(text_file, tokenizer, context_length=8, val_fraction=0.2,
                            token_cache=False)
    assert on_disk.token_file is not None and in_memory.token_file is None
    assert isinstance(on_disk.train, np.memmap) and not isinstance(in_memory.train, np.memmap)
    _same(on_disk, in_memory)


def test_gbk_and_a_models_vocabulary_give_the_in_memory_ids(tmp_path):
    gbk = tmp_path / "zh.txt"
    gbk.write_bytes(("注意力就是你所需要的一切。模型由编码器和解码器组成。\n" * 300).encode("gbk"))
    _same(load_corpus(gbk, "char", context_length=4, token_cache=tmp_path),
          load_corpus(gbk, "char", context_length=4, token_cache=False))
    # A model's vocabulary: some of its ids absent from this text, some of the text's unknown.
    model = corpus_from_text("模型 注意力 abc " * 50, tokenizer="char", context_length=4)
    on_disk = load_corpus(gbk, context_length=4, vocab_from=model.tokenizer, token_cache=tmp_path)
    assert on_disk.token_file.built and on_disk.token_file.remapped
    _same(on_disk, load_corpus(gbk, context_length=4, vocab_from=model.tokenizer,
                               token_cache=False))
    assert on_disk.tokenizer is model.tokenizer
    assert int(on_disk.train.max()) == model.tokenizer.unk_id
    assert not load_corpus(gbk, context_length=4, vocab_from=model.tokenizer,
                           token_cache=tmp_path).token_file.built
    # Resuming on the text a model was trained on needs no second file.
    own = load_corpus(gbk, "char", context_length=4, token_cache=tmp_path)
    same_vocab = load_corpus(gbk, context_length=4, vocab_from=own.tokenizer,
                             token_cache=tmp_path)
    assert same_vocab.token_file.path == own.token_file.path
    for vocab in (own.tokenizer, model.tokenizer):
        found = find_token_file(gbk, "char", cache_dir=tmp_path, vocab_from=vocab)
        assert found is not None and found.tokenizer is vocab


def test_a_memmap_corpus_pickles_as_its_file_not_its_ids(tmp_path, text_file):
    corpus = load_corpus(text_file, token_cache=tmp_path)
    data = pickle.dumps(corpus)
    assert len(data) < 20_000 < corpus.train.nbytes  # the vocabulary, not 1M ids
    back = pickle.loads(data)
    assert isinstance(back.train, np.memmap)
    _same(back, corpus)
    # Once its arrays are replaced, a corpus travels with them.
    corpus.train = np.array(corpus.train[:1000])
    assert np.array_equal(pickle.loads(pickle.dumps(corpus)).train, corpus.train)
    # A token file deleted before the other side opens it is a clear error.
    back.token_file.path.unlink()
    with pytest.raises(CorpusError, match="open the text again"):
        pickle.loads(data)


def test_a_full_disk_falls_back_to_memory_and_leaves_no_half_entry(tmp_path, text_file,
                                                                   monkeypatch):
    def full(f, ids):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tokenfile, "write_ids", full)  # moved to tokenblocks
    with pytest.raises(TokenCacheError, match="No space left on device.*--no-token-cache"):
        prepare_token_file(text_file, "char", cache_dir=tmp_path)
    with pytest.warns(TokenCacheWarning, match="tokenizing into memory instead"):
        corpus = load_corpus(text_file, "char", token_cache=tmp_path)
    assert corpus.token_file is None
    assert _entries(tmp_path) == []
    monkeypatch.undo()
    _same(corpus, load_corpus(text_file, "char", token_cache=tmp_path))


def test_bad_text_keeps_its_messages_with_the_cache(tmp_path):
    empty, binary, short = tmp_path / "e.txt", tmp_path / "b.bin", tmp_path / "s.txt"
    empty.write_bytes(b"")
    binary.write_bytes(bytes(range(256)) * 40)
    short.write_text("too short")
    cache = tmp_path / "cache"
    for path, words in ((empty, "empty"), (binary, "binary"), (short, "only 2 tokens")):
        with pytest.raises(CorpusError, match=words):
            load_corpus(path, token_cache=cache)


def test_the_cache_folder_and_switching_it_off(tmp_path, monkeypatch, text_file):
    monkeypatch.delenv(tokenfile.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve_cache_dir() == tmp_path / "xdg" / "transformer-explorer" / "tokens"
    assert resolve_cache_dir(tmp_path / "mine") == tmp_path / "mine"
    assert resolve_cache_dir(False) is None
    monkeypatch.setenv(tokenfile.CACHE_ENV, str(tmp_path / "env"))
    assert resolve_cache_dir() == tmp_path / "env"
    monkeypatch.setenv(tokenfile.CACHE_ENV, "off")
    assert load_corpus(text_file).token_file is None


def test_processes_building_one_entry_at_once_share_it(tmp_path, text_file):
    code = ("import json, sys; from engine.text.tokenfile import prepare_token_file; "
            "tf = prepare_token_file(sys.argv[1], 'cl100k_base', cache_dir=sys.argv[2]); "
            "print(json.dumps([tf.built, str(tf.path)]))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(text_file), str(tmp_path)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sorted(built for built, _ in results) == [False, True]  # one built, one waited
    assert results[0][1] == results[1][1]
    assert not prepare_token_file(text_file, "cl100k_base", cache_dir=tmp_path).built
    assert not [n for n in _entries(tmp_path) if n.endswith(".tmp")]


def test_the_cli_says_built_or_reused_on_stderr_only(tmp_path, text_file, capsys):
    cache = tmp_path / "cache"
    small = ("--steps", "2", "--d-model", "16", "--heads", "2", "--layers", "1", "--context",
             "8", "--eval-interval", "2", "--eval-batches", "1", "--batch", "2")
    code, _, err = run(capsys, "train", text_file, "--out", tmp_path / "a", *small,
                       "--token-cache", cache)
    assert code == 0 and "tokenized " in err and f"into {cache}" in err
    code, out, err = run(capsys, "train", text_file, "--out", tmp_path / "b", *small,
                         "--token-cache", cache, "--json")
    assert code == 0 and "tokens: reused" not in out and json.loads(out)["steps"] == 2
    code, _, err = run(capsys, "train", text_file, "--out", tmp_path / "c", *small,
                       "--token-cache", cache)
    assert code == 0 and f"tokens: reused {cache}" in err
    code, _, err = run(capsys, "train", text_file, "--out", tmp_path / "d", *small,
                       "--no-token-cache")
    assert code == 0 and "tokens:" not in err and "tokenized" not in err


# ---------------------------------------------------------------------------------------------
# Memory: measured in child processes (tokenfile_child.py) as the growth of RssAnon, the
# process's own memory; memmap pages of the token file are page cache and do not count.


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> Path:
    """48 MB of text: 48M characters, 96 MB of compact char ids, 192 MB of uint32 ids."""
    path = tmp_path_factory.mktemp("large") / "large.txt"
    path.write_bytes(_text(48_000_000, seed=1))
    return path


def _child(mode: str, text: Path, cache: str) -> dict:
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "tokenfile_child.py"), mode,
                           str(text), cache], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_tokenizing_and_training_from_a_token_file_hold_only_a_chunk_and_a_batch(tmp_path,
                                                                                 large):
    size = large.stat().st_size
    # Tokenizing: one chunk of text and its ids at a time. Measured ~29 MB, the same for
    # 40 and 80 MB of text; holding the ids would be 6 bytes per character (~290 MB).
    tokenize = _child("tokenize", large, str(tmp_path))
    assert tokenize["built"] and tokenize["n_tokens"] > 40_000_000
    assert tokenize["growth"] < 44 << 20 < size, tokenize
    # Training (reusing the file): only the batches' windows are read. Measured < 1 MB.
    train = _child("train", large, str(tmp_path))
    assert train["built"] is False
    assert train["growth"] < 8 << 20, train
    # The same measurement sees a corpus held in memory: it can fail.
    in_memory = _child("train", large, "off")
    assert in_memory["growth"] > 4 * size, in_memory
