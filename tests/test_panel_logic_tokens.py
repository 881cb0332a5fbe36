"""The Tokens panel's logic without widgets: the rows of a split (pieces, ids, exact bytes),
the model's window, the whole characters behind a byte fragment, and the statistics."""
from engine.text.tokenizers import available_tokenizers, build_tokenizer
from gui.panels.tokens.rows import (
    TokenRow,
    base_rows,
    characters_of,
    model_rows,
    offered_tokenizers,
    token_stats,
    utf16_len,
)

TEXT = "the cat sat on the mat"
ZH = "我喜欢学习变换器模型"  # cl100k_base cuts 喜, 欢 and 习 into byte fragments


def test_rows_under_the_models_tokenizer_and_its_window():
    tok = build_tokenizer("char", TEXT)
    split = model_rows(tok, TEXT, traced=None)
    assert [r.piece for r in split.rows][:4] == ["t", "h", "e", "·"]
    assert split.window == len(TEXT) and split.greyed == 0
    assert [r.compact_id for r in split.rows] == tok.encode(TEXT).tolist()
    assert [r.original_id for r in split.rows][:3] == [ord("t"), ord("h"), ord("e")]
    assert b"".join(r.data for r in split.rows) == TEXT.encode()
    # The trace saw the first 8 tokens: the rest are greyed.
    split = model_rows(tok, TEXT, traced=tok.encode(TEXT)[:8])
    assert (split.window, split.greyed, len(split.rows)) == (8, len(TEXT) - 8, len(TEXT))
    # A trace of other text: its ids are what the model saw, so they are shown.
    other = tok.encode("a mat")
    split = model_rows(tok, TEXT, traced=other)
    assert [r.compact_id for r in split.rows] == other.tolist() and split.window == 5


def test_unknown_ids_have_no_original_id_and_no_bytes():
    tok = build_tokenizer("char", TEXT)
    rows = model_rows(tok, "the dog", traced=None).rows  # d and g are not in the vocabulary
    unknown = [r for r in rows if r.compact_id == tok.unk_id]
    assert len(unknown) == 2
    assert all(r.original_id == -1 and r.data == b"" for r in unknown)


def test_fragments_and_their_whole_characters():
    rows = base_rows("cl100k_base", ZH)
    assert b"".join(r.data for r in rows).decode("utf-8") == ZH
    assert all(r.compact_id is None for r in rows)  # another tokenizer: its own ids only
    pieces = [r.piece for r in rows]
    i = pieces.index("<e5 96>")  # 喜 = e5 96 9c, cut in two
    assert rows[i].is_fragment and rows[i + 1].is_fragment and rows[i + 1].piece == "<9c>"
    assert characters_of(rows, i) == "“喜” (e5 96 9c)"
    assert characters_of(rows, i + 1) == "“喜” (e5 96 9c)"
    whole = next(r for r in rows if not r.is_fragment)
    assert whole.data.decode("utf-8")
    assert characters_of([TokenRow("<e5>", 1, None, b"\xe5")], 0) == ""  # nothing whole to name


def test_stats_count_tokens_and_rank_the_frequent_ones():
    tok = build_tokenizer("char", TEXT)
    rows = model_rows(tok, TEXT, traced=None).rows
    stats = token_stats(TEXT, rows, top_k=3)
    assert (stats.chars, stats.tokens, stats.distinct) == (22, 22, len(set(TEXT)))
    assert stats.chars_per_token == 1.0
    assert [(r.piece, n) for r, n in stats.frequent] == [("t", 5), ("·", 5), ("a", 3)]
    assert token_stats("", [], top_k=3).chars_per_token is None


def test_offered_tokenizers_put_the_models_own_first_when_missing():
    names = available_tokenizers()
    assert offered_tokenizers(None) == names
    assert offered_tokenizers(names[0]) == names
    assert offered_tokenizers("my-own") == ["my-own", *names]


def test_utf16_length_counts_document_positions():
    assert utf16_len("abc") == 3
    assert utf16_len("喜") == 1
    assert utf16_len("a😀") == 3  # outside the BMP: two UTF-16 units

