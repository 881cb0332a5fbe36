"""Tokenizers: the articles' ids, exact round trips, honest pieces, and offline behaviour."""
from __future__ import annotations

import hashlib
import io
import json
import random
import socket
import threading
import urllib.request

import numpy as np
import pytest
import tiktoken
from tiktoken_ext import openai_public

from engine.text import tokenizers as tk
from engine.text.tokenizers import (
    Tokenizer,
    TokenizerUnavailable,
    available_tokenizers,
    build_tokenizer,
    get_base,
)

ARTICLE = "Chapter 1: Building Rapport and Capturing"
TRICKY = [
    ARTICLE,
    "注意力就是你所需要的一切。Transformer 模型于 2017 年提出！",
    "emoji 😀👍🏽 and flags 🇨🇳",
    "windows\r\nline\r\n\r\nends",
    "nul \0 inside",
    "a user file with <|endoftext|> and <|fim_prefix|> in it",
    "tabs\tand  double  spaces \n\n\n trailing   ",
    "",
]


def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise OSError("network access in a test")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_article_ids_and_space_token():
    ids = get_base("cl100k_base").encode(ARTICLE)
    assert ids.tolist() == [26072, 220, 16, 25, 17283, 23097, 403, 323, 17013, 1711]
    tok = build_tokenizer("cl100k_base", ARTICLE)
    assert tok.piece(int(tok.to_compact(np.array([220]))[0])) == "·"


@pytest.mark.parametrize("name", ["cl100k_base", "char"])
def test_round_trip_any_text(name):
    corpus = "".join(TRICKY)
    tok = build_tokenizer(name, corpus)
    base = get_base(name)
    for text in TRICKY + [corpus]:
        ids = tok.encode(text)
        assert ids.dtype == np.int64
        assert tok.unk_id not in ids
        assert tok.decode(ids) == text
        assert tok.decode(tok.to_compact(base.encode(text))) == text


def test_special_tokens_are_plain_text():
    ids = get_base("cl100k_base").encode("<|endoftext|>")
    assert 100257 not in ids.tolist() and len(ids) > 1


def test_compact_vocab_is_sorted_original_ids():
    tok = build_tokenizer("cl100k_base", ARTICLE)
    assert tok.vocab.tolist() == sorted(set(get_base("cl100k_base").encode(ARTICLE).tolist()))
    assert tok.vocab.dtype == np.int64
    assert tok.vocab_size == len(tok.vocab) + 1 == tok.unk_id + 1
    ids = tok.encode(ARTICLE)
    assert np.array_equal(tok.to_original(ids), tok.encode_original(ARTICLE))


def test_text_outside_vocab_is_unknown():
    tok = build_tokenizer("cl100k_base", ARTICLE)
    ids = tok.encode("Chapter zebra")
    assert ids[0] != tok.unk_id and tok.unk_id in ids
    assert tok.to_original(np.array([tok.unk_id])).tolist() == [-1]
    assert tok.piece(tok.unk_id) == "<unk>" and tok.piece_bytes(tok.unk_id) == b""
    assert tok.decode(ids).startswith("Chapter") and "\ufffd" in tok.decode(ids)
    char = build_tokenizer("char", "abc")
    assert char.encode("abz").tolist() == [0, 1, char.unk_id]
    assert char.decode(char.encode("abz")) == "ab\ufffd"


def test_chinese_pieces_are_shown_as_bytes():
    text = "注意力就是你所需要的一切。我们结合论文来学习一下理论知识"
    tok = build_tokenizer("cl100k_base", text)
    pieces = tok.pieces(tok.encode(text))
    partial = [p for p in pieces if p.startswith("<") and p.endswith(">")]
    assert partial, pieces
    for p in partial:
        assert all(len(h) == 2 and int(h, 16) >= 0x80 for h in p[1:-1].split(" "))
    assert "".join(tok.decode(tok.encode(text))) == text


def test_whitespace_is_visible():
    for name in ("cl100k_base", "char"):
        tok = build_tokenizer(name, "a b\n\t\r")
        pieces = "".join(tok.pieces(tok.encode("a b\n")))
        assert "·" in pieces and "↵" in pieces
        assert tok.piece(int(tok.encode("\t")[0])) == "→"
    assert tk.display_bytes(b"\r") == "<0d>"
    assert tk.display_bytes("中".encode()[:2]) == "<e4 b8>"
    assert tk.display_bytes(b"ok\xff") == "ok<ff>"


def test_piece_bytes_are_exact():
    text = "注意 hello"
    tok = build_tokenizer("cl100k_base", text)
    assert b"".join(tok.piece_bytes(i) for i in tok.encode(text)) == text.encode()
    char = build_tokenizer("char", text)
    assert char.piece_bytes(int(char.encode("注")[0])) == "注".encode()


def test_dict_round_trip():
    for name in ("cl100k_base", "char"):
        tok = build_tokenizer(name, "".join(TRICKY))
        d = json.loads(json.dumps(tok.to_dict()))
        assert d["kind"] == ("char" if name == "char" else "tiktoken") and d["name"] == name
        again = Tokenizer.from_dict(d)
        assert again.name == name and np.array_equal(again.vocab, tok.vocab)
        assert np.array_equal(again.encode(TRICKY[1]), tok.encode(TRICKY[1]))


@pytest.mark.parametrize(
    "bad, words",
    [
        ([1, 2], "dict"),
        ({"kind": "bpe", "name": "x", "vocab": []}, "kind"),
        ({"kind": "char", "name": "cl100k_base", "vocab": []}, "match"),
        ({"kind": "tiktoken", "name": "cl100k_base", "vocab": "1,2"}, "list"),
        ({"kind": "tiktoken", "name": "cl100k_base", "vocab": [3, 2]}, "sorted"),
        ({"kind": "tiktoken", "name": "cl100k_base", "vocab": [1, 1]}, "sorted"),
        ({"kind": "tiktoken", "name": "cl100k_base", "vocab": [-1]}, "non-negative"),
        ({"kind": "tiktoken", "name": "cl100k_base", "vocab": [1.5]}, "integer"),
        ({"kind": "tiktoken", "name": "cl100k_base", "vocab": [100256]}, "does not exist"),
        ({"kind": "char", "name": "char", "vocab": [0x110000]}, "code point"),
        ({"kind": "tiktoken", "name": "no_such_bpe", "vocab": []}, "unknown tokenizer"),
    ],
)
def test_from_dict_rejects_bad_data(bad, words):
    with pytest.raises(ValueError, match=words):
        Tokenizer.from_dict(bad)


def test_compact_ids_out_of_range_are_refused():
    tok = build_tokenizer("char", "ab")
    with pytest.raises(ValueError, match="0..2"):
        tok.decode(np.array([3]))


def test_available_tokenizers_without_network(monkeypatch, tmp_path):
    _no_network(monkeypatch)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    names = available_tokenizers()
    assert names[:2] == ["cl100k_base", "char"]
    assert set(names) <= {"cl100k_base", "char", *tk._DATA_FILES}


def test_uncached_encoding_is_unavailable_quickly(monkeypatch, tmp_path):
    _no_network(monkeypatch)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    name = next((n for n in ("o200k_base", "r50k_base", "gpt2")
                 if n not in tiktoken.registry.ENCODINGS), None)
    if name is None:
        pytest.skip("every candidate encoding is already loaded in this process")
    with pytest.raises(TokenizerUnavailable, match=f"'{name}' is not available offline"):
        get_base(name)
    # Quickly = it did not wait out its download timeout: the fetch thread had already
    # ended, on the refused connection, when the error came (an event, not a clock).
    assert not [t for t in threading.enumerate() if t.name == f"fetch-{name}"]
    assert name not in available_tokenizers()


def test_unknown_tokenizer_name():
    with pytest.raises(TokenizerUnavailable, match="unknown tokenizer"):
        get_base("klingon_bpe")


class _FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_download_is_verified_and_cached(monkeypatch, tmp_path):
    data = b"fake bpe data\n"
    url = "https://example.invalid/fake.tiktoken"
    monkeypatch.setitem(tk._DATA_FILES, "fake_bpe", ((url, hashlib.sha256(data).hexdigest()),))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(urllib.request, "urlopen", lambda u, timeout: _FakeResponse(data))
    tk._fetch_data_files("fake_bpe")
    cached = tmp_path / hashlib.sha1(url.encode()).hexdigest()  # where tiktoken looks
    assert cached.read_bytes() == data

    monkeypatch.setitem(tk._DATA_FILES, "fake_bpe", ((url + "2", "0" * 64),))
    with pytest.raises(TokenizerUnavailable):
        tk._fetch_data_files("fake_bpe")  # hash mismatch: nothing written
    assert len(list(tmp_path.iterdir())) == 1


def test_download_has_a_hard_timeout(monkeypatch, tmp_path):
    release, entered = threading.Event(), threading.Event()
    finished = []

    def hang(url, timeout):
        entered.set()
        release.wait(60)
        finished.append(url)
        raise OSError("gave up")

    monkeypatch.setitem(tk._DATA_FILES, "slow_bpe", (("https://example.invalid/slow", "0" * 64),))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(urllib.request, "urlopen", hang)
    with pytest.raises(TokenizerUnavailable, match="not available offline"):
        tk._fetch_data_files("slow_bpe", timeout=0.3)
    # A hard limit: the call gave up while the download it started was still hanging (an
    # event, not a wall-clock bound).
    assert entered.is_set() and finished == []
    release.set()


@pytest.fixture(scope="module")
def pattern_families():
    """Encodings with cl100k's ranks and each tiktoken pre-token pattern (no download)."""
    ranks = get_base("cl100k_base").encoding._mergeable_ranks
    mp = pytest.MonkeyPatch()
    mp.setattr(openai_public, "load_tiktoken_bpe", lambda *a, **k: ranks)
    pats = {n: getattr(openai_public, n)()["pat_str"] for n in ("r50k_base", "o200k_base")}
    mp.undo()
    bases = {"cl100k_base": get_base("cl100k_base")}
    for name, pat in pats.items():
        enc = tiktoken.Encoding(
            f"test_{name}", pat_str=pat, mergeable_ranks=ranks, special_tokens={}
        )
        bases[name] = tk.TiktokenBase(name, enc)
    return bases


@pytest.mark.parametrize("name", ["cl100k_base", "r50k_base", "o200k_base"])
def test_safe_cuts_keep_tokens(pattern_families, name):
    base = pattern_families[name]
    rng = random.Random(0)
    alphabet = ["\n", "\n\n", " ", "  ", "\t", "\r\n", "/", ".", "。", "a", "Word", "1", "234",
                "中文", "'s", "!", " /", "\u3000", "😀", "a b", "( "]
    checked = 0
    for _ in range(400):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 30)))
        whole = base.encode(text).tolist()
        for end in range(2, len(text) + 1):
            cut = base.safe_cut(text, 0, end)
            if cut > 0:
                checked += 1
                assert 0 < cut < end
                parts = base.encode(text[:cut]).tolist() + base.encode(text[cut:]).tolist()
                assert parts == whole, (text[:cut], text[cut:])
    assert checked > 1000


def test_encode_large_matches_encode():
    text = ("Paragraph one.\n\n第二段：注意力。\r\n" * 400) + "end"
    base = get_base("cl100k_base")
    ids = base.encode_large(text, part_chars=500)
    assert ids.dtype == np.uint32
    assert ids.tolist() == base.encode(text).tolist()
