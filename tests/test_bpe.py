"""GPT-2-style BPE from a model's own files, and the full-vocabulary tokenizer over it."""
import json
import pickle

import numpy as np
import pytest

from engine.text.bpe import BpeError, bytes_to_unicode, read_bpe
from engine.text.fullvocab import CharTableBase, FullTokenizer, tokenizer_from_dict
from tests.import_helpers import TEXTS, train_bpe

tokenizers = pytest.importorskip("tokenizers")

SAMPLES = TEXTS + ["unseen wörds, ünïcode 😀 and 中文 mixed", "a  \n\nb  ", " lead\r\n\ttrail "]


@pytest.fixture(scope="module")
def bpe_dir(tmp_path_factory):
    return train_bpe(tmp_path_factory.mktemp("bpe"))


def _reference(folder):
    return tokenizers.ByteLevelBPETokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))


def test_bytes_to_unicode_is_gpt2s_table():
    table = bytes_to_unicode()
    assert len(set(table.values())) == 256
    assert table[ord(" ")] == "Ġ" and table[ord("\n")] == "Ċ" and table[ord("A")] == "A"


@pytest.mark.parametrize("text", SAMPLES)
def test_same_ids_as_tokenizers_and_round_trip(bpe_dir, text):
    base = read_bpe(bpe_dir)
    assert base.ids_are_ranks  # trained by tokenizers: ids follow merge order
    ids = base.encode(text)
    assert ids.tolist() == _reference(bpe_dir).encode(text).ids
    assert base.decode_bytes(ids).decode("utf-8") == text
    assert base.encode_large(text, part_chars=16).tolist() == ids.tolist()


def test_ids_out_of_merge_order_are_mapped(bpe_dir, tmp_path):
    """A vocabulary whose ids do not follow the merges: tiktoken's ranks are mapped to them."""
    vocab = json.loads((bpe_dir / "vocab.json").read_text(encoding="utf-8"))
    ids = sorted(vocab.values())
    rng = np.random.default_rng(0)
    shuffled = dict(zip(vocab, rng.permutation(ids).tolist()))
    (tmp_path / "vocab.json").write_text(json.dumps(shuffled), encoding="utf-8")
    (tmp_path / "merges.txt").write_bytes((bpe_dir / "merges.txt").read_bytes())
    base = read_bpe(tmp_path / "vocab.json")
    assert not base.ids_are_ranks
    ref = _reference(tmp_path)
    for text in SAMPLES:
        assert base.encode(text).tolist() == ref.encode(text).ids
        assert base.decode_bytes(base.encode(text)).decode("utf-8") == text


def test_tokenizer_json_gives_the_same_ids(bpe_dir, tmp_path):
    _reference(bpe_dir)._tokenizer.save(str(tmp_path / "tokenizer.json"))
    a, b = read_bpe(bpe_dir), read_bpe(tmp_path / "tokenizer.json")
    for text in SAMPLES:
        assert a.encode(text).tolist() == b.encode(text).tolist()
    special = json.loads((bpe_dir / "vocab.json").read_text(encoding="utf-8"))["<|endoftext|>"]
    assert b.token_bytes(special) == a.token_bytes(special) == b"<|endoftext|>"
    assert special not in b.encode("<|endoftext|>").tolist()  # in a user's text: plain text


def test_not_a_bpe_is_one_line(tmp_path):
    with pytest.raises(BpeError, match="no BPE tokenizer files"):
        read_bpe(tmp_path)
    (tmp_path / "vocab.json").write_text(json.dumps({"a": 0, "b": 1}))
    (tmp_path / "merges.txt").write_text("#version: 0.2\na b\n")
    with pytest.raises(BpeError, match="not byte-level"):
        read_bpe(tmp_path)
    (tmp_path / "vocab.json").write_text(json.dumps({"a": 0, "b": 0}))
    with pytest.raises(BpeError, match="same id"):
        read_bpe(tmp_path)


def test_full_tokenizer_padded_table_and_its_labels(bpe_dir):
    base = read_bpe(bpe_dir)
    tok = FullTokenizer(base, rows=base.n_ids + 10)
    text = "The quick 注意力 fox"
    ids = tok.encode(text)
    assert tok.decode(ids) == text and tok.to_original(ids).tolist() == ids.tolist()
    assert tok.to_compact(ids).tolist() == ids.tolist()
    assert tok.vocab_size == base.n_ids + 10 and tok.unk_id == base.n_ids + 10
    assert tok.piece(base.n_ids + 3) == "<pad>" and tok.piece_bytes(base.n_ids + 3) == b""
    assert tok.piece(tok.unk_id) == "<unk>" and tok.count_unknown(text) == 0
    assert tok.decode([*ids.tolist(), base.n_ids]) == text + "\ufffd"
    assert "·" in "".join(tok.pieces(ids))  # spaces shown as usual
    with pytest.raises(ValueError):
        tok.piece(tok.unk_id + 1)
    with pytest.raises(ValueError, match="only"):
        FullTokenizer(base, rows=base.n_ids - 1)


@pytest.mark.parametrize("kind", ["bpe", "chars"])
def test_full_tokenizer_survives_pickle_and_to_dict(bpe_dir, kind):
    base = read_bpe(bpe_dir) if kind == "bpe" else CharTableBase(list("abc d\n"))
    tok = FullTokenizer(base, rows=base.n_ids + 2)
    text = "ab d\ncab" if kind == "chars" else SAMPLES[1]
    for copy in (pickle.loads(pickle.dumps(tok)),
                 tokenizer_from_dict(json.loads(json.dumps(tok.to_dict()))),
                 FullTokenizer.from_dict(tok.to_dict())):
        assert isinstance(copy, FullTokenizer) and copy.vocab_size == tok.vocab_size
        assert copy.encode(text).tolist() == tok.encode(text).tolist()
        assert copy.decode(copy.encode(text)) == text
        assert copy.name == tok.name and copy.kind == tok.kind


def test_a_compact_tokenizer_still_round_trips_through_tokenizer_from_dict():
    from engine.text.tokenizers import build_tokenizer

    tok = build_tokenizer("char", "hello")
    again = tokenizer_from_dict(tok.to_dict())
    assert type(again) is type(tok) and again.vocab.tolist() == tok.vocab.tolist()


@pytest.mark.parametrize("rows,dtype", [(50304, np.uint16), (70000, np.uint32)])
def test_a_corpus_keeps_the_full_vocabulary(bpe_dir, tmp_path, rows, dtype):
    from engine.text.corpus import corpus_from_text, load_corpus

    tok = FullTokenizer(read_bpe(bpe_dir), rows=rows)
    text = "\n".join(TEXTS * 3)
    path = tmp_path / "corpus.txt"
    path.write_text(text, encoding="utf-8")
    for corpus in (load_corpus(path, context_length=16, vocab_from=tok),
                   corpus_from_text(text, context_length=16, vocab_from=tok)):
        assert corpus.tokenizer is tok and corpus.train.dtype == dtype
        ids = np.concatenate([corpus.train, corpus.val]).astype(np.int64)
        assert ids.tolist() == tok.encode(text).tolist()
