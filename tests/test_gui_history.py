"""The history panel: scrubbing snapshots sets their exact trace, compare shows B − A, Live."""
import numpy as np
import pytest
import torch
from helpers import CAT_TEXT, tiny_model, traced_session

from engine.model.sample import generate
from engine.training.snapshots import SnapshotStore
from engine.text.tokenizers import build_tokenizer
from engine.model.trace import run_trace
from gui.panels.history import HistoryPanel
from gui.panels.history.snapshots import (SAMPLE_SEED, SAMPLE_TEMPERATURE, SAMPLE_TOKENS,
                                          SAMPLE_TOP_K)
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
    before = {k: v.clone() for k, v in session.model.state_dict().items()}
    shown = []
    panel.snapshot_shown.connect(shown.append)
    for step in (50, 0):
        panel.set_step(step)
        qtbot.waitUntil(lambda: panel.current_step() == step, timeout=10_000)
        _same_trace(session.trace, run_trace(_expected(session, store, step), session.context_ids()))
        title = panel.scrubber.title.text()
        assert f"step {step}" in title and "val loss" in title
    assert shown == [50, 0]
    # The snapshot weights went into the panel's own model, never into the session's: the
    # loader's model is another object with storage of its own, holding step 0's weights,
    # and every weight of the session's model is as it was.
    loader = panel._loader.model
    assert loader is not session.model
    assert not {p.data_ptr() for p in loader.parameters()} & {
        p.data_ptr() for p in session.model.parameters()}
    assert all(torch.equal(v, store.load(0)[k]) for k, v in loader.state_dict().items())
    after = session.model.state_dict()
    assert after.keys() == before.keys()
    assert all(torch.equal(after[k], v) for k, v in before.items())
    _same_trace(run_trace(session.model, session.context_ids()),
                run_trace(_model(session.tokenizer, 0), session.context_ids()))
    # Going back to a cached step does not read the file again.
    loads = panel.cache().loads
    panel.set_step(50)
    qtbot.waitUntil(lambda: panel.current_step() == 50, timeout=10_000)
    assert panel.cache().loads == loads
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=20_000)
    # The sample is engine.model.sample.generate at that snapshot with the fixed seed.
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
        panel.scrubber.slider.blockSignals(True)
        panel.scrubber.slider.setValue(panel.steps().index(step))
        panel.scrubber.slider.blockSignals(False)
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
    assert np.array_equal(panel.compare.heatmap_a.current_image(), pa)
    assert np.array_equal(panel.compare.heatmap_b.current_image(), pb)
    assert np.array_equal(panel.compare.heatmap_diff.current_image(), pb - pa)
    lo, hi = panel.compare.heatmap_diff.levels()
    assert lo == -hi  # diverging scale centred at 0
    panel.compare.head_combo.setCurrentIndex(0)  # another head: redrawn from the traces already made
    pa0 = run_trace(_expected(session, store, 0), ids).values("blocks.1.attn.pattern")[0, 0]
    assert np.array_equal(panel.compare.heatmap_a.current_image(), pa0)


def test_cache_loader_and_jobs_without_widgets(session, store):
    """The plain logic: a scrub job yields the trace, then the seeded sample; a second visit
    reads no file and samples nothing; a new model's cache keeps the loaded snapshots only."""
    import copy

    from gui.panels.history.snapshots import (Loader, Sample, Shown, SnapshotCache, compare_job,
                                              scrub_job)

    ids = np.asarray(session.context_ids(), dtype=np.int64)[None]
    cache = SnapshotCache(store)
    loader = Loader(copy.deepcopy(session.model))
    items = list(scrub_job(loader, cache, 50, ids, "the", session.tokenizer))
    assert isinstance(items[0], Shown) and items[0].metrics["val_loss"] == 2.5
    _same_trace(items[0].trace, run_trace(_expected(session, store, 50), ids))
    sample = list(generate(_expected(session, store, 50), session.tokenizer, "the", SAMPLE_TOKENS,
                           temperature=SAMPLE_TEMPERATURE, top_k=SAMPLE_TOP_K, seed=SAMPLE_SEED))
    assert items[-1] == Sample(50, sample[-1].text, True)
    again = list(scrub_job(loader, cache, 50, ids, "the", session.tokenizer))
    assert again[0].trace is items[0].trace and again[1:] == [items[-1]] and cache.loads == 1
    compared = compare_job(loader, cache, 0, 50, ids)
    assert compared.trace_b is items[0].trace and cache.loads == 2
    fresh = cache.without_traces()
    assert fresh.loads == 2 and fresh.samples == {}
    assert fresh.cached_trace((50, ids.shape, ids.tobytes())) is None
    fresh.state(50)
    assert fresh.loads == 2  # still in memory


def test_a_new_store_with_the_same_steps_shows_its_own_weights(qtbot, panel, session, tmp_path):
    panel._request_scrub()  # the slider starts on the newest snapshot
    qtbot.waitUntil(lambda: panel.current_step() == 100 and not panel.is_busy(), timeout=10_000)
    other = SnapshotStore(tmp_path / "other")
    for i, step in enumerate(STEPS):
        other.add(step, _model(session.tokenizer, 200 + i).state_dict(), {"val_loss": 1.0})
    session.set_snapshots(other)  # a new run: the same steps, other weights
    assert panel.steps() == list(STEPS)
    panel._request_scrub()  # the newest again
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=10_000)
    assert panel.current_step() == 100
    _same_trace(session.trace, run_trace(_expected(session, other, 100), session.context_ids()))


def test_live_drops_a_scrub_still_running(qtbot, panel, session):
    shown = []
    panel.snapshot_shown.connect(shown.append)
    panel.set_step(50)
    panel.go_live()  # before the scrub's trace arrived
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=10_000)
    assert shown == [] and panel.current_step() is None
    _same_trace(session.trace, run_trace(session.model, session.context_ids()))
