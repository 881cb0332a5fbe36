"""The Attention panel's logic without widgets: the stages in order, which stage and layer a
walkthrough step points at, and the shape of the grid of heads."""
import pytest

from gui.panels.attention.stages import (
    STAGE_NAMES,
    STAGE_NOTES,
    STAGES,
    TRACED_STAGES,
    checked_stage,
    focus_target,
    grid_columns,
    step_name,
)


def test_stages_in_order_each_with_a_name_and_the_traced_ones_with_a_note():
    assert STAGES == ("scores", "scaled", "masked", "pattern", "mask")
    assert set(STAGE_NAMES) == set(STAGES)
    assert set(STAGE_NOTES) == set(TRACED_STAGES)


def test_checked_stage():
    assert checked_stage("softmax") == "pattern"
    assert [checked_stage(s) for s in STAGES] == list(STAGES)
    with pytest.raises(ValueError, match="unknown stage"):
        checked_stage("values")


@pytest.mark.parametrize("name, target", [
    ("blocks.1.attn.scaled", (1, "scaled")),
    ("blocks.0.attn.pattern", (0, "pattern")),
    ("blocks.2.attn.q", (2, None)),  # attention, but not one of the stages shown
    ("blocks.0.ffn.hidden", (0, None)),  # in a block: the layer only
    ("logits", (None, None)),  # outside the blocks: nothing to follow
    ("embed.token", (None, None)),
])
def test_focus_target(name, target):
    assert focus_target(name) == target


def test_step_name_round_trips_through_focus():
    for stage in TRACED_STAGES:
        assert focus_target(step_name(3, stage)) == (3, stage)


@pytest.mark.parametrize("n_head, cols", [(0, 0), (1, 1), (2, 2), (4, 2), (5, 3), (9, 3), (12, 4)])
def test_grid_columns(n_head, cols):
    assert grid_columns(n_head) == cols
