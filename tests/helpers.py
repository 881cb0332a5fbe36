"""Shared by the GUI tests: a tiny seeded model and a session holding its trace. (The isolation
fixture every test gets, `no_leftovers`, is in conftest.py.)"""
from __future__ import annotations


from engine.config import ModelConfig
from engine.model.decoder import GPT, new_model
from engine.model.trace import run_trace
from gui.session import Session

# A short text whose characters make a small vocabulary; repeated so a corpus has windows.
CAT_TEXT = "the cat sat on the mat. the dog sat on the log.\n" * 8


def tiny_model(vocab_size: int, seed: int = 0, **config) -> GPT:
    """A GPT small enough for milliseconds per trace: d_model 16, 2 heads, 2 layers, context 16.

    `seed` fixes the initial weights; `config` overrides any ModelConfig field.
    """
    fields = dict(vocab_size=vocab_size, d_model=16, n_head=2, n_layer=2, context_length=16,
                  d_ff=32)
    fields.update(config)
    return new_model(ModelConfig(**fields), seed)


def traced_session(model: GPT, tokenizer, context: str) -> Session:
    """A session showing `model` with `context` typed and traced (as the window leaves it)."""
    session = Session()
    session.set_model(model, tokenizer)
    session.context_text = context
    session.set_trace(run_trace(model, session.context_ids()))
    return session


def redrawn(qtbot, *views) -> None:
    """Wait until each LazyPanel has run the rebuild its last change posted."""
    qtbot.waitUntil(lambda: not any(v._flush_posted for v in views), timeout=5_000)
