"""Issue 11, case 2: the encoding is chosen by evidence over the whole file, reported, and can
be overridden. Also what the window needs: model files told apart from text."""
from __future__ import annotations

import codecs
import json

import pytest
import torch

from engine.text.corpus import CorpusError, load_corpus, read_text
from engine.text.filetype import classify
from engine.text.textfile import detect_encoding, open_text
from reliability_helpers import book, run, train

CHINESE = "前面我们完成了自己训练一个小模型，今天我们结合论文来学习一下理论知识。\n"
ENGLISH = "The café was quiet; a naïve reader learns how attention works, step by step.\n"


def test_one_latin1_byte_in_english_utf8_is_a_replacement_not_gb18030(tmp_path, capsys):
    good = (ENGLISH * 20).encode("utf-8")
    data = good + b"A na\xefve ending.\n" + good
    p = tmp_path / "cafe.txt"
    p.write_bytes(data)
    opened = open_text(p)
    assert opened.decoding.name == "utf-8"
    assert opened.decoding.replaced == 1 and opened.decoding.first_bad == len(good) + 4
    assert "café" in opened.text and "caf茅" not in opened.text
    assert "na\ufffdve" in opened.text
    code, out, _ = run(capsys, "tokenize", p, "--tokenizer", "char", "--json")
    assert code == 0
    reported = json.loads(out)["encoding"]
    assert reported.startswith("utf-8 (detected; 1 invalid byte replaced")
    assert f"the first at byte {len(good) + 4:,}" in reported


def test_chinese_utf8_with_one_bad_byte_is_read_and_the_offset_given(tmp_path):
    head = (CHINESE * 30).encode("utf-8")
    p = tmp_path / "article.txt"
    p.write_bytes(head + b"\xff" + (CHINESE * 30).encode("utf-8"))
    corpus = load_corpus(p, tokenizer="char", context_length=8)
    assert corpus.encoding == "utf-8"
    assert corpus.decoding.replaced == 1 and corpus.decoding.first_bad == len(head)
    assert corpus.n_chars == 2 * len(CHINESE * 30) + 1


def test_the_cli_always_reports_the_encoding(tmp_path, capsys):
    code, _, err = train(capsys, book(tmp_path), tmp_path / "run", "--steps", "2")
    assert code == 0 and "book.txt: utf-8 (detected)" in err
    p = tmp_path / "gbk.txt"
    p.write_bytes((CHINESE * 40).encode("gbk"))
    code, _, err = train(capsys, p, tmp_path / "run2", "--steps", "2", "--tokenizer", "char")
    assert code == 0 and "gbk.txt: gb18030 (detected)" in err


@pytest.mark.parametrize("text", [CHINESE * 20, ("Chapter 1: 注意力机制 attention.\r\n") * 20])
def test_genuine_gbk_is_still_gb18030(tmp_path, text):
    p = tmp_path / "gbk.txt"
    p.write_bytes(text.encode("gbk"))
    assert read_text(p) == (text, "gb18030")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("text", [ENGLISH * 20, CHINESE * 20, (ENGLISH + CHINESE) * 10])
def test_utf16_without_a_bom_is_recognised(tmp_path, codec, text):
    p = tmp_path / "u16.txt"
    p.write_bytes(text.encode(codec))
    assert read_text(p) == (text, codec)


def test_western_text_in_windows_1252(tmp_path):
    text = "Le café était très agréable, naïve résumé déjà vu.\n" * 20
    p = tmp_path / "fr.txt"
    p.write_bytes(text.encode("cp1252"))
    assert read_text(p) == (text, "cp1252")


def test_the_user_can_name_the_encoding(tmp_path, capsys):
    p = tmp_path / "gbk.txt"
    p.write_bytes((CHINESE * 5).encode("gbk"))
    opened = open_text(p, encoding="GBK")
    assert opened.text == CHINESE * 5
    assert opened.decoding.describe() == "gbk (chosen)"
    corpus = load_corpus(p, tokenizer="char", context_length=4, encoding="gbk")
    assert corpus.encoding == "gbk" and corpus.decoding.chosen_by == "user"
    # A wrong choice is obeyed, and its replacements are counted, not fatal.
    forced = open_text(p, encoding="utf-8")
    assert forced.decoding.replaced > 0 and forced.decoding.first_bad == 2  # 前 = C7 B0 is "ǰ"
    code, _, err = run(capsys, "tokenize", p, "--encoding", "no-such-codec")
    assert code == 2 and "unknown encoding 'no-such-codec'" in err
    code, out, _ = run(capsys, "tokenize", p, "--encoding", "gbk", "--tokenizer", "char")
    assert code == 0 and "encoding: gbk (chosen)" in out


def test_detection_reads_the_whole_file_not_a_sample(tmp_path):
    # 3 MB of ASCII, then one stray byte: found, with its exact offset.
    ascii_part = b"plain ascii text line\n" * 150_000
    p = tmp_path / "late.txt"
    p.write_bytes(ascii_part + b"\x97" + b"tail\n")
    d = detect_encoding(p, chunk_bytes=1 << 20)
    assert (d.name, d.replaced, d.first_bad) == ("utf-8", 1, len(ascii_part))


@pytest.mark.parametrize("content", [bytes(range(256)) * 50, b"\x80\xff" * 300,
                                     b"\x89PNG\r\n\x1a\n" + bytes(2000)])
def test_binary_is_still_refused(tmp_path, content):
    p = tmp_path / "blob.bin"
    p.write_bytes(content)
    with pytest.raises(CorpusError, match="binary"):
        open_text(p)


def test_a_pytorch_file_is_named_as_such_when_opened_as_text(tmp_path):
    p = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, p)
    with pytest.raises(CorpusError, match="zip archive .*PyTorch .pt file"):
        load_corpus(p)
    assert classify(p) == "zip"


def test_classify_tells_models_from_text(tmp_path, capsys):
    text = book(tmp_path)
    assert train(capsys, text, tmp_path / "m.safetensors", "--steps", "2")[0] == 0
    assert classify(text) == "other"
    assert classify(tmp_path / "m.safetensors") == "checkpoint"
    assert classify(tmp_path / "missing") == "missing"
    assert classify(tmp_path) == "folder"
    (tmp_path / "empty").write_bytes(b"")
    assert classify(tmp_path / "empty") == "empty"


def test_bom_files_say_so(tmp_path):
    p = tmp_path / "bom.txt"
    p.write_bytes(codecs.BOM_UTF8 + ENGLISH.encode())
    assert open_text(p).decoding.describe() == "utf-8-sig (byte-order mark)"
