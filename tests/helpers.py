"""Shared by the GUI tests: a tiny seeded model, a session holding its trace, and the
isolation fixture of the window tests (import `no_leftovers` to use it)."""
from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import QSettings, QThreadPool

from engine.config import ModelConfig
from engine.model import GPT
from engine.trace import run_trace
from gui import dialogs
from gui.session import Session
from gui.workers import running_threads

# A short text whose characters make a small vocabulary; repeated so a corpus has windows.
CAT_TEXT = "the cat sat on the mat. the dog sat on the log.\n" * 8


def tiny_model(vocab_size: int, seed: int = 0, **config) -> GPT:
    """A GPT small enough for milliseconds per trace: d_model 16, 2 heads, 2 layers, context 16.

    `seed` fixes the initial weights; `config` overrides any ModelConfig field.
    """
    fields = dict(vocab_size=vocab_size, d_model=16, n_head=2, n_layer=2, context_length=16,
                  d_ff=32)
    fields.update(config)
    torch.manual_seed(seed)
    return GPT(ModelConfig(**fields))


def traced_session(model: GPT, tokenizer, context: str) -> Session:
    """A session showing `model` with `context` typed and traced (as the window leaves it)."""
    session = Session()
    session.set_model(model, tokenizer)
    session.context_text = context
    session.set_trace(run_trace(model, session.context_ids()))
    return session


@pytest.fixture(autouse=True)
def no_leftovers(tmp_path_factory, monkeypatch):
    """Isolated settings, dialogs that record, and no thread left running afterwards."""
    settings_dir = tmp_path_factory.mktemp("settings")
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(settings_dir))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(settings_dir))
    shown: list[tuple] = []
    monkeypatch.setattr(dialogs, "show_error",
                        lambda parent, title, message, details=None:
                        shown.append((title, message, details)))
    monkeypatch.setattr(dialogs, "show_info", lambda *a: shown.append(("info",) + a[1:]))
    monkeypatch.setattr(dialogs, "ask_close_during_training", lambda parent: "discard")
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent: "discard")

    def no_file_dialog(*args):
        raise AssertionError("a file dialog would block the test")

    monkeypatch.setattr(dialogs, "ask_open_path", no_file_dialog)
    monkeypatch.setattr(dialogs, "ask_save_path", no_file_dialog)
    yield shown
    assert running_threads() == [], "a worker thread was left running"
    assert QThreadPool.globalInstance().activeThreadCount() == 0


def redrawn(qtbot, *views) -> None:
    """Wait until each LazyPanel has run the rebuild its last change posted."""
    qtbot.waitUntil(lambda: not any(v._flush_posted for v in views), timeout=5_000)
