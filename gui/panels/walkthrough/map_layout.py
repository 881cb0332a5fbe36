"""Where each box of the model map goes: the figure every article draws (tokens → embedding →
N × block → output), laid out from the trace's own ordered steps, so a model with other steps
(another wiring, more blocks) is drawn with its own.

No Qt here: the layout is plain geometry that gui.panels.walkthrough.model_map paints and the
tests read. Steps are grouped by their kind's first part (`attn.q` … `attn.out` form the
"attn" group, `ffn.*` the "ffn" one, `resid1` stands alone), consecutive steps of one part in
one group; every group is a box (one step) or a frame of chips (several). A deep model's blocks
other than the current one are collapsed to one row each: one small box per group.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from engine.model.steps import short_shape, step_kind, step_layer

WIDTH = 220.0  # scene units; the view scales nothing, so these are pixels
BOX_H = 24.0
CHIP_H = 22.0
GAP = 22.0  # between groups: the arrow, with the shape it carries
TITLE_H = 18.0  # a frame's title (a group of several steps, a block)
PAD = 6.0
CHIPS_PER_ROW = 3
EXPAND_ALL_UP_TO = 2  # blocks: a model this shallow shows every block open


@dataclass(frozen=True)
class Box:
    """A clickable box: `step` is where a click goes."""

    step: str
    label: str
    x: float
    y: float
    w: float
    h: float
    lit: bool = False
    tooltip: str = ""


@dataclass(frozen=True)
class Frame:
    """A frame around a group of chips or a block, with its title at the top left."""

    title: str
    x: float
    y: float
    w: float
    h: float
    lit: bool = False
    inline: bool = False  # a collapsed block: the title sits left of its boxes, centred


@dataclass(frozen=True)
class Arrow:
    """A downward arrow from y0 to y1 at x, with the shape that flows along it."""

    x: float
    y0: float
    y1: float
    label: str


@dataclass
class MapLayout:
    boxes: list[Box] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    arrows: list[Arrow] = field(default_factory=list)
    height: float = 0.0

    def box_of(self, step: str) -> Box | None:
        """The box whose click goes to `step` (None if no box does)."""
        return next((b for b in self.boxes if b.step == step), None)


@dataclass(frozen=True)
class Words:
    """What the map calls things, in the interface language (given by the view)."""

    step_label: Callable[[str], str]  # a step's label on its own box or chip
    group_title: Callable[[str], str]  # a group's title, by its part ("attn", "ffn", ...)
    mini_label: Callable[[str], str]  # a group's label in a collapsed block's row ("FFN")
    block_title: Callable[[int], str]  # "Block 3"
    tooltip: Callable[[str, tuple[int, ...]], str]  # a step's tooltip (its name, its shape)


def part_of(name: str) -> str:
    """The group a step belongs to: `blocks.2.attn.scores` -> `attn`, `resid1` -> `resid1`."""
    return step_kind(name).split(".")[0]


def _groups(steps: Sequence[tuple[str, tuple[int, ...]]]) -> list[list[tuple[str, tuple]]]:
    """Consecutive steps of one part (and one block) as one group."""
    out: list[list[tuple[str, tuple]]] = []
    for name, shape in steps:
        if out and part_of(out[-1][-1][0]) == part_of(name) \
                and step_layer(out[-1][-1][0]) == step_layer(name):
            out[-1].append((name, shape))
        else:
            out.append([(name, shape)])
    return out


def layout(steps: Sequence[tuple[str, tuple[int, ...]]], current: str, words: Words) -> MapLayout:
    """The map of `steps` ((name, shape) in the trace's order) with `current` lit."""
    out = MapLayout()
    layers = sorted({step_layer(n) for n, _ in steps if step_layer(n) is not None})
    open_layer = step_layer(current) if current else None
    expand_all = len(layers) <= EXPAND_ALL_UP_TO
    y = PAD
    last_shape: tuple[int, ...] | None = None
    groups = _groups(steps)
    i = 0

    def arrow_to_here() -> None:
        nonlocal y
        if last_shape is not None:
            out.arrows.append(Arrow(WIDTH / 2, y, y + GAP, short_shape(last_shape)))
            y += GAP

    while i < len(groups):
        layer = step_layer(groups[i][0][0])
        if layer is None:
            arrow_to_here()
            y = _group(out, groups[i], current, words, PAD, WIDTH - 2 * PAD, y)
            last_shape = groups[i][-1][1]
            i += 1
            continue
        block = []
        while i < len(groups) and step_layer(groups[i][0][0]) == layer:
            block.append(groups[i])
            i += 1
        arrow_to_here()
        if expand_all or layer == open_layer:
            top = y
            y += TITLE_H
            for k, group in enumerate(block):
                if k:
                    out.arrows.append(Arrow(WIDTH / 2, y, y + GAP * 0.6,
                                            short_shape(block[k - 1][-1][1])))
                    y += GAP * 0.6
                y = _group(out, group, current, words, 2 * PAD, WIDTH - 4 * PAD, y)
            y += PAD
            out.frames.append(Frame(words.block_title(layer), PAD, top, WIDTH - 2 * PAD,
                                    y - top, lit=layer == open_layer))
        else:
            y = _collapsed(out, layer, block, current, words, y)
        last_shape = block[-1][-1][1]
    out.height = y + PAD
    return out


def _group(out: MapLayout, group: list[tuple[str, tuple]], current: str, words: Words,
           x: float, w: float, y: float) -> float:
    """One group at (x, y), `w` wide: a box, or a titled frame of chips; returns its bottom."""
    if len(group) == 1:
        name, shape = group[0]
        out.boxes.append(Box(name, words.step_label(name), x, y, w, BOX_H, name == current,
                             words.tooltip(name, shape)))
        return y + BOX_H
    top = y
    y += TITLE_H
    inner = w - 2 * PAD
    chip_w = inner / CHIPS_PER_ROW
    for k, (name, shape) in enumerate(group):
        row, col = divmod(k, CHIPS_PER_ROW)
        out.boxes.append(Box(name, words.step_label(name), x + PAD + col * chip_w + 1,
                             y + row * (CHIP_H + 3), chip_w - 2, CHIP_H, name == current,
                             words.tooltip(name, shape)))
    rows = (len(group) + CHIPS_PER_ROW - 1) // CHIPS_PER_ROW
    y += rows * (CHIP_H + 3) + PAD - 3
    lit = any(name == current for name, _ in group)
    out.frames.append(Frame(words.group_title(part_of(group[0][0])), x, top, w, y - top, lit))
    return y


def _collapsed(out: MapLayout, layer: int, block: list, current: str, words: Words,
               y: float) -> float:
    """A block folded to one row: its title, then one small box per group (to its first step)."""
    title_w = 48.0
    out.frames.append(Frame(words.block_title(layer), PAD, y, WIDTH - 2 * PAD, BOX_H + 2,
                            inline=True))
    x = PAD + title_w
    w = (WIDTH - 2 * PAD - title_w - 2) / max(1, len(block))
    for group in block:
        name = group[0][0]
        label = words.mini_label(part_of(name))
        lit = any(n == current for n, _ in group)
        out.boxes.append(Box(name, label, x + 1, y + 2, w - 2, BOX_H - 2, lit,
                             words.tooltip(name, group[0][1])))
        x += w
    return y + BOX_H + 2
