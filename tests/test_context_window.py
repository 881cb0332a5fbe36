"""Opening a text starts the context with a full context window of it (issue 12, newcomer item
2): context_length tokens from the start of the first paragraph long enough, headings skipped."""
from __future__ import annotations

import pytest

from engine.text.tokenizers import build_tokenizer
from gui import resources
from gui.window.context import first_lines

ARTICLE = (
    "Transformer Architecture\n\n"
    "A transformer reads a stretch of text and, at every position, guesses what comes next. "
    "Text is cut into tokens, each token becomes a vector, a position signal is mixed in, and "
    "the vectors travel through identical blocks of attention and feed-forward layers.\n\n"
    "Attention lets every position gather information from the positions before it, and the "
    "causal mask keeps each one from peeking ahead. Softmax turns the scores into weights.\n"
)


GUIDE = resources.default_corpus_path().read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def tokenizer():
    """cl100k_base over the texts used here (the compact vocabulary a model would have)."""
    return build_tokenizer("cl100k_base", "Introduction.\n\nShort first words here.\n"
                           + ARTICLE + GUIDE)


@pytest.mark.parametrize("T", [16, 32, 64])
def test_a_two_token_heading_is_skipped_and_the_window_is_full(tokenizer, T):
    assert len(tokenizer.encode("Transformer Architecture")) == 2
    context = first_lines(ARTICLE, tokenizer, T)
    assert context.startswith("A transformer reads")
    assert len(tokenizer.encode(context)) == T


def test_a_window_longer_than_the_first_paragraph_runs_on_into_the_next(tokenizer):
    T = 70  # more than the first paragraph holds: the first paragraph is still the start
    context = first_lines(ARTICLE, tokenizer, T)
    assert context.startswith("A transformer reads") and "Attention lets" in context
    assert len(tokenizer.encode(context)) == T


def test_a_heading_on_the_line_above_its_paragraph_is_skipped(tokenizer):
    text = ARTICLE.replace("Architecture\n\n", "Architecture\n")
    assert first_lines(text, tokenizer, 32).startswith("A transformer reads")


def test_a_short_first_paragraph_is_passed_over_for_one_that_fills_the_window(tokenizer):
    text = "Introduction.\n\nShort first words here.\n\n" + ARTICLE
    context = first_lines(text, tokenizer, 32)
    assert context.startswith("A transformer reads")
    assert len(tokenizer.encode(context)) == 32


def test_a_text_shorter_than_the_window_is_all_taken(tokenizer):
    text = "Title\n\nThe cat sat on the mat."
    assert first_lines(text, tokenizer, 64) == "The cat sat on the mat."
    assert first_lines("only a heading", tokenizer, 64) == "only a heading"


def test_a_character_tokenizer_gets_a_full_window_of_chinese():
    text = "注意力机制\n\n" + "注意力机制让每个位置回看之前的词，并把它们的信息加权汇总。" * 10
    tok = build_tokenizer("char", text)
    context = first_lines(text, tok, 48)
    assert context.startswith("注意力机制让") and len(tok.encode(context)) == 48


@pytest.mark.parametrize("T", [16, 64, 256])
def test_the_bundled_guide_gives_a_full_window_of_prose(tokenizer, T):
    context = first_lines(GUIDE, tokenizer, T)
    assert context.startswith("A decoder-only transformer")
    assert len(tokenizer.encode(context)) == T
