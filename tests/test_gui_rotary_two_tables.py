"""The Positional panel of a model with two rotary tables (Gemma 3: a global base, scaled, for
its full-attention blocks; a local base for its sliding-window blocks): the waves offer both,
each named with its base, scaling and blocks; the arrows and the relative table of a block use
that block's own table, and agree with the trace's own numbers for it."""
import numpy as np
import pytest
from helpers import redrawn, tiny_model, traced_session

from engine.model.rotary_readings import rotary_tables, table_of, turned
from engine.text.tokenizers import build_tokenizer
from gui.panels.positional import PositionalPanel

TEXT = "To be, or not to be: that is the question. 注意力机制。"
GEMMA3_LIKE = dict(d_model=32, n_head=4, n_kv_head=2, n_layer=3, positional="rotary",
                   norm="pre", norm_kind="rmsnorm", activation="gelu_tanh", gated=True,
                   bias=False, dropout=0.0, context_length=64, rope_theta=1e6,
                   rope_scaling={"kind": "linear", "factor": 8.0}, rope_local_theta=1e4,
                   sliding_window=6, sliding_layers=[True, True, False])
SLIDING, GLOBAL = 1, 2  # a block of each kind


@pytest.fixture
def view(qtbot, qapp):
    tok = build_tokenizer("char", TEXT)
    session = traced_session(tiny_model(tok.vocab_size, **GEMMA3_LIKE).eval(), tok, TEXT)
    panel = PositionalPanel(session)
    qtbot.addWidget(panel)
    panel.resize(1000, 650)
    panel.show()
    qtbot.waitExposed(panel)
    redrawn(qtbot, panel)
    return panel


def test_engine_names_both_tables_and_their_blocks():
    cfg = tiny_model(8, **GEMMA3_LIKE).config
    glob, local = rotary_tables(cfg)
    assert (glob.local, glob.base, glob.scaling, glob.factor, glob.blocks) == (
        False, 1e6, "linear", 8.0, (2,))
    assert (local.local, local.base, local.scaling, local.blocks) == (True, 1e4, None, (0, 1))
    assert local.blocks_text() == "0–1" and table_of(cfg, SLIDING) == local
    assert table_of(cfg, GLOBAL) == glob
    one = tiny_model(8, **{**GEMMA3_LIKE, "rope_local_theta": None}).config
    assert [t.blocks for t in rotary_tables(one)] == [(0, 1, 2)]  # Llama: one table, all blocks


def _curve(waves, pair):
    waves.set_pairs([pair])
    x, y = waves.plot.getPlotItem().listDataItems()[0].getData()  # the cos curve
    return y


def test_waves_switch_between_the_two_tables_each_labelled(view):
    waves, trace = view.rotary_waves, view.session.trace
    assert waves.table_box.isVisibleTo(view) and waves.table_box.count() == 2
    assert [waves.table_box.itemText(i) for i in range(2)] == [
        "global (full-attention blocks)", "local (sliding-window blocks)"]
    # Block 0 (the arrows' first block) is a sliding one: its local table is shown first.
    assert waves.shown_table().local
    assert waves.table_note.text() == "Local table: base 10000, unscaled; sliding-window blocks 0–1"
    local, glob = trace["rope_local.freq"].values, trace["rope.freq"].values
    assert not np.allclose(local, glob)
    np.testing.assert_allclose(_curve(waves, 3), np.cos(np.arange(64) * local[3]), atol=1e-6)
    assert "base 10000" in waves.note.text() and "global one (base 1e+06)" in waves.note.text()
    waves.table_box.setCurrentIndex(0)
    assert not waves.shown_table().local
    assert waves.table_note.text() == (
        "Global table: base 1e+06, scaled (linear ×8); full-attention blocks 2")
    np.testing.assert_allclose(_curve(waves, 3), np.cos(np.arange(64) * glob[3]), atol=1e-6)
    assert waves.pair_list.item(3).text().endswith(f"{glob[3]:.6g}")
    assert "linear ×8" in waves.note.text()


def test_the_waves_follow_the_block_chosen(qtbot, view):
    view.arrows.layer.setValue(GLOBAL)
    assert not view.rotary_waves.shown_table().local
    view.relative.layer.setValue(SLIDING)
    assert view.rotary_waves.shown_table().local


@pytest.mark.parametrize("layer, step", [(SLIDING, "rope_local.freq"), (GLOBAL, "rope.freq")])
def test_arrows_turn_with_the_blocks_own_table(qtbot, view, layer, step):
    view.arrows.moved.setChecked(False)  # each position's own token, as the trace holds it
    view.arrows.layer.setValue(layer)
    view.arrows.head.setValue(1)
    view.arrows.pair.setValue(2)
    redrawn(qtbot, view)
    a, trace = view.arrows.arrows(), view.session.trace
    theta = trace[step].values[2]
    assert a.local == (layer == SLIDING) and a.theta == pytest.approx(theta, rel=1e-6)
    np.testing.assert_allclose(a.q_after, trace[f"blocks.{layer}.attn.q_rot"].values[0][1][:, a.dims])
    turn = np.angle(a.q_after[:, 0] + 1j * a.q_after[:, 1]) - np.angle(
        a.q_before[:, 0] + 1j * a.q_before[:, 1])
    np.testing.assert_allclose(np.cos(turn), np.cos(np.arange(len(turn)) * theta), atol=1e-4)
    kind = "sliding-window" if layer == SLIDING else "full-attention"
    assert f"Block {layer} is a {kind} block" in view.arrows.note.text()
    # The token carried along the positions turns by the same table's angle.
    view.arrows.moved.setChecked(True)
    redrawn(qtbot, view)
    m = view.arrows.arrows()
    q = m.q_before[0]
    c, s = np.cos(np.arange(8) * theta), np.sin(np.arange(8) * theta)
    np.testing.assert_allclose(m.q_after, np.stack([q[0] * c - q[1] * s, q[0] * s + q[1] * c],
                                                   -1), atol=1e-6)


@pytest.mark.parametrize("layer", [SLIDING, GLOBAL])
def test_relative_table_uses_the_blocks_table_and_is_the_models_score(qtbot, view, layer):
    r, trace, cfg = view.relative, view.session.trace, view.session.model.config
    r.layer.setValue(layer)
    r.head.setValue(3)
    r.query_pos.setValue(2)
    r.key_pos.setValue(1)
    redrawn(qtbot, view)
    shown = r.shown()
    assert shown.local == (layer == SLIDING)
    assert shown.spread().max() < 1e-9  # score(m, n) == score(m + s, n + s)
    # Δ = 1, s = 1 puts q and k back where they were read: the model's own scaled score.
    own = trace[f"blocks.{layer}.attn.scaled"].values[0][3][2, 1]
    assert shown.scores[1, 1] == pytest.approx(float(own), rel=1e-4, abs=1e-6)
    # Turned with the other table, the same q and k score differently: the table matters.
    q = trace[f"blocks.{layer}.attn.q"].values[0][3][2]  # (hs,) head 3, token 2
    k = trace[f"blocks.{layer}.attn.k"].values[0][1][1]  # (hs,) its K/V head 1, token 1
    wrong = (turned(cfg, q[None], np.array([2]), not shown.local)
             @ turned(cfg, k[None], np.array([1]), not shown.local).T).item() * cfg.score_scale
    assert abs(wrong - shown.scores[1, 1]) > 1e-4
    kind = "sliding-window" if layer == SLIDING else "full-attention"
    assert f"Block {layer} is a {kind} block" in r.heading.text()


def test_the_tables_words_in_chinese(qtbot, view):
    from PySide6.QtCore import QCoreApplication

    from gui import i18n
    try:
        assert i18n.install("zh") == "zh"
        QCoreApplication.processEvents()
        view.arrows.layer.setValue(SLIDING)
        view.rotary_waves.show_table(True)
        redrawn(qtbot, view)
        assert view.rotary_waves.table_note.text() == (
            "局部角度表：base = 10000，不缩放；用于滑动窗口块 0–1")
        assert view.rotary_waves.table_box.itemText(0) == "全局（全注意力块）"
        note = view.arrows.note.text()
        assert note.startswith("块 1 是滑动窗口块：它用局部角度表旋转（base = 10000，不缩放）。")
        assert "。 " not in note  # Chinese sentences follow each other with no space
    finally:
        i18n.install("en")


def test_a_smaller_model_after_a_later_block_was_chosen(qtbot, view):
    tok = build_tokenizer("char", TEXT)
    view.arrows.layer.setValue(GLOBAL)
    small = tiny_model(tok.vocab_size, **{**GEMMA3_LIKE, "n_layer": 2,
                                          "sliding_layers": [True, False]}).eval()
    view.session.set_model(small, tok)  # block 2 does not exist any more
    redrawn(qtbot, view)
    assert [t.blocks for t in view.rotary_waves.tables()] == [(1,), (0,)]
    assert view.arrows.layer.value() <= 1
