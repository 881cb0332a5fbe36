"""The Positional panel of a rotary (Llama-style) model: no table to draw, and it says so; the
frequency waves are the model's angle table; the arrows are the trace's q and k pairs before
and after turning; the relative table shows the model's scores equal along each distance."""
import numpy as np
import pytest
from helpers import redrawn, tiny_model, traced_session

from engine.model.rotary_readings import relative_scores
from engine.text.tokenizers import build_tokenizer
from gui.panels.positional import PositionalPanel

TEXT = "To be, or not to be: that is the question. 注意力机制。"
LLAMA = dict(d_model=32, n_head=4, n_kv_head=2, positional="rotary", norm="pre",
             norm_kind="rmsnorm", activation="silu", gated=True, bias=False, dropout=0.0,
             context_length=64)


@pytest.fixture
def view(qtbot, qapp):
    tok = build_tokenizer("char", TEXT)
    session = traced_session(tiny_model(tok.vocab_size, **LLAMA).eval(), tok, TEXT)
    panel = PositionalPanel(session)
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    qtbot.waitExposed(panel)
    redrawn(qtbot, panel)
    return panel


def test_rotary_model_says_it_has_no_table_and_shows_rotary_tabs(view):
    assert view.rotary_shown()
    assert "no position table" in view.title.text()
    assert view.rotary_tabs.isTabEnabled(1) and view.rotary_tabs.isTabEnabled(2)
    # The table's own waves, asked to draw this model anyway, say why they draw nothing.
    view.waves.set_model(view.session.model)
    assert "no position table" in view.waves.note.text() and not view.waves.shown_dims()


def test_frequency_waves_are_the_models_angles(view):
    waves = view.rotary_waves
    assert waves.shown_pairs() == [0, 1, 2, 3]  # 4 pairs per head of 8: all default ones
    theta = view.session.trace["rope.freq"].values
    assert waves.pair_list.count() == len(theta) == 4
    waves.set_pairs([1])
    curves = waves.plot.getPlotItem().listDataItems()
    assert len(curves) == 2  # cos and sin
    x, y = curves[0].getData()
    np.testing.assert_allclose(y, np.cos(np.arange(64) * theta[1]), atol=1e-6)


def test_arrows_are_the_traces_pairs_and_turn(qtbot, view):
    view.arrows.moved.setChecked(False)  # each position's own token, as the trace holds it
    view.arrows.layer.setValue(1)
    view.arrows.head.setValue(3)
    view.arrows.pair.setValue(0)
    redrawn(qtbot, view)
    a = view.arrows.arrows()
    trace = view.session.trace
    assert a.kv_head == 1 and a.dims == (0, 4)
    np.testing.assert_allclose(a.q_after, trace["blocks.1.attn.q_rot"].values[0][3][:, [0, 4]])
    np.testing.assert_allclose(a.k_before, trace["blocks.1.attn.k"].values[0][1][:, [0, 4]])
    turn = np.angle(a.q_after[:, 0] + 1j * a.q_after[:, 1]) - np.angle(
        a.q_before[:, 0] + 1j * a.q_before[:, 1])
    np.testing.assert_allclose(np.cos(turn), np.cos(np.arange(len(turn)) * a.theta), atol=1e-4)
    assert "q of head 3" in view.arrows.plots[0].getPlotItem().titleLabel.text


def test_relative_table_is_the_engines_and_equal_along_rows(qtbot, view):
    r = view.relative
    r.head.setValue(2)
    r.key_pos.setValue(5)
    redrawn(qtbot, view)
    shown = r.shown()
    T = view.session.trace.ids.shape[1]
    assert (shown.query_pos, shown.key_pos) == (T - 1, 5)
    want = relative_scores(view.session.model.config, view.session.trace, 0, 2, T - 1, 5)
    np.testing.assert_array_equal(shown.scores, want.scores)
    assert shown.spread().max() < 1e-9
    assert r.table.item(1, 0).text() == f"{want.scores[1, 0]:+.9f}"
    assert r.table.rowCount() == 5 and r.table.columnCount() == 6


def test_one_token_carried_along_turns_by_position_angle(qtbot, view):
    assert view.arrows.moved.isChecked()  # the turn alone is shown first
    view.arrows.token.setValue(4)
    redrawn(qtbot, view)
    a = view.arrows.arrows()
    q4 = view.session.trace["blocks.0.attn.q"].values[0][0][4][[0, 4]]
    np.testing.assert_allclose(a.q_before, np.repeat(q4[None], 8, 0), rtol=1e-6)
    c, s = np.cos(np.arange(8) * a.theta), np.sin(np.arange(8) * a.theta)
    want = np.stack([q4[0] * c - q4[1] * s, q4[0] * s + q4[1] * c], -1)
    np.testing.assert_allclose(a.q_after, want, atol=1e-6)
    # At the token's own position the turned arrow is the trace's own q_rot.
    np.testing.assert_allclose(a.q_after[4],
                               view.session.trace["blocks.0.attn.q_rot"].values[0][0][4][[0, 4]],
                               atol=1e-6)
    assert "token 4" in view.arrows.note.text()
