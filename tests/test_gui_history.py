"""The history panel: scrubbing snapshots sets their exact trace, compare shows B − A, Live."""
import numpy as np
import pytest
from helpers import CAT_TEXT, tiny_model, traced_session

from engine.sample import generate
from engine.snapshots import SnapshotStore
from engine.tokenizers import build_tokenizer
from engine.trace import run_trace
from gui.panels.history import (SAMPLE_SEED, SAMPLE_TEMPERATURE, SAMPLE_TOKENS, SAMPLE_TOP_K,
                                HistoryPanel)
from gui.workers import running_threads

STEPS = (0, 50, 100)


def _model(tok, seed):
    return tiny_model(tok.vocab_size, seed)


@pytest.fixture
def session():
    tok = build_tokenizer("char", CAT_TEXT)
    return traced_session(_model(tok, 0), tok, "the cat sat on the mat.")


@pytest.fixture
def store(tmp_path, session):
    store = SnapshotStore(tmp_path / "snaps")
    for i, step in enumerate(STEPS):
        m = _model(session.tokenizer, 100 + i)  # different weights per snapshot
        store.add(step, m.state_dict(), {"val_loss": 3.0 - i / 2, "train_loss": 2.9 - i / 2})
    return store


@pytest.fixture
def panel(qtbot, session, store):
    session.set_snapshots(store)
    p = HistoryPanel(session)
    qtbot.addWidget(p)
    p.resize(1000, 700)
    yield p
    p.shutdown()
    assert not running_threads()  # shutdown waits for every thread the panel started


def _expected(session, store, step):
    m = _model(session.tokenizer, 0)
    m.load_state_dict(store.load(step))
    return m


def _same_trace(a, b):
    assert a.names() == b.names()
    for name in a.names():
        assert np.array_equal(a.values(name), b.values(name)), name


def test_empty_state_until_a_store_with_snapshots_arrives(qtbot, session, store):
    p = HistoryPanel(session)
    qtbot.addWidget(p)
    assert p.empty.is_empty() and "snapshots" in p.empty.message.text()
    session.set_snapshots(store)
    assert not p.empty.is_empty() and p.steps() == list(STEPS)
    store.add(150, _model(session.tokenizer, 9).state_dict(), {"val_loss": 1.0})
    session.set_snapshots(store)  # the same store, one snapshot more
    assert p.steps() == [*STEPS, 150]


def test_slider_sets_the_trace_of_the_saved_weights(qtbot, panel, session, store):
    assert not panel.empty.is_empty() and panel.steps() == list(STEPS)
    shown = []
    panel.snapshot_shown.connect(shown.append)
    for step in (50, 0):
        panel.set_step(step)
        qtbot.waitUntil(lambda: panel.current_step() == step, timeout=10_000)
        _same_trace(session.trace, run_trace(_expected(session, store, step), session.context_ids()))
        assert f"step {step}" in panel.title.text() and "val loss" in panel.title.text()
    assert shown == [50, 0]
    # The session's own model is untouched.
    assert session.model.blocks[0].attn.qkv.weight.data_ptr() != 0
    _same_trace(run_trace(session.model, session.context_ids()),
                run_trace(_model(session.tokenizer, 0), session.context_ids()))
    # Going back to a cached step does not read the file again.
    loads = panel.cache().loads
    panel.set_step(50)
    qtbot.waitUntil(lambda: panel.current_step() == 50, timeout=10_000)
    assert panel.cache().loads == loads
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=20_000)
    # The sample is engine.sample.generate at that snapshot with the fixed seed.
    sample = list(generate(_expected(session, store, 50), session.tokenizer, "the cat sat on the mat.",
                           SAMPLE_TOKENS, temperature=SAMPLE_TEMPERATURE, top_k=SAMPLE_TOP_K,
                           seed=SAMPLE_SEED))
    assert panel.sample_text() == sample[-1].text
    panel.go_live()
    qtbot.waitUntil(lambda: panel.current_step() is None and not panel.is_busy(), timeout=10_000)
    _same_trace(session.trace, run_trace(session.model, session.context_ids()))


def test_only_the_newest_request_is_applied(qtbot, panel, session, store):
    shown = []
    panel.snapshot_shown.connect(shown.append)
    for step in (0, 50, 100):  # bypass the throttle: three requests while the first runs
        panel.slider.blockSignals(True)
        panel.slider.setValue(panel.steps().index(step))
        panel.slider.blockSignals(False)
        panel._request_scrub()
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=20_000)
    assert shown == [100]
    _same_trace(session.trace, run_trace(_expected(session, store, 100), session.context_ids()))


def test_compare_difference_is_b_minus_a(qtbot, panel, session, store):
    with qtbot.waitSignal(panel.compare_shown, timeout=10_000):
        panel.set_compare(0, 100, layer=1, head=1)
    ids = session.context_ids()
    pa = run_trace(_expected(session, store, 0), ids).values("blocks.1.attn.pattern")[0, 1]
    pb = run_trace(_expected(session, store, 100), ids).values("blocks.1.attn.pattern")[0, 1]
    assert np.array_equal(panel.heatmap_a.current_image(), pa)
    assert np.array_equal(panel.heatmap_b.current_image(), pb)
    assert np.array_equal(panel.heatmap_diff.current_image(), pb - pa)
    lo, hi = panel.heatmap_diff.levels()
    assert lo == -hi  # diverging scale centred at 0
    panel.head_combo.setCurrentIndex(0)  # another head: redrawn from the traces already made
    pa0 = run_trace(_expected(session, store, 0), ids).values("blocks.1.attn.pattern")[0, 0]
    assert np.array_equal(panel.heatmap_a.current_image(), pa0)
