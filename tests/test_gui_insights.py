"""The insights panel: logit lens, head ablation (trace, note, measure) and per-token loss."""
import numpy as np
import pytest
import torch
from helpers import CAT_TEXT, tiny_model, traced_session

from engine.corpus import corpus_from_text
from engine.lens import ablation_effect, per_token_loss
from engine.tokenizers import build_tokenizer
from engine.trace import run_trace
from gui.panels.insights import InsightsPanel
from gui.workers import running_threads


@pytest.fixture
def session():
    tok = build_tokenizer("char", CAT_TEXT)
    model = tiny_model(tok.vocab_size)
    # Larger output projections than the GPT-2 init, so switching a head off visibly matters.
    with torch.no_grad():
        for block in model.blocks:
            block.attn.proj.weight.normal_(0, 0.5)
    return traced_session(model, tok, "the cat sat on the mat.")


@pytest.fixture
def panel(qtbot, session):
    p = InsightsPanel(session)
    qtbot.addWidget(p)
    p.resize(900, 600)
    yield p
    p.shutdown()
    assert not running_threads()  # shutdown waits for every thread the panel started


def test_lens_final_row_is_the_traced_prediction(panel, session):
    T = session.trace.ids.shape[1]
    assert panel.lens.position() == T - 1  # the last position by default
    for pos in (T - 1, 3):
        panel.lens.set_position(pos)
        rows = panel.lens.rows()
        assert [r.label for r in rows] == ["embed", "block 0", "final"]
        probs = session.trace.values("probs")[0, pos]
        top = np.argsort(-probs, kind="stable")[:5]
        assert [i for i, _ in rows[-1].top] == top.tolist()
        assert np.allclose([p for _, p in rows[-1].top], probs[top], atol=1e-6)
        assert panel.lens.table.rowCount() == 3 and panel.lens.table.columnCount() == 5
        assert panel.lens.cell_text(2, 0).startswith(session.tokenizer.piece(int(top[0])))


def test_ablating_a_head_sets_a_trace_with_that_head_zeroed(qtbot, panel, session):
    panel.tabs.setCurrentIndex(1)
    panel.ablation.checkbox(1, 0).setChecked(True)
    # Re-traced on a worker: the GUI thread only sets the result.
    qtbot.waitUntil(lambda: session.trace.ablated == ((1, 0),), timeout=10_000)
    trace = session.trace
    assert trace.ablated == ((1, 0),)
    weighted = trace.values("blocks.1.attn.weighted")  # (B, nh, T, hs)
    assert np.all(weighted[0, 0] == 0) and np.any(weighted[0, 1] != 0)
    expected = run_trace(session.model, session.context_ids(), ablate=[(1, 0)])
    assert np.array_equal(trace.values("probs"), expected.values("probs"))
    assert "L1H0" in panel.ablation.note.text()
    shift = panel.ablation.shift()
    assert shift["before"] != shift["after"]
    panel.ablation.reset()
    qtbot.waitUntil(lambda: session.trace.ablated == (), timeout=10_000)
    assert session.trace.ablated == () and "L1H0" not in panel.ablation.note.text()
    # A trace made elsewhere is mirrored by the boxes.
    session.set_trace(run_trace(session.model, session.context_ids(), ablate=[(0, 1)]))
    assert panel.ablation.heads() == [(0, 1)]


def test_measure_runs_ablation_effect_off_the_gui_thread(qtbot, panel, session):
    panel.tabs.setCurrentIndex(1)
    panel.ablation.measure()  # no corpus: says so instead of measuring
    assert "corpus" in panel.ablation.result_label.text()
    corpus = corpus_from_text(CAT_TEXT, tokenizer="char", context_length=16,
                              vocab_from=session.tokenizer)
    session.set_corpus("<text>", corpus)
    panel.ablation.set_heads([(0, 0), (1, 1)])
    panel.ablation.measure()
    assert panel.ablation.is_measuring() and panel.ablation.busy.isVisibleTo(panel.ablation)
    qtbot.waitUntil(lambda: panel.ablation.result() is not None, timeout=20_000)
    qtbot.waitUntil(lambda: not panel.ablation.is_measuring())
    expected = ablation_effect(session.model, corpus, [(0, 0), (1, 1)])
    got = panel.ablation.result()
    assert got["heads"] == [(0, 0), (1, 1)]
    assert got["base_val_loss"] == pytest.approx(expected["base_val_loss"], abs=1e-6)
    assert got["ablated_val_loss"] == pytest.approx(expected["ablated_val_loss"], abs=1e-6)
    assert not panel.ablation.busy.isVisibleTo(panel.ablation)


def test_per_token_loss_colours_every_predicted_token(panel, session):
    panel.tabs.setCurrentIndex(2)
    ids = session.trace.ids[0]
    T = len(ids)
    assert len(panel.loss.colours()) == T - 1
    assert np.allclose(panel.loss.losses(), per_token_loss(session.model, ids))
    tip = panel.loss.strip.tooltip_for(5)
    assert session.tokenizer.piece(int(ids[5])) in tip and "loss" in tip
    # A new context is followed.
    session.context_text = "the dog sat"
    session.set_trace(run_trace(session.model, session.context_ids()))
    assert len(panel.loss.colours()) == len("the dog sat") - 1
