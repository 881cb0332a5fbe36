"""The model map beside the walkthrough (#22.10): drawn from the trace's own steps, shapes on
its arrows, the current step lit, a click on any box lands on its step, a deep model's other
blocks folded to one row each, in English and Chinese."""
from __future__ import annotations

import pytest
from helpers import tiny_model, traced_session
from PySide6.QtCore import Qt

from engine.model.steps import short_shape, step_layer
from gui import i18n
from gui.panels.walkthrough import WalkthroughPanel
from gui.panels.walkthrough.map_layout import layout, part_of


def _panel(qtbot, n_layer: int, **cfg):
    from engine.text.corpus import corpus_from_text

    corpus = corpus_from_text("the cat sat on the mat. " * 20, tokenizer="char", context_length=8)
    model = tiny_model(corpus.tokenizer.vocab_size, n_layer=n_layer, context_length=8, **cfg)
    session = traced_session(model, corpus.tokenizer, "the cat sat")
    panel = WalkthroughPanel(session)
    qtbot.addWidget(panel)
    panel.resize(900, 700)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def _click(qtbot, panel, step: str) -> None:
    view = panel.model_map
    point = view.click_point(step)
    assert point is not None, f"no box goes to {step}"
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point.toPoint())


@pytest.mark.parametrize("n_layer", [2, 12])  # every block open; GPT-2's depth, folded
def test_a_click_on_every_box_lands_on_its_step(qtbot, n_layer):
    panel = _panel(qtbot, n_layer)
    view = panel.model_map
    for start in (panel.step_names()[0], f"blocks.{n_layer - 1}.attn.k"):
        panel.go_to(start)
        targets = [box.step for box in view.layout_.boxes]
        assert len(targets) == len(set(targets))
        for step in targets:
            panel.go_to(start)  # the map as it was: a click may open another block
            _click(qtbot, panel, step)
            assert panel.current_name() == step
            assert panel.session.focus == step
            lit = [box.step for box in view.layout_.boxes if box.lit]
            assert lit == [step], "the step clicked is the one lit"


@pytest.mark.parametrize("n_layer", [2, 12])
def test_every_step_has_its_box_lit_when_shown(qtbot, n_layer):
    panel = _panel(qtbot, n_layer)
    for name in panel.step_names():
        panel.go_to(name)
        box = panel.model_map.layout_.box_of(name)
        assert box is not None and box.lit, name


def test_at_gpt2_depth_the_other_blocks_fold_to_one_row(qtbot):
    panel = _panel(qtbot, 12)
    panel.go_to("blocks.5.ffn.act")
    lay = panel.model_map.layout_
    for layer in range(12):
        boxes = [b for b in lay.boxes if step_layer(b.step) == layer]
        parts = [part_of(b.step) for b in boxes]
        if layer == 5:  # open: one box per step of the block
            assert len(boxes) == sum(step_layer(n) == 5 for n in panel.step_names())
        else:  # folded: one row, one box per group (attn, resid1, ln1, ffn, resid2, ln2)
            assert len({b.y for b in boxes}) == 1, layer
            assert parts == ["attn", "resid1", "ln1", "ffn", "resid2", "ln2"], layer
    # The whole model still fits in a few screens: 12 rows and one open block.
    assert lay.height < 1400


def test_the_arrows_carry_the_shapes_and_the_groups_follow_the_steps(qtbot):
    panel = _panel(qtbot, 2, norm="pre")
    lay = panel.model_map.layout_
    trace = panel.session.trace
    labels = [a.label for a in lay.arrows]
    assert short_shape(trace["tokens"].shape) == labels[0]
    assert short_shape(trace["embed.sum"].shape) in labels
    assert short_shape(trace["blocks.0.ffn.hidden"].shape) not in labels  # inside its group
    # The layout reads the steps in the trace's order: a wiring the map has never seen is
    # drawn with its own groups (a gated MLP's extra step, a made-up norm).
    steps = [(s.name, s.shape) for s in trace]
    steps.insert(steps.index(("blocks.0.ffn.act", trace["blocks.0.ffn.act"].shape)) + 1,
                 ("blocks.0.ffn.gate", (1, 3, 32)))
    words = panel.model_map._words()
    other = layout(steps, "blocks.0.ffn.gate", words)
    assert other.box_of("blocks.0.ffn.gate").lit
    assert [f.title for f in other.frames].count("Feed-forward") == 2  # both blocks open


def test_the_map_speaks_chinese(qtbot):
    panel = _panel(qtbot, 12)
    try:
        i18n.switch(panel.session, "zh")
        panel.go_to("blocks.3.attn.q")
        titles = [f.title for f in panel.model_map.layout_.frames]
        assert "第 3 块" in titles and "注意力" in titles and "第 0 块" in titles
        labels = [b.label for b in panel.model_map.layout_.boxes]
        assert "词元编号" in labels and "掩码" in labels and "前馈" in labels
        assert "Block 3" not in titles and "Attention" not in titles
    finally:
        i18n.switch(panel.session, "en")
    assert "Block 3" in [f.title for f in panel.model_map.layout_.frames]
