"""The analysis panels show exactly what the trace holds, and follow the session's signals."""
import numpy as np
import pytest
import torch
from helpers import redrawn, tiny_model, traced_session
from PySide6.QtCore import QPointF, Qt

from engine.model.analysis import nearest_tokens
from engine.config import ModelConfig
from engine.model.decoder import GPT, causal_mask
from engine.text.tokenizers import build_tokenizer
from engine.model.trace import run_trace
from gui.panels.attention import AttentionPanel
from gui.panels.embeddings import EmbeddingsPanel
from gui.panels.positional import PositionalPanel
from gui.panels.tokens import TokensPanel
from gui.pieces import context_pieces
from gui.session import Session
from gui.widgets import Heatmap

TEXT = "To be, or not to be: that is the question. 注意力机制是变换器的核心。"
ZH = "我喜欢学习变换器模型"  # cl100k_base cuts 喜, 欢 and 习 into byte fragments


def make_session(positional: str = "sinusoidal", text: str = TEXT) -> Session:
    tok = build_tokenizer("char", text)
    return traced_session(tiny_model(tok.vocab_size, positional=positional), tok, text)


def retrace(session: Session, text: str) -> None:
    session.set_context_text(text)
    session.set_trace(run_trace(session.model, session.context_ids()))


@pytest.fixture
def session(qapp):
    return make_session()


def shown(qtbot, widget):
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


# -- empty state --------------------------------------------------------------------------
@pytest.mark.parametrize("panel", [TokensPanel, EmbeddingsPanel, PositionalPanel, AttentionPanel])
def test_no_model_shows_an_explanation(qtbot, panel):
    view = panel(Session())
    qtbot.addWidget(view)
    assert view.empty.is_empty()
    assert len(view.empty.message.text()) > 20


# -- heatmap widget -----------------------------------------------------------------------
def test_heatmap_shows_matrix_masks_and_reads_out(qtbot):
    hm = shown(qtbot, Heatmap(row_title="query", col_title="key"))
    m = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    m[0, 3] = -np.inf
    hovered, clicked = [], []
    hm.hovered.connect(hovered.append)
    hm.clicked.connect(lambda r, c: clicked.append((r, c)))
    hm.set_matrix(m, ["a", "b", "c"], ["w", "x", "y", "z"], levels=None, title="t")
    assert np.array_equal(hm.current_image(), m)
    assert hm.levels() == (float(m[0, 0]), float(m[2, 3]))  # finite min/max, −∞ ignored
    assert np.isnan(hm.image.image[0, 3])  # drawn transparent over the masked hatch
    assert hm._mask_hatch.isVisible()
    centre = hm.view.mapViewToScene(QPointF(1.5, 2.5))  # column 1, row 2
    hm._on_mouse_moved(centre)
    assert hovered[-1] == f"c, x: {float(m[2, 1]):.6g}"
    assert hm.readout.text() == hovered[-1]
    hm._on_mouse_moved(hm.view.mapViewToScene(QPointF(3.5, 0.5)))
    assert hovered[-1] == "a, z: −∞ (masked)"
    qtbot.mouseClick(hm.graphics.viewport(), Qt.MouseButton.LeftButton,
                     pos=hm.graphics.mapFromScene(centre))
    assert clicked == [(2, 1)]
    hm.set_matrix(np.ones((2, 2)), ["p", "q"], ["r", "s"])
    assert not hm._mask_hatch.isVisible()
    with pytest.raises(ValueError):
        hm.set_matrix(np.ones((2, 2)), ["p"], ["r", "s"])


def test_heatmap_thins_and_elides_many_labels(qtbot):
    hm = shown(qtbot, Heatmap())
    rows = [f"{i} a_very_long_token_piece" for i in range(64)]
    hm.set_matrix(np.zeros((64, 64)), rows, [str(j) for j in range(64)])
    ticks = hm.plot.getAxis("left")._tickLevels[0]
    assert 1 < len(ticks) < 64  # not every row labelled at 600 px
    assert all(len(label) <= 8 for _, label in ticks)
    assert ticks[0][1].endswith("…")


# -- attention ----------------------------------------------------------------------------
def test_attention_heads_equal_trace(qtbot, session):
    view = shown(qtbot, AttentionPanel(session))
    trace = session.trace
    assert view.n_heads() == 2 and view.layer() == 0 and view.stage() == "pattern"
    for h in range(2):
        assert np.array_equal(view.head_image(h), trace["blocks.0.attn.pattern"].values[0, h])
        assert view.head_heatmap(h).levels() == (0.0, 1.0)
    T = trace.ids.shape[1]
    assert view.head_heatmap(0).row_labels() == context_pieces(session)

    view.set_stage("masked")
    masked = view.head_image(1)
    assert np.array_equal(masked, trace["blocks.0.attn.masked"].values[0, 1])
    above = np.triu(np.ones((T, T), dtype=bool), 1)
    assert np.all(np.isneginf(masked[above])) and np.all(np.isfinite(masked[~above]))
    hm = view.head_heatmap(1)
    assert hm.readout_text(0, T - 1).endswith("−∞ (masked)")
    lo, hi = hm.levels()
    assert np.isfinite(lo) and np.isfinite(hi) and lo == -hi  # shared, symmetric
    assert view.head_heatmap(0).levels() == (lo, hi)

    view.set_layer(1)
    assert np.array_equal(view.head_image(0), trace["blocks.1.attn.masked"].values[0, 0])
    assert not np.array_equal(view.head_image(0), masked)
    view.set_stage("scores")
    assert np.array_equal(view.head_image(1), trace["blocks.1.attn.scores"].values[0, 1])


def test_attention_follows_focus_and_enlarges(qtbot, session):
    view = shown(qtbot, AttentionPanel(session))
    trace = session.trace
    session.set_focus("blocks.1.attn.scaled")
    redrawn(qtbot, view)
    assert (view.layer(), view.stage()) == (1, "scaled")
    assert view.form.layer_combo.currentIndex() == 1
    assert view.form.stage_buttons["scaled"].isChecked()
    assert np.array_equal(view.head_image(0), trace["blocks.1.attn.scaled"].values[0, 0])
    session.set_focus("blocks.0.ffn.hidden")  # not an attention stage: layer only
    assert (view.layer(), view.stage()) == (0, "scaled")
    session.set_focus("logits")  # outside the blocks: nothing to follow
    assert view.layer() == 0

    view.enlarge(1)
    redrawn(qtbot, view)
    assert view.pages.currentWidget() is view.single_page
    assert np.array_equal(view.single_page.heatmap.current_image(),
                          trace["blocks.0.attn.scaled"].values[0, 1])
    view.show_grid()
    redrawn(qtbot, view)
    assert view.pages.currentWidget() is view.grid_page

    view.set_stage("mask")
    redrawn(qtbot, view)
    T = trace.ids.shape[1]
    assert np.array_equal(view.head_image(0), causal_mask(T).numpy())
    assert str(T) in view.single_page.note.text()


def test_attention_updates_on_new_trace(qtbot, session):
    view = shown(qtbot, AttentionPanel(session))
    retrace(session, "question that is")
    pattern = session.trace["blocks.0.attn.pattern"].values
    assert view.head_image(0).shape == (16, 16)
    assert np.array_equal(view.head_image(0), pattern[0, 0])
    retrace(session, "be or not")
    assert view.head_image(1).shape == (9, 9)
    assert np.array_equal(view.head_image(1), session.trace["blocks.0.attn.pattern"].values[0, 1])


# -- embeddings ---------------------------------------------------------------------------
def test_embeddings_show_lookup_vector_and_neighbours(qtbot, session):
    view = shown(qtbot, EmbeddingsPanel(session))
    trace = session.trace
    assert np.array_equal(view.lookup_image(), trace["embed.token"].values[0])
    table = session.model.embed.wte.weight.detach().numpy()
    view.select_row(3)
    token = int(trace.ids[0, 3])
    assert view.selected_token() == token
    assert np.array_equal(view.selected_vector(), table[token])
    heights = view.lookup_page.bars.opts["height"]
    assert np.array_equal(np.asarray(heights), table[token])
    expected = nearest_tokens(table, token, k=10)
    assert [i for i, _ in view.neighbours()] == [i for i, _ in expected]
    assert view.map_page.nearest.item(0, 3).text() == f"{expected[0][1]:.6f}"
    assert view.map_page.nearest.item(0, 0).text() == session.tokenizer.piece(expected[0][0])
    assert view.pca_coords().shape == (session.tokenizer.vocab_size, 2)


def test_embeddings_pca_cached_per_weights(qtbot, session):
    view = shown(qtbot, EmbeddingsPanel(session))
    first = view._analysis
    retrace(session, "not to be")
    redrawn(qtbot, view)
    assert view._analysis is first  # a context edit does not recompute the map
    assert np.array_equal(view.lookup_image(), session.trace["embed.token"].values[0])
    with torch.no_grad():
        session.model.embed.wte.weight.mul_(2.0)  # e.g. a training step, in place
    retrace(session, "not to be")
    redrawn(qtbot, view)
    assert view._analysis is not first
    assert np.allclose(view.pca_coords(), 2 * first.coords, atol=1e-5)
    again = view._analysis
    session.set_model(session.model, session.tokenizer)
    redrawn(qtbot, view)
    assert view._analysis is not again


# -- positional ---------------------------------------------------------------------------
def test_positional_table_waves_and_sum(qtbot, session):
    view = shown(qtbot, PositionalPanel(session))
    trace = session.trace
    assert np.array_equal(view.table_image(), trace["embed.position"].values)
    tok, pe, x = view.sum_images()
    assert np.array_equal(tok, trace["embed.token"].values[0])
    assert np.array_equal(pe, trace["embed.position"].values)
    assert np.array_equal(x, trace["embed.sum"].values[0])
    assert view.shown_dims() == [0, 1, 2, 3, 8, 9]
    table = session.model.embed.position_table().numpy()
    xs, ys = view.wave(2)
    assert np.array_equal(xs, np.arange(16)) and np.allclose(ys, table[:, 2])
    assert view.dim_label(4) == "dim 4 (sin, i=2)" and view.dim_label(5) == "dim 5 (cos, i=2)"
    assert view.table.row_values.toPlainText().startswith("PE[1] = 0.841471  0.540302")
    view.set_dims([5])
    assert view.shown_dims() == [5]
    view.waves.positions.setValue(40)  # past the context: the engine's formula continues the waves
    xs, ys = view.wave(5)
    assert len(xs) == 40 and np.isclose(ys[30], np.cos(30 / 10000 ** (4 / 16)), atol=1e-6)
    assert view.waves.beyond.isVisible()

    retrace(session, "be or not")
    assert view.table_image().shape == (9, 16)
    assert np.array_equal(view.table_image(), session.trace["embed.position"].values)


def test_positional_learned(qtbot, qapp):
    session = make_session(positional="learned")
    view = shown(qtbot, PositionalPanel(session))
    assert "learned" in view.title.text() and "learned" in view.table.heatmap.title()
    assert view.dim_label(4) == "dim 4 (learned)"
    assert np.array_equal(view.table_image(), session.trace["embed.position"].values)
    assert view.waves.positions.maximum() == 16


# -- tokens -------------------------------------------------------------------------------
def test_tokens_panel_counts_and_hover(qtbot, session):
    view = shown(qtbot, TokensPanel(session))
    assert view.tokenizer_name() == "char"
    n_text = len(session.tokenizer.encode(TEXT))
    assert view.token_count() == n_text
    assert view.pieces()[:3] == ["T", "o", "·"]  # the space is made visible
    assert view.side.stats["chars"].text() == str(len(TEXT))
    assert view.side.stats["tokens"].text().startswith(str(n_text))
    assert "16 in the model's window" in view.side.stats["tokens"].text()
    tip = view.tooltip_for(0)
    assert "84 (U+0054)" in tip and "compact id" in tip and "bytes: 54" in tip
    assert "outside the model's context window" in view.tooltip_for(20)
    # The document holds every token at the recorded positions (hover maps back to tokens).
    doc = view.view.document()
    assert doc.toPlainText().startswith("To·be,·or")
    for i, piece in enumerate(view.pieces()):
        assert doc.characterAt(view.view.start_of(i)) == piece[0]
        assert view.token_at(view.view.start_of(i)) == i
    assert view.side.table.item(0, 0).text() == "·"  # the most frequent character is the space


def test_tokens_panel_chinese_bytes_under_cl100k(qtbot, qapp):
    session = make_session(text=ZH)
    view = shown(qtbot, TokensPanel(session))
    assert view.token_count() == len(ZH)  # one character per token under "char"
    view.set_tokenizer("cl100k_base")
    assert view.tokenizer_name() == "cl100k_base"
    pieces = view.pieces()
    assert "<e5 96>" in pieces and "<9c>" in pieces  # 喜 = e5 96 9c, cut in two
    i = pieces.index("<e5 96>")
    doc = view.view.document()
    assert all(doc.characterAt(view.view.start_of(k)) == p[0] for k, p in enumerate(pieces))
    tip = view.tooltip_for(i)
    assert "83601" in tip and "bytes: e5 96" in tip and "“喜” (e5 96 9c)" in tip
    assert "compact id" not in tip  # compact ids exist only for the model's own tokenizer
    assert view.rows()[i].compact_id is None and view.side.table.isColumnHidden(3)
    assert b"".join(r.data for r in view.rows()).decode("utf-8") == ZH
    view.set_tokenizer("char")
    assert view.token_count() == len(ZH) and not view.side.table.isColumnHidden(3)


def test_hidden_panels_catch_up_when_asked_or_shown(qtbot, session):
    attention, embeddings = AttentionPanel(session), EmbeddingsPanel(session)
    qtbot.addWidget(attention)
    qtbot.addWidget(embeddings)
    retrace(session, "or not")  # neither panel is visible: nothing is drawn yet
    assert attention._stale and embeddings._stale
    pattern = session.trace["blocks.0.attn.pattern"].values
    assert np.array_equal(attention.head_image(1), pattern[0, 1])
    embeddings.show()
    qtbot.waitExposed(embeddings)
    assert not embeddings._stale
    assert np.array_equal(embeddings.lookup_page.heatmap.current_image(),
                          session.trace["embed.token"].values[0])


def test_new_model_before_its_trace(qtbot, session):
    views = [shown(qtbot, P(session))
             for P in (TokensPanel, EmbeddingsPanel, PositionalPanel, AttentionPanel)]
    tok = session.tokenizer
    cfg = ModelConfig(vocab_size=tok.vocab_size, d_model=32, n_head=4, n_layer=3,
                      context_length=16, d_ff=64)
    model = GPT(cfg)
    session.set_model(model, tok)  # the old trace (2 heads, width 16) is still there
    redrawn(qtbot, *views)
    attention = views[3]
    assert attention.empty.is_empty() and "new model" in attention.empty.message.text()
    assert views[1].empty.is_empty()
    session.set_trace(run_trace(model, session.context_ids()))
    redrawn(qtbot, *views)
    assert not attention.empty.is_empty() and attention.n_heads() == 4
    assert attention.form.layer_combo.count() == 3
    assert np.array_equal(attention.head_image(3),
                          session.trace["blocks.0.attn.pattern"].values[0, 3])
    assert np.array_equal(views[1].lookup_image(), session.trace["embed.token"].values[0])
    assert views[2].table_image().shape == (16, 32)


def test_tokens_panel_follows_new_trace(qtbot, session):
    view = shown(qtbot, TokensPanel(session))
    retrace(session, "be or not")
    assert view.token_count() == 9
    assert view.pieces() == ["b", "e", "·", "o", "r", "·", "n", "o", "t"]
