"""Generated text shows a character split over tokens as the Tokens panel does (#22.9): bytes
waiting for the rest of their character are "<e5 b9>", never "\ufffd"; once complete, the
tokens are one piece with the character."""
from __future__ import annotations

import numpy as np

from engine.text.corpus import corpus_from_text
from gui.panels.generation.text import GeneratedText, readable

TEXT = "年轻的猫在垫子上睡觉。" * 20


def _split_character(tokenizer):
    """A character of TEXT that the tokenizer splits into several tokens, and their ids."""
    for ch in dict.fromkeys(TEXT):
        ids = tokenizer.encode(ch).tolist()
        if len(ids) > 1:
            return ch, ids
    raise AssertionError("no character of TEXT is split")


def test_a_character_split_over_tokens_shows_its_bytes_until_complete():
    tok = corpus_from_text(TEXT, tokenizer="cl100k_base").tokenizer
    ch, ids = _split_character(tok)
    text = GeneratedText()
    text.gen_ids = ids[:-1]  # the character is not complete yet
    partial = ch.encode("utf-8")[:sum(len(tok.piece_bytes(i)) for i in ids[:-1])]
    shown = text.pieces(tok)
    assert shown == ["<" + " ".join(f"{b:02x}" for b in partial) + ">"]
    assert "\ufffd" not in "".join(shown)
    text.gen_ids = ids  # now it is
    assert text.pieces(tok) == [ch]
    text.gen_ids = [*ids, *tok.encode("。").tolist()]  # more text after it
    assert "".join(text.pieces(tok)) == ch + "。"


def test_readable_keeps_text_and_shows_stray_bytes():
    assert readable("a b\n".encode()) == "a b\n"
    assert readable(b"\xe5\xb9") == "<e5 b9>"
    assert readable(b"x\xe5\xb9y") == "x<e5 b9>y"
    assert readable(np.array([0x41], dtype=np.uint8).tobytes()) == "A"
