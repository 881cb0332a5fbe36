"""The tokens of a text as the Tokens panel shows them, with no widgets: one `TokenRow` per
token (display piece, ids, exact bytes), the bytes' whole characters, and the statistics.

Whitespace is made visible (· space, ↵ newline) and a token that is only part of a character
(common for Chinese under cl100k_base) is shown as its bytes, e.g. <e6 8e>, never as garbage;
both come from the engine's display pieces.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from engine.text.tokenizers import Tokenizer, available_tokenizers, display_bytes, get_base
from gui.pieces import piece

# Display pieces of the other tokenizers, by (tokenizer name, original id): the comparison
# re-splits the whole text on every context edit.
_BASE_PIECES: dict[tuple[str, int], tuple[str, bytes]] = {}


@dataclass
class TokenRow:
    """One token as shown: its display piece, ids and exact bytes."""

    piece: str
    original_id: int  # tiktoken id or code point; -1 for the unknown id
    compact_id: int | None  # row of the model's token table; None under another tokenizer
    data: bytes

    @property
    def is_fragment(self) -> bool:
        """True when the bytes are not whole UTF-8 characters (part of a character)."""
        try:
            self.data.decode("utf-8")
            return False
        except UnicodeDecodeError:
            return True


@dataclass
class ModelSplit:
    """The text under the model's own tokenizer."""

    rows: list[TokenRow]
    window: int  # tokens inside the model's context window (the ones the trace saw)
    greyed: int  # tokens of the text after the window, drawn greyed (0 if none)


def offered_tokenizers(own: str | None) -> list[str]:
    """The tokenizers to compare with: every available one, the model's own first if it is
    not among them."""
    names = available_tokenizers()
    if own is not None and own not in names:
        names.insert(0, own)
    return names


def model_rows(tok: Tokenizer, text: str, traced: np.ndarray | None) -> ModelSplit:
    """`text` under the model's tokenizer; `traced` (the trace's row-0 ids, or None) decides the
    window. When the trace came from other text, the traced ids are shown: what the model saw."""
    ids = tok.encode(text)
    window, greyed = len(ids), 0
    if traced is not None and int(traced.max(initial=0)) <= tok.unk_id:
        window = len(traced)
        if not np.array_equal(ids[:window], traced):
            ids = traced
            window = len(ids)
        elif len(ids) > window:
            greyed = len(ids) - window
    original = tok.to_original(ids)
    unk = tok.unk_id
    rows = [
        TokenRow(piece(tok, c), o, c, b"" if c == unk else tok.piece_bytes(c))
        for c, o in zip(ids.tolist(), original.tolist())
    ]
    return ModelSplit(rows, window, greyed)


def base_rows(name: str, text: str) -> list[TokenRow]:
    """`text` under the tokenizer `name` (its own ids, no compact ids); raises
    TokenizerUnavailable when the encoding cannot be had."""
    base = get_base(name)
    rows = []
    for i in base.encode(text).tolist():
        key = (name, i)
        hit = _BASE_PIECES.get(key)
        if hit is None:
            data = base.token_bytes(i)
            hit = _BASE_PIECES[key] = (display_bytes(data), data)
        rows.append(TokenRow(hit[0], i, None, hit[1]))
    return rows


def characters_of(rows: list[TokenRow], index: int) -> str:
    """The whole characters a fragment token's bytes belong to, e.g. '“喜” (e5 96 9c)'."""
    start = sum(len(r.data) for r in rows[:index])
    end = start + len(rows[index].data)
    data = b"".join(r.data for r in rows)
    out, pos = [], 0
    for ch in data.decode("utf-8", errors="replace"):
        n = len(ch.encode("utf-8")) if ch != "\ufffd" else 1
        if pos < end and pos + n > start and ch != "\ufffd":
            out.append(f"“{ch}” ({data[pos:pos + n].hex(' ')})")
        pos += n
        if pos >= end:
            break
    return ", ".join(out)


@dataclass
class TokenStats:
    """What the side of the panel prints about a split."""

    chars: int
    tokens: int
    distinct: int
    frequent: list[tuple[TokenRow, int]]  # (a row of the token, its count), most frequent first

    @property
    def chars_per_token(self) -> float | None:
        return self.chars / self.tokens if self.tokens else None


def token_stats(text: str, rows: list[TokenRow], top_k: int) -> TokenStats:
    """Counts of `rows` (a token is its (original id, compact id) pair) and the `top_k`
    most frequent, ties in order of first appearance."""
    counts = Counter((r.original_id, r.compact_id) for r in rows)
    first = {}
    for r in rows:
        first.setdefault((r.original_id, r.compact_id), r)
    frequent = [(first[key], n) for key, n in counts.most_common(top_k)]
    return TokenStats(len(text), len(rows), len(counts), frequent)


def utf16_len(text: str) -> int:
    """Length in QTextDocument positions (UTF-16 code units: an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2
