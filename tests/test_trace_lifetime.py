"""A replaced trace is freed at once: context edits in the window never pile up traces.

At GPT-2-small size a trace of 256 tokens is ~130 MB, so every trace a view or a cycle keeps
after it was replaced is that much memory. Two ways it went wrong:

- a cycle (trace -> on-demand step -> its recompute function -> trace) freed a replaced trace
  only at a full garbage collection, which a long-running GUI process rarely reaches;
- a view that remembers which trace its cached answer belongs to (the logit lens's background
  answer, the ablation view's next-token shift) kept that trace alive while the view was hidden
  and therefore not redrawn.

The edits run with the garbage collector off, so only reference counting frees a trace, as in
the app between its rare full collections. The model is tiny, but every recomputable step is
left to be recomputed (as GPT-2's large steps are) and the views' work runs off the GUI thread
(as it does for a large model).
"""
from __future__ import annotations

import gc
import weakref

import pytest
from PySide6.QtCore import QTimer

from engine.storage.checkpoint import save_checkpoint
from engine.text.tokenizers import build_tokenizer
from gui.workers import running_threads
from helpers import tiny_model

TEXT = ("Attention lets every position gather information from the positions before it, and "
        "a small feed-forward network reworks each position on its own. ") * 3


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    import gui.latest
    import gui.window.tracing as tracing
    from engine.model.trace import run_trace
    from gui.app import create_app
    from gui.window import MainWindow

    # As for GPT-2 small: on-demand steps, and the lens, checks and shift off the GUI thread.
    monkeypatch.setattr(tracing, "_trace", lambda model, ids: run_trace(model, ids, keep_max=0))
    monkeypatch.setattr(gui.latest, "BACKGROUND_PARAMS", 0)
    tok = build_tokenizer("char", TEXT)
    path = save_checkpoint(tmp_path / "tiny.safetensors",
                           tiny_model(tok.vocab_size, n_layer=2, n_head=2, d_model=16,
                                      context_length=96), tok)
    create_app()
    w = MainWindow(restore_layout=False, load_default=False)
    w.resize(1600, 1000)
    w.show()
    w.open_model(str(path))
    qtbot.waitUntil(lambda: w.session.trace is not None, timeout=30_000)
    yield w
    w.close()
    qtbot.wait(10)
    assert not [t for t in w.findChildren(QTimer) if t.isActive()]
    assert running_threads() == []
    w.deleteLater()
    qtbot.wait(1)


def _settled(w) -> bool:
    """The newest trace is shown and every view has drawn it, background answers included."""
    from gui.widgets.lazy import LazyPanel

    if w.trace_service.pending or any(p._flush_posted for p in w.findChildren(LazyPanel)):
        return False
    ip = w.insights_panel
    jobs = [ip.lens._jobs, ip.ablation._jobs, w.walkthrough_panel._checks._jobs]
    return not any(j is not None and j.pending for j in jobs)


def _show(w, qtbot, name: str) -> None:
    if name.startswith("insights."):
        w.raise_panel("insights")
        w.insights_panel.tabs.setCurrentWidget(getattr(w.insights_panel, name.split(".")[1]))
    else:
        w.raise_panel(name)
    qtbot.waitUntil(lambda: _settled(w), timeout=20_000)


def test_context_edits_free_every_replaced_trace(qtbot, window):
    w, s = window, window.session
    qtbot.waitUntil(lambda: _settled(w), timeout=20_000)
    traces = [weakref.ref(s.trace)]
    edits = 0

    def edit() -> None:
        nonlocal edits
        edits += 1
        shown = traces[-1]
        w.context_box.set_text(TEXT[edits:edits + 90])
        qtbot.waitUntil(lambda: s.trace is not shown() and _settled(w), timeout=20_000)
        qtbot.wait(20)  # late background answers delivered
        qtbot.waitUntil(lambda: _settled(w), timeout=20_000)
        traces.append(weakref.ref(s.trace))

    gc.collect()
    gc.disable()
    try:
        # An edit while each view is on screen, the walkthrough stepped onto recomputed steps.
        for name in ("walkthrough", "tokens", "embeddings", "positional", "attention",
                     "generation", "insights.lens", "insights.ablation", "insights.loss",
                     "history"):
            _show(w, qtbot, name)
            if name == "walkthrough":
                for step in ("blocks.1.attn.pattern", "blocks.0.ffn.act", "logits", "probs"):
                    assert not s.trace[step].kept  # recomputed from the trace when shown
                    w.walkthrough_panel.go_to(step)
                    qtbot.waitUntil(lambda: _settled(w), timeout=20_000)
            edit()
            alive = [i for i, ref in enumerate(traces) if ref() is not None]
            assert alive == [len(traces) - 1], f"after an edit on {name}: traces {alive} alive"
        # Then with the insights and the walkthrough hidden (tabbed behind other panels).
        for name in ("attention", "tokens"):
            _show(w, qtbot, name)
        assert not w.insights_panel.lens.isVisible()
        for _ in range(3):
            edit()
        alive = [i for i, ref in enumerate(traces) if ref() is not None]
        assert alive == [len(traces) - 1], f"traces {alive} of {len(traces)} alive"
    finally:
        gc.enable()
    assert edits == 13
