"""The insights panel: logit lens, head ablation (trace, note, measure) and per-token loss;
its plain logic (gui.panels.insights.readings, .jobs) without widgets."""
import math

import numpy as np
import pytest
import torch
from helpers import CAT_TEXT, redrawn, tiny_model, traced_session
from PySide6.QtGui import QColor

from engine.text.corpus import corpus_from_text
from engine.model.lens import ablation_effect, per_token_loss
from engine.text.tokenizers import build_tokenizer
from engine.model.trace import run_trace
from gui.panels.insights import InsightsPanel
from gui.panels.insights.jobs import SHIFT_TOP_K, measure_job, shift_job, validation_batches
from gui.panels.insights.readings import (
    LossReading,
    head_name,
    head_names,
    lens_agrees,
    lens_colour,
    next_id,
    scale_ticks,
    shift_bars,
    trace_ids,
)
from gui.widgets.flow import text_colour
from gui.session import Session
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
    expected = ablation_effect(session.model, validation_batches(session.model, corpus),
                               [(0, 0), (1, 1)])
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


def test_only_the_newest_tick_is_applied(qtbot, panel, session):
    seen = []
    session.trace_changed.connect(lambda: seen.append(session.trace.ablated))
    panel.ablation.set_heads([(0, 0)])
    panel.ablation.set_heads([(1, 1)])  # before the first one's answer arrives
    qtbot.waitUntil(lambda: session.trace.ablated == ((1, 1),), timeout=10_000)
    qtbot.waitUntil(lambda: not panel.ablation.is_updating(), timeout=10_000)
    assert seen == [((1, 1),)]
    assert panel.ablation.heads() == [(1, 1)]


def test_a_trace_set_elsewhere_drops_a_tick_on_its_way(qtbot, panel, session):
    panel.ablation.set_heads([(0, 0)])
    other = run_trace(session.model, session.context_ids(), ablate=[(1, 0)])
    session.set_trace(other)
    assert not panel.ablation.is_updating() and panel.ablation.heads() == [(1, 0)]
    # The shift of the new trace runs after the dropped tick on the same thread.
    qtbot.waitUntil(lambda: panel.ablation.shift() is not None
                    and not panel.ablation.is_updating(), timeout=10_000)
    assert session.trace is other and panel.ablation.heads() == [(1, 0)]


def test_tabs_draw_only_when_on_screen(qtbot, panel, session):
    panel.show()
    qtbot.waitExposed(panel)
    redrawn(qtbot, panel.lens, panel.ablation, panel.loss)
    session.context_text = "the dog sat"
    session.set_trace(run_trace(session.model, session.context_ids()))
    redrawn(qtbot, panel.lens)
    assert not panel.lens._stale  # the tab on screen caught up by itself
    assert panel.loss._stale  # the hidden one waits
    panel.tabs.setCurrentIndex(2)
    assert not panel.loss._stale and len(panel.loss.colours()) == len("the dog sat") - 1


def test_no_model_shows_the_empty_state(qtbot):
    p = InsightsPanel(Session())
    qtbot.addWidget(p)
    assert p.empty.is_empty()
    assert p.lens.rows() == [] and len(p.loss.losses()) == 0 and p.ablation.heads() == []
    p.shutdown()


# -- the plain logic ----------------------------------------------------------------------------

def test_head_names():
    assert head_name(1, 0) == "L1H0"
    assert head_names([(0, 0), (1, 1)]) == "L0H0, L1H1" and head_names([]) == ""


def test_trace_ids_are_the_trace_s_else_the_context(session):
    assert np.array_equal(trace_ids(session), session.trace.ids)
    untraced = Session()
    untraced.set_model(session.model, session.tokenizer)
    untraced.context_text = "the cat"
    assert trace_ids(untraced).shape == (1, len("the cat"))
    untraced.context_text = ""
    assert trace_ids(untraced).shape == (1, 0)


def test_colours_of_cells_and_their_text():
    assert lens_colour(0.0).getRgb()[:3] == (255, 255, 255)
    assert lens_colour(1.0).getRgb()[:3] == (33, 102, 172)
    assert lens_colour(2.0) == lens_colour(1.0)  # clipped
    assert text_colour(QColor(20, 20, 60)) == QColor(255, 255, 255)
    assert text_colour(QColor(250, 250, 250)) == QColor(20, 20, 20)


def test_lens_reading_helpers():
    assert next_id([5, 6, 7], 1) == 7 and next_id([5, 6, 7], 2) is None
    probs = np.array([0.1, 0.7, 0.2])
    assert lens_agrees([(1, 0.7), (2, 0.2)], probs)
    assert not lens_agrees([(1, 0.6)], probs)


def test_loss_reading_is_per_token_loss_on_a_scale(session):
    ids = session.trace.ids[0]
    reading = LossReading.of(session.model, ids, session.tokenizer.vocab_size)
    assert np.allclose(reading.loss, per_token_loss(session.model, ids))
    assert reading.uniform == pytest.approx(math.log(session.tokenizer.vocab_size))
    assert reading.high == max(float(reading.loss.max()), reading.uniform)
    fractions = reading.fractions()
    assert fractions.min() >= 0 and fractions.max() <= 1
    assert len(reading.colours()) == len(ids) - 1
    assert reading.loss[reading.worst()] == reading.loss.max()


def test_scale_ticks_are_round_and_cover_the_scale():
    assert scale_ticks(7.86) == [0.0, 2.0, 4.0, 6.0]  # as the bundled model's bar reads
    assert scale_ticks(12.0) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0]
    assert scale_ticks(1.0)[:3] == pytest.approx([0.0, 0.2, 0.4])


def test_shift_bars_keep_the_intact_order_and_skip_unreported_tokens():
    bars = shift_bars({"before": [(4, 0.5), (2, 0.3)], "after": [(2, 0.6), (9, 0.1)]})
    assert bars.order == [4, 2, 9]
    assert bars.before_x.tolist() == [-0.2, 0.8] and bars.before_height.tolist() == [0.5, 0.3]
    assert bars.after_x.tolist() == [1.2, 2.2] and bars.after_height.tolist() == [0.6, 0.1]
    assert bars.top == 0.6
    assert shift_bars({"before": [], "after": []}).top == 1.0


def test_shift_job_retraces_with_the_heads_off(session):
    ids = session.context_ids()[None]
    result = shift_job(session.model, ids, [(1, 0)], retrace=True)
    expected = run_trace(session.model, ids, ablate=[(1, 0)])
    assert result.trace.ablated == ((1, 0),)
    assert np.array_equal(result.trace.values("probs"), expected.values("probs"))
    assert len(result.shift["before"]) == SHIFT_TOP_K
    assert shift_job(session.model, ids, [(1, 0)], retrace=False).trace is None


def test_measure_job_is_ablation_effect_with_progress(session):
    corpus = corpus_from_text(CAT_TEXT, tokenizer="char", context_length=16,
                              vocab_from=session.tokenizer)
    reports = []
    got = measure_job(lambda done, total: reports.append((done, total)), session.model,
                      corpus, [(0, 1)])
    assert got == ablation_effect(session.model, validation_batches(session.model, corpus),
                                  [(0, 1)])
    assert reports == [(0, 1), (1, 1)]
