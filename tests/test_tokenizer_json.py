"""A model's own tokenizer.json: ids equal the model's own tokenizer (transformers'), and pieces
are shown honestly ("▁" as a space, <0xE6> byte tokens as bytes, partial UTF-8 as bytes)."""
import pickle

import numpy as np
import pytest

from engine.text.fullvocab import FullTokenizer, tokenizer_from_dict
from engine.text.tokenizer_json import TokenizerJsonError, read_tokenizer_json
from tests import tokenizer_helpers as th

pytest.importorskip("transformers")

SAMPLES = [
    "The cat sat on the mat.",
    "我们今天学习注意力机制。",
    "Attention 注意力 lets every token look back; 模型预测下一个词。",
    "unseen wörds, ünïcode 😀 and 罕见字 mixed",
    "  leading spaces\n\ntwo newlines\ttab ",
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("tok")
    return {"llama3": th.byte_level(d / "llama3.json"),
            "qwen": th.byte_level(d / "qwen.json", bos=None),
            "llama2": th.sentencepiece(d / "llama2.json"),
            "gemma": th.sentencepiece(d / "gemma.json", prepend=False)}


@pytest.mark.parametrize("kind", ["llama3", "qwen", "llama2", "gemma"])
@pytest.mark.parametrize("text", SAMPLES)
def test_ids_equal_the_models_own_tokenizer(files, kind, text):
    base = read_tokenizer_json(files[kind])
    ref = th.reference(files[kind])
    ids = base.encode(text)
    assert ids.tolist() == ref(text, add_special_tokens=False)["input_ids"]
    assert base.encode_prompt(text).tolist() == ref(text)["input_ids"]  # BOS as the model adds
    assert base.encode_large(text, part_chars=8).tolist() == ids.tolist()
    # Decoding joins the tokens' bytes: exactly the model's own decoding, and the text back.
    assert base.decode_bytes(ids).decode("utf-8") == ref.decode(ids.tolist())
    if kind in ("llama3", "qwen"):  # byte-level BPE gives the text back exactly
        assert ref.decode(ids.tolist()) == text


def test_byte_level_pieces_are_bytes(files):
    base = read_tokenizer_json(files["llama3"])
    tok = FullTokenizer(base)
    ids = base.encode(" 罕")  # an unseen character: its UTF-8 bytes as byte tokens
    assert b"".join(tok.piece_bytes(i) for i in ids) == " 罕".encode()
    assert any(tok.piece(i).startswith("<") for i in ids)  # a partial character shown as <e7..>
    assert tok.piece(base.encode(" the")[0]) == "·the"


def test_sentencepiece_pieces(files):
    base = read_tokenizer_json(files["llama2"])
    tok = FullTokenizer(base)
    ids = base.encode("罕 the")
    shown = tok.pieces(ids)
    # "罕" is not in the vocabulary: three byte tokens <0xE7><0xBD><0x95>, each shown as its byte
    assert [base._tok.id_to_token(int(i)) for i in ids[:4]] == ["▁", "<0xE7>", "<0xBD>", "<0x95>"]
    assert shown[:4] == ["·", "<e7>", "<bd>", "<95>"]
    assert "·t" in shown  # "▁t": the space mark as our space mark
    assert tok.decode(ids) == "罕 the"
    assert tok.piece(1) == "<s>" and 1 in base.special_ids and base.bos_id == 1


def test_special_tokens_in_text_are_text_in_a_corpus_and_tokens_in_a_prompt(files):
    base = read_tokenizer_json(files["qwen"])
    sid = base._tok.token_to_id("<|im_start|>")
    assert sid not in base.encode("<|im_start|>user").tolist()
    assert base.encode_prompt("<|im_start|>user").tolist()[0] == sid
    assert base.eos_id == base._tok.token_to_id("<|end_of_text|>")


def test_round_trips_through_dict_and_pickle(files):
    tok = FullTokenizer(read_tokenizer_json(files["gemma"]), rows=600)
    again = tokenizer_from_dict(tok.to_dict())
    back = pickle.loads(pickle.dumps(tok))
    for t in (again, back):
        assert t.encode(SAMPLES[2]).tolist() == tok.encode(SAMPLES[2]).tolist()
        assert t.vocab_size == 600


def test_a_model_smaller_than_its_tokenizer_is_refused(files):
    base = read_tokenizer_json(files["llama3"])
    with pytest.raises(ValueError, match="ids but the model only"):
        FullTokenizer(base, rows=base.n_ids - 1)


@pytest.mark.parametrize("content", ["{not json", '{"model": {"type": "Nope"}}', "[]"])
def test_malformed_tokenizer_json_is_one_line(tmp_path, content):
    p = tmp_path / "tokenizer.json"
    p.write_text(content)
    with pytest.raises(TokenizerJsonError) as e:
        read_tokenizer_json(p)
    assert "\n" not in str(e.value) and "tokenizer.json" in str(e.value)
