"""Every panel at GPT-2's shape (12 blocks x 12 heads, a 50,258-row table, learned positions up
to 1,024), narrowed to d_model 96 so a trace takes milliseconds: the attention overview of
every head, and each panel built and drawn from a trace without an error."""
import numpy as np
import pytest
from helpers import redrawn, tiny_model, traced_session
from PySide6.QtCore import Qt

from benchmarks.gpt2_small import gpt2_model, gpt2_tokenizer
from engine.text.tokenizers import build_tokenizer
from gui.panels.attention import AttentionPanel
from gui.panels.embeddings import EmbeddingsPanel
from gui.panels.generation import GenerationPanel
from gui.panels.history import HistoryPanel
from gui.panels.insights import InsightsPanel
from gui.panels.positional import PositionalPanel
from gui.panels.tokens import TokensPanel
from gui.panels.walkthrough import WalkthroughPanel
from gui.workers import running_threads

TEXT = ("Attention lets every position gather information from the positions before it, and "
        "a small feed-forward network reworks each position on its own. ") * 12


@pytest.fixture(scope="module")
def gpt2():
    return gpt2_model(d_model=96, seed=3), gpt2_tokenizer()


@pytest.fixture
def session(qapp, gpt2):
    model, tok = gpt2
    s = traced_session(model, tok, TEXT)
    assert s.trace.ids.shape[1] > 200  # long enough that attention is pooled and recomputed
    return s


def shown(qtbot, widget, size=(1100, 700)):
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_overview_shows_every_head_and_a_click_enlarges_one(qtbot, session):
    view = shown(qtbot, AttentionPanel(session))
    redrawn(qtbot, view)
    assert view.overview()  # 144 heads: the panel opens on all of them
    page = view.overview_page
    assert view.pages.currentWidget() is page
    assert page.shape() == (12, 12) and len(page.images()) == 144
    assert view.n_heads() == 12  # the one-block grid is still there for 12 heads
    for layer, head in ((0, 0), (4, 9), (11, 11)):
        expected = session.trace.previews[f"blocks.{layer}.attn.pattern"][head]
        np.testing.assert_array_equal(page.image(layer, head), expected)
    qtbot.mouseClick(page.plot_widget.viewport(), Qt.MouseButton.LeftButton,
                     pos=page.cell_centre(4, 9))
    redrawn(qtbot, view)
    assert (view.layer(), view.enlarged_head()) == (4, 9)
    assert view.pages.currentWidget() is view.single_page
    full = session.trace.values("blocks.4.attn.pattern")[0, 9]  # (T, T), not pooled
    np.testing.assert_array_equal(view.single_page.heatmap.current_image(), full)
    view.single_page.back.emit()
    redrawn(qtbot, view)
    assert view.pages.currentWidget() is page  # back to every head, where the click came from
    view.set_stage("masked")
    redrawn(qtbot, view)
    masked = session.trace.previews["blocks.2.attn.masked"][5]
    shown_masked = page.image(2, 5)
    assert np.array_equal(np.isnan(shown_masked), ~np.isfinite(masked))  # −∞ left blank
    view.set_overview(False)
    redrawn(qtbot, view)
    assert view.pages.currentWidget() is view.grid_page


def test_the_articles_model_still_opens_block_by_block(qtbot, qapp):
    text = "the cat sat on the mat. " * 4
    tok = build_tokenizer("char", text)
    model = tiny_model(tok.vocab_size, n_layer=8, n_head=4, d_model=16)
    view = shown(qtbot, AttentionPanel(traced_session(model, tok, text)))
    redrawn(qtbot, view)
    assert not view.overview() and view.pages.currentWidget() is view.grid_page
    view.form.overview_button.click()  # the user asks for every block
    redrawn(qtbot, view)
    assert view.overview() and view.overview_page.shape() == (8, 4)


@pytest.mark.parametrize("panel_type", [AttentionPanel, EmbeddingsPanel, PositionalPanel,
                                        TokensPanel])
def test_views_draw_a_gpt2_sized_trace(qtbot, session, panel_type):
    view = shown(qtbot, panel_type(session))
    try:
        redrawn(qtbot, view)
        assert not view.empty.is_empty()
        view.grab()  # painted without an error
    finally:
        getattr(view, "shutdown", lambda: None)()


def test_embeddings_map_a_sample_and_search_the_whole_table(qtbot, session):
    from engine.model.analysis import MAP_SAMPLE, cosine_to_all

    view = shown(qtbot, EmbeddingsPanel(session))
    try:
        redrawn(qtbot, view)
        assert view.analysing()  # the table's analysis runs off the GUI thread
        qtbot.waitUntil(lambda: not view.analysing(), timeout=20_000)
        redrawn(qtbot, view)
        drawn = view.map_page.vocab_points.data["data"]
        assert 0 < len(drawn) <= MAP_SAMPLE < session.model.config.vocab_size
        assert view.pca_coords().shape == (session.model.config.vocab_size, 2)
        table = session.model.embed.wte.weight.detach().numpy()
        token = view.selected_token()
        sims = cosine_to_all(table, token)  # float64 over all 50,258 rows
        brute = [j for j in np.argsort(-sims, kind="stable") if j != token][:10]
        assert [i for i, _ in view.neighbours()] == brute
        np.testing.assert_allclose([c for _, c in view.neighbours()], sims[brute], atol=1e-12)
        view.select_token(50_000)  # a token far outside the sample and the context
        assert [i for i, _ in view.neighbours()][0] == int(
            [j for j in np.argsort(-cosine_to_all(table, 50_000), kind="stable")
             if j != 50_000][0])
    finally:
        view.shutdown()


def test_walkthrough_steps_and_checks_a_gpt2_sized_trace(qtbot, session):
    view = shown(qtbot, WalkthroughPanel(session), (1400, 900))
    try:
        names = session.trace.names()
        for name in ["blocks.11.attn.pattern", "blocks.11.ffn.act", "logits", "probs"]:
            if name != "blocks.11.ffn.act":  # (T, 384) is small enough to keep
                assert not session.trace[name].kept  # recomputed for the view and its check
            view.go_to(name)
            qtbot.waitUntil(lambda: view._checks.known(name) is not None, timeout=20_000)
            assert view._checks.known(name).passed, name
            assert view.current_name() == name
        assert len(names) == 4 + 12 * 17 + 3  # every step of every block is there
        # The (T, 50,258) logits: every number in the table, the first rows in the heatmap.
        from gui.panels.walkthrough.values import HEATMAP_MAX_CELLS

        view.go_to("logits")
        T, V = session.trace["logits"].shape[1:]
        assert view.values.table_model.rowCount() == T
        drawn = view.values.heatmap.current_image()
        assert drawn.shape == (HEATMAP_MAX_CELLS // V, V) and drawn.shape[0] < T
        np.testing.assert_array_equal(drawn, session.trace.values("logits")[0, :drawn.shape[0]])
    finally:
        view.shutdown()


def test_insights_generation_history_work_at_gpt2_size(qtbot, session):
    insights = shown(qtbot, InsightsPanel(session))
    generation = shown(qtbot, GenerationPanel(session))
    history = shown(qtbot, HistoryPanel(session))
    try:
        qtbot.waitUntil(lambda: not generation.is_running() and generation.has_logits(),
                        timeout=20_000)
        assert 0 < generation.bar_values().sum() <= 1 + 1e-5
        generation.run(3)
        qtbot.waitUntil(lambda: not generation.is_running(), timeout=20_000)
        assert len(generation.generated_ids()) == 3
        redrawn(qtbot, insights.lens)
        qtbot.waitUntil(lambda: len(insights.lens.rows()) > 0, timeout=20_000)  # off-thread
        rows = insights.lens.rows()
        assert len(rows) == 13  # the embedding and every block
        assert rows[-1].top[0][0] == int(session.trace.top_ids[0, insights.lens.position(), 0])
        insights.tabs.setCurrentWidget(insights.loss)
        redrawn(qtbot, insights.loss)
        assert insights.loss.losses().shape == (session.trace.ids.shape[1] - 1,)
        np.testing.assert_allclose(insights.loss.losses(), session.trace.next_loss[0])
        insights.grab()
        history.grab()
    finally:
        for p in (insights, generation, history):
            p.shutdown()
    assert not running_threads()


def test_the_loss_view_reads_the_trace_instead_of_running_the_model(qtbot, session,
                                                                     monkeypatch):
    """The trace of the shown model already measured every next token's loss (off the GUI
    thread): the loss view must not run a GPT-2-sized forward on the GUI thread again."""
    from gui.panels.insights import readings

    def no_forward(*args, **kwargs):
        raise AssertionError("the loss view ran the model on the GUI thread")

    monkeypatch.setattr(readings.LossReading, "of", staticmethod(no_forward))
    assert session.trace.made_by(session.model)
    insights = shown(qtbot, InsightsPanel(session))
    try:
        insights.tabs.setCurrentWidget(insights.loss)
        redrawn(qtbot, insights.loss)
        np.testing.assert_allclose(insights.loss.losses(), session.trace.next_loss[0])
    finally:
        insights.shutdown()


def test_a_window_opens_a_gpt2_shaped_file_on_every_head(qtbot, qapp, gpt2, tmp_path):
    from engine.storage.checkpoint import save_checkpoint
    from gui.window import MainWindow
    from gui.window.documents import FIRST_CONTEXT_TOKENS

    path = save_checkpoint(tmp_path / "gpt2.safetensors", *gpt2)  # saved without its text
    w = MainWindow(restore_layout=False, load_default=False)
    w.show()
    try:
        w.open_model(str(path))
        qtbot.waitUntil(lambda: w.session.trace is not None, timeout=30_000)
        # It opens on something to trace, a first context of at most FIRST_CONTEXT_TOKENS.
        assert 100 < w.session.trace.ids.shape[1] <= FIRST_CONTEXT_TOKENS
        w.raise_panel("attention")
        redrawn(qtbot, w.attention_panel)
        assert w.attention_panel.overview()
        assert len(w.attention_panel.overview_page.images()) == 144
    finally:
        w.close()
        qtbot.wait(10)
        w.deleteLater()
