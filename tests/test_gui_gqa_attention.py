"""The Attention panel for grouped-query models of today's shapes: the GQA map colours each
query head by its K/V head and states the K/V cache per token from the config; the overview
holds every head of 30 blocks × 9 heads (SmolLM2-135M) and 24 × 14 (Qwen2.5-0.5B), at small
width and vocabulary, with the same group colours; the mask shows the sliding window."""
import numpy as np
import pytest
from helpers import redrawn, tiny_model, traced_session

from engine.model.grouped_query import kv_cache_bytes_per_token, kv_groups
from engine.model.numerics import blocked
from engine.text.tokenizers import build_tokenizer
from gui.panels.attention import AttentionPanel
from gui.panels.attention.groups import format_bytes, group_colour, group_spans

TEXT = "Attention lets every token look back. 注意力让每个词看见前面的词。"
FAMILY = dict(positional="rotary", norm="pre", norm_kind="rmsnorm", activation="silu",
              gated=True, bias=False, dropout=0.0, context_length=64, d_ff=32)


def panel_for(qtbot, **shape):
    tok = build_tokenizer("char", TEXT)
    session = traced_session(tiny_model(tok.vocab_size, **FAMILY, **shape).eval(), tok, TEXT)
    view = AttentionPanel(session)
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    qtbot.waitExposed(view)
    redrawn(qtbot, view)
    return view


def test_group_spans_and_bytes():
    assert group_spans([0, 0, 0, 1, 1, 1, 2, 2, 2]) == [(0, 0, 2), (1, 3, 5), (2, 6, 8)]
    assert format_bytes(23040) == "22.5 KiB" and format_bytes(512) == "512 B"


@pytest.mark.parametrize("n_layer, n_head, n_kv_head", [(30, 9, 3), (24, 14, 2)])
def test_overview_and_gqa_map_at_todays_shapes(qtbot, qapp, n_layer, n_head, n_kv_head):
    view = panel_for(qtbot, n_layer=n_layer, n_head=n_head, n_kv_head=n_kv_head,
                     d_model=8 * n_head)
    cfg = view.session.model.config
    assert view.gqa.groups() == kv_groups(cfg)
    assert view.gqa.groups()[-1] == n_kv_head - 1 and len(view.gqa.groups()) == n_head
    assert format_bytes(kv_cache_bytes_per_token(cfg)) in view.gqa.note.text()
    assert f"{n_head // n_kv_head}×" in view.gqa.note.text()
    view.set_overview(True)
    redrawn(qtbot, view)
    assert view.pages.currentWidget() is view.overview_page
    assert view.overview_page.shape() == (n_layer, n_head)
    assert view.overview_page.strip_colours() == [group_colour(g) for g in kv_groups(cfg)]
    trace = view.session.trace
    for layer in (0, n_layer - 1):
        for head in (0, n_head - 1):
            want = trace.previews[f"blocks.{layer}.attn.pattern"][head]
            np.testing.assert_allclose(view.overview_page.image(layer, head), want, rtol=1e-6)
    assert f"({n_layer})" in view.formula.text() and f"({n_head})" in view.formula.text()


def test_mask_shows_the_sliding_window_of_its_block(qtbot, qapp):
    view = panel_for(qtbot, n_layer=2, n_head=4, n_kv_head=2, d_model=32, sliding_window=5,
                     sliding_layers=[True, False])
    T = view.session.trace.ids.shape[1]
    view.set_stage("mask")
    redrawn(qtbot, view)
    shown = view.head_image(0)
    assert np.array_equal(shown, (~blocked(T, 5)).astype(np.float32))
    assert shown[10, 5] == 0 and shown[10, 6] == 1  # 5 keys back is out of the window
    assert "sliding window of 5" in view.formula.text()
    assert "window 5" in view.single_page.heatmap.title()
    view.set_layer(1)  # the global block: the whole past
    redrawn(qtbot, view)
    assert np.array_equal(view.head_image(0), (~blocked(T, None)).astype(np.float32))
    assert "sliding" not in view.formula.text()
    # The masked scores of the windowed block are −∞ exactly outside the window.
    view.set_layer(0)
    view.set_stage("masked")
    redrawn(qtbot, view)
    masked = view.head_image(1)
    assert np.array_equal(~np.isfinite(masked), blocked(T, 5))
