"""Corpus: reading our users' files, chunked tokenization, the split and the batches."""
from __future__ import annotations

import codecs
import random

import numpy as np
import pytest
import torch

from engine.text.corpus import (
    Corpus,
    CorpusError,
    corpus_from_text,
    load_corpus,
    read_text,
    tokenize_file,
)
from engine.text.tokenizers import build_tokenizer, get_base

CHINESE = "注意力就是你所需要的一切。我们结合论文来学习一下Transformer的理论知识～\n"
ENGLISH = "Chapter 1: Building Rapport and Capturing the reader's attention.\n"


def _paragraphs(n_bytes: int, seed: int = 0) -> str:
    """Mixed English/Chinese paragraphs with blank lines, CRLF, indentation and long lines."""
    rng = random.Random(seed)
    words = ["the", "model", "attention", "token", "注意力", "模型", "训练", "3.14159", "GPT-2",
             "(x)", "q/k/v", "<|endoftext|>", "😀", "don't"]
    seps = ["\n\n", "\r\n", "\n", "\n\n\n", "\n  ", "\r\n\r\n", "\n/", "。\n"]
    parts, size = [], 0
    while size < n_bytes:
        para = " ".join(rng.choice(words) for _ in range(rng.randint(1, 60)))
        parts.append(para + rng.choice(seps))
        size += len(parts[-1].encode())
    return "".join(parts)


@pytest.fixture(scope="module")
def long_text() -> str:
    return _paragraphs(50_000)


def test_utf8_plain_and_bom(tmp_path):
    text = ENGLISH + CHINESE
    p = tmp_path / "a.txt"
    p.write_bytes(text.encode("utf-8"))
    assert read_text(p) == (text, "utf-8")
    p.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    got, enc = read_text(p)
    assert got == text and enc == "utf-8-sig" and "\ufeff" not in got


@pytest.mark.parametrize("codec, bom, name", [
    ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16-le"),
    ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16-be"),
])
def test_utf16_with_bom(tmp_path, codec, bom, name):
    text = ENGLISH + CHINESE + "\r\n"
    p = tmp_path / "u16.txt"
    p.write_bytes(bom + text.encode(codec))
    assert read_text(p) == (text, name)


def test_gbk_chinese_is_exact(tmp_path):
    text = (CHINESE + "前面我们完成了自己训练一个小模型，今天我们结合论文来学习一下。\r\n") * 3
    p = tmp_path / "gbk.txt"
    p.write_bytes(text.encode("gbk"))
    assert read_text(p) == (text, "gb18030")
    ids = tokenize_file(p, "cl100k_base", chunk_bytes=64)
    assert ids.tolist() == get_base("cl100k_base").encode(text).tolist()


def test_gbk_after_a_long_ascii_start(tmp_path):
    # The first 130 kB are ASCII; the evidence of the whole file says GB18030.
    text = ENGLISH * 2000 + CHINESE * 3
    p = tmp_path / "late.txt"
    p.write_bytes(text.encode("gbk"))
    assert read_text(p) == (text, "gb18030")
    corpus = load_corpus(p, tokenizer="char", context_length=4)
    assert corpus.encoding == "gb18030" and corpus.n_chars == len(text)


@pytest.mark.parametrize("content, words", [
    (b"", "empty"),
    (codecs.BOM_UTF8, "empty"),
    (bytes(range(256)) * 50, "binary"),
    (b"\x89PNG\r\n\x1a\n" + bytes(2000), "binary"),
    (b"\x80\xff" * 300, "binary"),
])
def test_unusable_files_are_refused(tmp_path, content, words):
    p = tmp_path / "x.bin"
    p.write_bytes(content)
    with pytest.raises(CorpusError, match=words):
        read_text(p)
    with pytest.raises(CorpusError, match=words):
        load_corpus(p)


def test_missing_file_and_folder_are_refused(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        read_text(tmp_path / "nope.txt")
    with pytest.raises(CorpusError, match="folder"):
        read_text(tmp_path)
    with pytest.raises(CorpusError, match="folder"):
        load_corpus(tmp_path)


def test_too_short_file_names_its_token_count(tmp_path):
    p = tmp_path / "short.txt"
    p.write_text(ENGLISH, encoding="utf-8")
    n = len(get_base("cl100k_base").encode(ENGLISH))
    expected = f"'short.txt' has only {n} tokens.*context 16 needs at least 170"
    with pytest.raises(CorpusError, match=expected):
        load_corpus(p)


@pytest.mark.parametrize("name", ["cl100k_base", "char"])
def test_chunked_equals_whole_text(tmp_path, long_text, name):
    p = tmp_path / "long.txt"
    p.write_bytes(long_text.encode("utf-8"))
    whole = get_base(name).encode(long_text)
    calls = []
    ids = tokenize_file(p, name, progress=lambda done, total: calls.append((done, total)),
                        chunk_bytes=1000)
    assert ids.dtype == np.uint32
    assert np.array_equal(ids, whole)
    size = p.stat().st_size
    assert len(calls) > 10 and calls[-1] == (size, size)
    assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))


def test_chunked_utf16_equals_whole_text(tmp_path, long_text):
    text = long_text[:20_000]
    p = tmp_path / "long16.txt"
    p.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    ids = tokenize_file(p, "cl100k_base", chunk_bytes=999)  # odd: chunks end mid code unit
    assert ids.tolist() == get_base("cl100k_base").encode(text).tolist()


def test_load_corpus_split_and_dtype(tmp_path, long_text):
    p = tmp_path / "long.txt"
    p.write_bytes(long_text.encode("utf-8"))
    corpus = load_corpus(p, val_fraction=0.2)
    tok = corpus.tokenizer
    assert tok.vocab_size < 2000 and corpus.train.dtype == np.uint16
    assert corpus.encoding == "utf-8" and corpus.n_chars == len(long_text)
    assert corpus.source == str(p)
    both = np.concatenate([corpus.train, corpus.val]).astype(np.int64)
    assert corpus.n_tokens == len(both) and len(corpus.val) == int(len(both) * 0.2)
    assert tok.unk_id not in both
    assert tok.decode(both) == long_text


def test_large_vocab_uses_uint32():
    text = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 70_000 // 2)) * 2  # 35k distinct
    corpus = corpus_from_text(text, tokenizer="char")
    assert corpus.train.dtype == np.uint16
    wide = "".join(chr(c) for c in range(0x20000, 0x20000 + 66_000))
    corpus = corpus_from_text(wide, tokenizer="char")
    assert corpus.tokenizer.vocab_size > 65535 and corpus.train.dtype == np.uint32


def test_get_batch_shapes_shift_and_seed(long_text):
    corpus = corpus_from_text(long_text)
    for split in ("train", "val"):
        x, y = corpus.get_batch(split, 4, 16, torch.Generator().manual_seed(1))
        assert x.shape == y.shape == (4, 16) and x.dtype == y.dtype == torch.int64
        assert torch.equal(y[:, :-1], x[:, 1:])
        x2, y2 = corpus.get_batch(split, 4, 16, torch.Generator().manual_seed(1))
        assert torch.equal(x, x2) and torch.equal(y, y2)
    x3, _ = corpus.get_batch("train", 4, 16, torch.Generator().manual_seed(2))
    assert not torch.equal(x, x3)
    with pytest.raises(ValueError, match="split"):
        corpus.get_batch("test", 4, 16, torch.Generator())


def test_get_batch_windows_come_from_the_text():
    text = "".join(chr(0x4E00 + i) for i in range(400))  # every token distinct
    corpus = corpus_from_text(text, tokenizer="char", context_length=8)
    x, y = corpus.get_batch("train", 3, 8, torch.Generator().manual_seed(0))
    for row, nxt in zip(x.tolist(), y.tolist()):
        piece = corpus.tokenizer.decode(np.array(row + nxt[-1:]))
        assert piece in text


def test_vocab_from_maps_unseen_text_to_unk(long_text):
    tok = build_tokenizer("cl100k_base", "the model attention token " * 50)
    corpus = corpus_from_text(long_text, vocab_from=tok)
    assert corpus.tokenizer is tok
    both = np.concatenate([corpus.train, corpus.val])
    assert tok.unk_id in both and int(both.max()) == tok.unk_id
    assert set(np.unique(both).tolist()) <= set(range(tok.vocab_size))


def test_vocab_from_file_keeps_vocab(tmp_path, long_text):
    first = corpus_from_text(long_text[: len(long_text) // 2])
    p = tmp_path / "more.txt"
    p.write_text(long_text, encoding="utf-8")
    again = load_corpus(p, vocab_from=first.tokenizer)
    assert again.tokenizer is first.tokenizer
    assert isinstance(again, Corpus)


def test_bad_split_settings():
    with pytest.raises(CorpusError, match="val_fraction"):
        corpus_from_text(ENGLISH * 50, val_fraction=0)
    with pytest.raises(CorpusError, match="context_length"):
        corpus_from_text(ENGLISH * 50, context_length=0)
