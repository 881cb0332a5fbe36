"""The walkthrough's explanation describes the model's own tokenizer: a model that came with a
tokenizer.json (byte-level BPE, SentencePiece BPE with byte fallback) or a GGUF vocabulary is
told about that tokenizer, with its figures, in English and Chinese, never about cl100k_base or
the compact vocabulary; the bundled model's explanation is the guide's, unchanged."""
from __future__ import annotations

import math
import re

import pytest

from engine.model.guide import SECTION_KEYS, _load_vocabularies, help_text
from engine.storage.checkpoint import load_checkpoint
from engine.text.fullvocab import FullTokenizer, tokenizer_from_dict
from engine.text.tokenizer_json import TokenizerJsonBase, read_tokenizer_json
from engine.text.tokenizers import build_tokenizer
from engine.text.vocabulary_kind import BYTE_LEVEL, COMPACT, FULL, SENTENCEPIECE, \
    vocabulary_facts
from gui.resources import default_model_path
from tests import tokenizer_helpers as th

NAMED = ("tokens", "embed.token", "logits", "loss")  # the sections that name the vocabulary
COMPACT_WORDS = re.compile(r"cl100k|compact|紧凑")


@pytest.fixture(scope="module")
def byte_level(tmp_path_factory):
    path = th.byte_level(tmp_path_factory.mktemp("bl") / "tokenizer.json", vocab_size=400)
    return FullTokenizer(read_tokenizer_json(path, "Qwen-like/tokenizer.json"), rows=408)


@pytest.fixture(scope="module")
def sentencepiece(tmp_path_factory):
    path = th.sentencepiece(tmp_path_factory.mktemp("sp") / "tokenizer.json")
    return FullTokenizer(read_tokenizer_json(path, "Gemma-like/tokenizer.json"))


def test_the_bundled_models_explanation_is_the_guides_unchanged():
    if not default_model_path().is_file():
        pytest.skip("the bundled model is not built in this checkout")
    tok = load_checkpoint(default_model_path()).tokenizer
    facts = vocabulary_facts(tok)
    assert facts.kind == COMPACT and not facts.full
    for key in SECTION_KEYS:
        for lang in ("en", "zh"):
            assert help_text(key, lang, facts) == help_text(key, lang)
    assert "cl100k_base" in help_text("tokens", "en", facts)[1]


def test_a_compact_vocabulary_of_any_text_keeps_the_guide():
    facts = vocabulary_facts(build_tokenizer("cl100k_base", "注意力 attention, the cat sat"))
    assert (facts.kind, facts.origin) == (COMPACT, "tiktoken")
    assert help_text("blocks.0.attn.q", "zh", facts) == help_text("blocks.0.attn.q", "zh")
    assert help_text("tokens", "zh", facts) == help_text("tokens", "zh")


def _no_compact_words(facts) -> None:
    for key in NAMED:
        for lang in ("en", "zh"):
            title, text = help_text(key, lang, facts)
            assert title and text
            assert not COMPACT_WORDS.search(text), (key, lang, COMPACT_WORDS.search(text))
            assert not re.search(r"\{\w+\}", text), (key, lang)  # every figure filled


def test_byte_level_tokenizer_json_is_named_with_its_figures(byte_level):
    facts = vocabulary_facts(byte_level)
    assert (facts.kind, facts.origin, facts.n_tokens, facts.rows) == (
        BYTE_LEVEL, "tokenizer.json", byte_level.n_tokens, 408)
    _no_compact_words(facts)
    en, zh = help_text("tokens", "en", facts)[1], help_text("tokens", "zh", facts)[1]
    assert "byte-level byte-pair encoding" in en and "字节级" in zh
    assert "Qwen-like/tokenizer.json" in en and "Qwen-like/tokenizer.json" in zh
    assert f"{byte_level.n_tokens:,} ids" in en and "408 rows" in en and "408 行" in zh
    # The sample as this tokenizer cuts it: its own pieces, counted.
    pieces = byte_level.pieces(byte_level.encode("掩码 attention"))
    assert f"into {len(pieces)} tokens: {' | '.join(pieces)}" in en
    assert f"切成 {len(pieces)} 个词元：{' | '.join(pieces)}" in zh
    # The figures elsewhere are the model's: V and log V of its 408 rows.
    assert "V = 408" in help_text("logits", "en", facts)[1]
    assert f"about {math.log(408):.1f} for this model's 408 rows" in help_text(
        "loss", "en", facts)[1]
    assert "408 rows" in help_text("blocks.3.embed.token", "en", facts)[1]
    # The paragraphs not about the vocabulary are the guide's own.
    assert help_text("loss", "en", facts)[1].split("\n\n")[0] == \
        help_text("loss", "en")[1].split("\n\n")[0]


def test_sentencepiece_tokenizer_json_is_named(sentencepiece):
    facts = vocabulary_facts(sentencepiece)
    assert (facts.kind, facts.origin) == (SENTENCEPIECE, "tokenizer.json")
    _no_compact_words(facts)
    en, zh = help_text("tokens", "en", facts)[1], help_text("tokens", "zh", facts)[1]
    assert "SentencePiece-style byte-pair encoding (BPE) with byte fallback" in en
    assert "SentencePiece" in zh and "字节回退" in zh and "byte-level" not in en
    assert f"{sentencepiece.n_tokens:,} ids" in en


def test_a_gguf_vocabulary_says_it_came_from_the_file(byte_level):
    base = TokenizerJsonBase("qwen2.5-0.5b-q4_k_m.gguf", byte_level.base.text, from_gguf=True)
    tok = FullTokenizer(base, rows=408)
    facts = vocabulary_facts(tok)
    assert (facts.kind, facts.origin) == (BYTE_LEVEL, "gguf")
    _no_compact_words(facts)
    en, zh = help_text("tokens", "en", facts)[1], help_text("tokens", "zh", facts)[1]
    assert "GGUF file (qwen2.5-0.5b-q4_k_m.gguf)" in en and "GGUF 文件" in zh
    assert "tokenizer.json" not in en
    # Saved with a model and read back (a training process, a checkpoint), it still knows.
    again = tokenizer_from_dict(tok.to_dict())
    assert vocabulary_facts(again).origin == "gguf"
    assert vocabulary_facts(tokenizer_from_dict(byte_level.to_dict())).origin == "tokenizer.json"


def test_a_character_vocabulary_of_its_own_gets_the_general_words():
    from engine.text.fullvocab import CharTableBase
    tok = FullTokenizer(CharTableBase(list(" abcdefghijklmnopqrstuvwxyz掩码"), "shakespeare/meta.pkl"))
    facts = vocabulary_facts(tok)
    assert (facts.kind, facts.origin) == (FULL, "meta.pkl")
    _no_compact_words(facts)
    assert "nanoGPT's character vocabulary (shakespeare/meta.pkl)" in help_text(
        "tokens", "en", facts)[1]


def test_every_vocabulary_paragraph_replaces_one_the_guide_has():
    from engine.model.guide import load_guide
    guide = load_guide()
    for key, section in _load_vocabularies().items():
        assert section.text.keys() == {"en", "zh"}, key
        if key.startswith("origin/"):
            continue
        step, n = re.fullmatch(r"(.+)/[\w-]+#(\d+)", key).groups()
        assert len(guide[step].text_for("en").split("\n\n")) >= int(n), key
        assert len(guide[step].text_for("zh").split("\n\n")) >= int(n), key


def test_the_walkthrough_words_describe_the_sessions_tokenizer(qapp, byte_level):
    import numpy as np

    from engine.config import ModelConfig
    from engine.model.decoder import new_model
    from engine.model.trace import run_trace
    from gui.panels.walkthrough.describe import describe
    model = new_model(ModelConfig(vocab_size=408, d_model=16, n_head=2, n_layer=1,
                                  context_length=16, d_ff=32), 0)
    trace = run_trace(model, np.asarray(byte_level.encode("the cat sat"))[None])
    words = describe(trace, model, "tokens", "en", byte_level)
    assert "byte-level" in words.help_text and "cl100k" not in words.help_text
    assert "cl100k" in describe(trace, model, "tokens", "en").help_text


def test_a_compact_vocabulary_of_characters_is_described_as_characters():
    tok = build_tokenizer("char", "to be or not to be: attention 注意力")
    facts = vocabulary_facts(tok)
    assert (facts.kind, facts.full, facts.n_tokens, facts.rows) == (
        "compact-chars", False, len(tok.vocab), tok.vocab_size)
    en, zh = help_text("tokens", "en", facts)[1], help_text("tokens", "zh", facts)[1]
    assert "cl100k" not in en and "cl100k" not in zh
    assert "every character is one token" in en and "每个字符就是一个词元" in zh
    assert f"({len(tok.vocab)} here)" in en
    # 掩 and 码 are not in the training text: each is the unknown row.
    assert "into 12 tokens: <unk> | <unk> | · | a | t | t | e | n | t | i | o | n" in en
    assert f"about {math.log(tok.vocab_size):.1f} for this model's {tok.vocab_size} rows" in \
        help_text("loss", "en", facts)[1]
    # Embedding and logits speak of a compact vocabulary, which it is: the guide's words.
    assert help_text("logits", "en", facts) == help_text("logits", "en")


def test_a_compact_vocabulary_of_another_tiktoken_encoding_is_named():
    # Facts as vocabulary_facts gives them for a model trained with o200k_base (its data
    # file may not be on this machine; the kind is chosen by the name, tested above).
    from engine.text.vocabulary_kind import VocabularyFacts
    facts = VocabularyFacts("compact-tiktoken", "tiktoken", "o200k_base", 1234, 1235, 200019,
                            "<e6 8e> | <a9> | 码 | ·attention", 4)
    en, zh = help_text("tokens", "en", facts)[1], help_text("tokens", "zh", facts)[1]
    assert "cl100k" not in en and "cl100k" not in zh
    assert "the o200k_base byte-pair encoding" in en and "o200k_base 字节对编码" in zh
    assert "The full o200k_base table has 200,019 entries" in en and "用到了 1,234 个" in zh
    assert "into 4 tokens: <e6 8e> | <a9> | 码 | ·attention" in en


def test_a_gguf_file_opened_is_described_from_its_own_vocabulary(tmp_path, tmp_path_factory):
    pytest.importorskip("gguf")
    transformers = pytest.importorskip("transformers")
    import torch
    from gguf import GGMLQuantizationType as Q

    from engine.storage.imports.family_model import read_gguf_checkpoint
    from tests import gguf_helpers as gh
    torch.manual_seed(0)
    cfg = transformers.AutoConfig.for_model(
        "llama", vocab_size=600, hidden_size=64, intermediate_size=128, num_hidden_layers=1,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)
    model = transformers.AutoModelForCausalLM.from_config(cfg).eval()
    spm = th.sentencepiece(tmp_path_factory.mktemp("spm") / "tokenizer.json")
    path = gh.write_gguf(tmp_path / "sha256-0123abcd", model, spm, Q.Q8_0)  # an Ollama blob
    facts = vocabulary_facts(read_gguf_checkpoint(path).tokenizer)
    assert (facts.kind, facts.origin, facts.rows) == (SENTENCEPIECE, "gguf", 600)
    _no_compact_words(facts)
    en = help_text("tokens", "en", facts)[1]
    assert "came as a GGUF file (sha256-0123abcd)" in en and "with byte fallback" in en
