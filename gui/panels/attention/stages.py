"""The attention stages the panel can show and what each means, with no widgets: the order
scores QKᵀ → scaled ÷√hs → masked (+ causal mask) → softmax, then the mask itself; which
stage a walkthrough step names; and how many columns a grid of heads has."""
from __future__ import annotations

import math

from engine.model.registry import KINDS, STAGES as TRACED_STAGES, step_kind, step_layer

# TRACED_STAGES: the attention maps the step registry declares (trace steps blocks.L.attn.<stage>),
# in forward order; the mask is drawn by the panel itself.
STAGES = (*TRACED_STAGES, "mask")
CONTEXT = "AttentionStages"  # the translation context of the tables below


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # noqa: N802 (the name lupdate reads)
    """Marks `text` for pyside6-lupdate under `context`, as Qt's own does; this module stays
    free of Qt, so the views translate it where they show it
    (QCoreApplication.translate(CONTEXT, text))."""
    return text


# The stage buttons' text (English source; the view translates it). "softmax" is a name.
STAGE_NAMES = {
    "scores": QT_TRANSLATE_NOOP("AttentionStages", "scores QKᵀ"),
    "scaled": QT_TRANSLATE_NOOP("AttentionStages", "scaled ÷√hs"),
    "masked": QT_TRANSLATE_NOOP("AttentionStages", "masked +M"),
    "pattern": "softmax",
    "mask": QT_TRANSLATE_NOOP("AttentionStages", "causal mask M"),
}

# What one enlarged head of a stage shows (English source; the view translates it).
STAGE_NOTES = {
    "scores": QT_TRANSLATE_NOOP(
        "AttentionStages", "Row i: how strongly query i matches every key (dot products "
        "q_i·k_j). Not yet scaled or masked."),
    "scaled": QT_TRANSLATE_NOOP(
        "AttentionStages", "The scores divided by √head_size so the softmax does not saturate."),
    "masked": QT_TRANSLATE_NOOP(
        "AttentionStages", "Future positions (above the diagonal) set to −∞, drawn hatched: the "
        "model cannot look ahead."),
    "pattern": QT_TRANSLATE_NOOP(
        "AttentionStages", "softmax over each row: the weights query i gives to each key. Every "
        "row sums to 1; masked cells are exactly 0."),
}


def checked_stage(stage: str) -> str:
    """`stage` as the panel names it ('softmax' is 'pattern'); ValueError if unknown."""
    if stage == "softmax":
        stage = "pattern"
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; choose one of {STAGES}")
    return stage


def focus_target(step_name: str) -> tuple[int | None, str | None]:
    """The (layer, traced stage) a walkthrough step points at: (None, None) outside the
    blocks, (layer, None) for a block's step that is not an attention stage."""
    layer = step_layer(step_name)
    if layer is None:
        return None, None
    kind = KINDS.get(step_kind(step_name))
    return layer, (kind.stage if kind is not None else None)


def step_name(layer: int, stage: str) -> str:
    """The trace step of a traced stage in block `layer`, e.g. blocks.1.attn.scaled."""
    kind = next(k for k in KINDS.values() if k.stage == stage)
    return kind.name_in(layer)


def grid_columns(n_head: int) -> int:
    """Columns of a near-square grid of `n_head` heads."""
    return math.ceil(math.sqrt(n_head)) if n_head > 0 else 0


OVERVIEW_MIN_HEADS = 64  # models with this many heads in all open on every block at once


def opens_on_overview(n_layer: int, n_head: int) -> bool:
    """Whether the panel first shows every block at once: for many heads (GPT-2's 144), one
    block at a time would hide most of them; the articles' 8 x 4 read better block by block."""
    return n_layer * n_head >= OVERVIEW_MIN_HEADS
