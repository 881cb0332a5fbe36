"""What the trace views read from the session about its tokens: display pieces, labels of the
traced positions, and whether the trace on hand belongs to the model on hand.

Every panel that labels tokens (tokens, embeddings, positional, attention, history) uses these,
so they live below the panels instead of inside one of them.
"""
from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from engine.text.tokenizers import Tokenizer

if TYPE_CHECKING:  # only for annotations: this module itself needs no Qt
    from gui.session import Session
    from gui.widgets import EmptyState

# Display pieces per tokenizer, filled on first use: Tokenizer.piece validates its argument on
# every call, which adds up to milliseconds per redraw when four panels label 64 tokens.
_PIECES: "weakref.WeakKeyDictionary[Tokenizer, dict[int, str]]" = weakref.WeakKeyDictionary()


def piece(tokenizer: Tokenizer, compact_id: int) -> str:
    """tokenizer.piece(compact_id), remembered."""
    cache = _PIECES.get(tokenizer)
    if cache is None:
        cache = _PIECES[tokenizer] = {}
    text = cache.get(compact_id)
    if text is None:
        text = cache[compact_id] = tokenizer.piece(compact_id)
    return text


def context_pieces(session: "Session", with_position: bool = True) -> list[str]:
    """Labels of the traced tokens (batch row 0): 'position piece', e.g. '3 ·the'."""
    trace, tok = session.trace, session.tokenizer
    if trace is None:
        return []
    ids = trace.ids[0].tolist()
    pieces = [piece(tok, i) for i in ids] if tok is not None else [str(i) for i in ids]
    if not with_position:
        return pieces
    return [f"{t} {p}" for t, p in enumerate(pieces)]


def trace_fits_model(session: "Session") -> bool:
    """Whether session.trace came from session.model (between set_model and the next
    set_trace, the old trace may have other widths, heads or vocabulary)."""
    trace, model = session.trace, session.model
    if trace is None or model is None:
        return False
    cfg = model.config
    n_layer = sum(1 for name in trace.names() if name.endswith(".attn.pattern"))
    q = trace["blocks.0.attn.q"].values if "blocks.0.attn.q" in trace else None
    return (
        trace["embed.token"].values.shape[-1] == cfg.d_model
        and n_layer == cfg.n_layer
        and (q is None or q.shape[1] == cfg.n_head)
        and int(trace.ids.max(initial=0)) < cfg.vocab_size
        and trace.ids.shape[1] <= cfg.context_length
    )


def show_if_traced(session: "Session", empty: "EmptyState") -> bool:
    """Show a trace view's content if the session holds a trace of its current model, else
    say why not; True when the content is shown."""
    if session.model is None or session.trace is None:
        empty.show_empty()
        return False
    if not trace_fits_model(session):
        from PySide6.QtCore import QCoreApplication  # (only here: the rest needs no Qt)

        # A callable: the explanation follows a language switch while it shows.
        empty.show_empty(lambda: QCoreApplication.translate(
            "pieces", "Waiting for a trace of the new model…"))
        return False
    empty.show_content()
    return True


def first_line(text: str) -> str:
    """The first line of `text` that is not blank ('' if none): a prompt taken from a context."""
    for line in text.splitlines():
        if line.strip():
            return line
    return ""
