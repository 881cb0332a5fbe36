"""The bilingual step guide: file size, sections, step mapping, fallbacks, malformed input."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.model.guide import (
    SECTION_KEYS,
    GuideSection,
    guide_path,
    help_text,
    load_guide,
    section_for_step,
)

EXPECTED_KEYS = [
    "overview", "tokens", "batch", "embed.token", "embed.position", "embed.sum",
    "attn.q", "attn.k", "attn.v", "attn.scores", "attn.scaled", "attn.mask", "attn.masked",
    "attn.pattern", "attn.weighted", "attn.concat", "attn.out", "resid1", "ln1",
    "ffn.hidden", "ffn.act", "ffn.out", "resid2", "ln2", "ln_f", "repeat", "logits", "probs",
    "loss", "training", "sampling", "logit_lens", "ablation", "per_token_loss",
    "post_vs_pre_norm", "positional_learned", "rotary", "qk_norm", "gated_ffn",
    "parallel_residual",
]

CJK = re.compile(r"[\u4e00-\u9fff]")

GOOD_SECTION = """## overview
@title-en Overview
@title-zh 概览
@en
Some English text.

A second paragraph.
@zh
一些中文。
"""


def test_guide_file_is_large_enough():
    path = guide_path()
    assert path.is_file()
    assert path.name == "transformer_guide.txt"
    assert len(path.read_bytes()) >= 40 * 1024
    path.read_text(encoding="utf-8")  # valid UTF-8


def test_all_keys_present_in_order():
    guide = load_guide()
    assert list(guide) == EXPECTED_KEYS
    assert list(SECTION_KEYS) == EXPECTED_KEYS


@pytest.mark.parametrize("key", EXPECTED_KEYS)
def test_section_has_both_languages(key):
    section = load_guide()[key]
    assert isinstance(section, GuideSection)
    assert section.key == key
    for lang in ("en", "zh"):
        assert section.title.get(lang, "").strip(), f"{key}: no {lang} title"
        assert section.text.get(lang, "").strip(), f"{key}: no {lang} text"
    assert len(CJK.findall(section.text["zh"])) >= 100, f"{key}: zh text is not Chinese"
    assert CJK.search(section.title["zh"]) or key in ("logits", "logit_lens")
    # English may quote a Chinese example or two, but must not be Chinese prose
    assert len(CJK.findall(section.text["en"])) <= 10, f"{key}: Chinese in the English text"
    assert len(section.text["en"]) >= 500, f"{key}: English text is too short"
    # no directive or header leaked into a body
    for text in section.text.values():
        assert not any(line.startswith(("@", "##")) for line in text.splitlines())


def test_both_languages_are_substantial():
    guide = load_guide()
    en = sum(len(s.text["en"].encode("utf-8")) for s in guide.values())
    zh = sum(len(s.text["zh"].encode("utf-8")) for s in guide.values())
    assert en >= 20 * 1024
    assert zh >= 20 * 1024


def test_tokens_section_mentions_byte_pieces():
    text = load_guide()["tokens"].text
    assert "<e6 8e>" in text["en"] and "<e6 8e>" in text["zh"]
    assert "cl100k_base" in text["en"]


def test_load_guide_is_cached_but_returns_a_fresh_dict():
    a, b = load_guide(), load_guide()
    assert a == b and a is not b
    assert a["ln1"] is b["ln1"]
    a.pop("ln1")
    assert "ln1" in load_guide()


def test_load_guide_explicit_path(tmp_path: Path):
    path = tmp_path / "g.txt"
    path.write_text(GOOD_SECTION, encoding="utf-8")
    guide = load_guide(path)
    assert list(guide) == ["overview"]
    section = guide["overview"]
    assert section.title == {"en": "Overview", "zh": "概览"}
    assert section.text["en"] == "Some English text.\n\nA second paragraph."
    assert section.text["zh"] == "一些中文。"


@pytest.mark.parametrize(
    "step, key",
    [
        ("blocks.3.attn.scores", "attn.scores"),
        ("blocks.0.ffn.act", "ffn.act"),
        ("blocks.2.ln1", "ln1"),
        ("blocks.7.attn.pattern", "attn.pattern"),
        ("blocks.11.resid2", "resid2"),
        ("tokens", "tokens"),
        ("embed.token", "embed.token"),
        ("embed.position", "embed.position"),
        ("logits", "logits"),
        ("probs", "probs"),
        ("ln_f", "ln_f"),
    ],
)
def test_section_for_step(step, key):
    assert section_for_step(step) == key


@pytest.mark.parametrize("step", ["", "blocks.3", "blocks.1.attn", "nonsense", "blocks.x.ln1"])
def test_section_for_unknown_step_is_none(step):
    assert section_for_step(step) is None


def test_help_text_languages_and_fallback():
    guide = load_guide()
    en = help_text("blocks.1.attn.mask", "en")
    zh = help_text("blocks.1.attn.mask", "zh")
    assert en == (guide["attn.mask"].title["en"], guide["attn.mask"].text["en"])
    assert zh == (guide["attn.mask"].title["zh"], guide["attn.mask"].text["zh"])
    assert help_text("blocks.1.attn.mask") == en
    assert help_text("blocks.1.attn.mask", "fr") == en  # unknown language -> English
    assert help_text("blocks.1.attn.mask", "zh_CN") == zh  # regional tag -> primary language
    assert help_text("no.such.step", "zh") == ("", "")


def test_help_text_falls_back_when_a_translation_is_missing():
    section = GuideSection(key="x", title={"en": "T"}, text={"en": "body"})
    assert section.title_for("zh") == "T"
    assert section.text_for("zh") == "body"


@pytest.mark.parametrize(
    "text, line",
    [
        # unknown directive on line 4
        ("## overview\n@title-en A\n@title-zh 甲\n@english\nx\n", 4),
        # title directive without a title on line 2
        ("## overview\n@title-en\n@en\nx\n", 2),
        # text outside any @en/@zh block on line 3
        ("## overview\n@title-en A\nstray text\n@en\nx\n", 3),
        # text before the first section on line 2
        ("\nhello\n## overview\n@title-en A\n@en\nx\n", 2),
        # malformed header on line 10
        (GOOD_SECTION + "##\n", 10),
        # duplicate section, reported at its header (line 10)
        (GOOD_SECTION + GOOD_SECTION, 10),
        # section without English text, reported at its header (line 1)
        ("## overview\n@title-en A\n@zh\n中文\n", 1),
        # second @en block on line 6
        ("## overview\n@title-en A\n@en\nx\n\n@en\ny\n", 6),
    ],
)
def test_malformed_guide_raises_with_line_number(tmp_path: Path, text: str, line: int):
    path = tmp_path / "bad.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=rf"line {line}\b"):
        load_guide(path)


def test_empty_guide_is_rejected(tmp_path: Path):
    path = tmp_path / "empty.txt"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no sections"):
        load_guide(path)
