"""Which tokens the vocabulary map names, and where their labels go: no widgets, only pixels.

The selected token and the context's tokens come first, moved aside with a leader line when
their spot is taken; then one token per SAMPLE_CELL_PX cell, while labels fit without
overlapping each other or the context's markers. A label never covers another label or an
orange context marker, and never leaves the map; a token that cannot have a label without
that has none (its point's tooltip still names it).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in map pixels (y down)
# (compact id, kind) -> the label's text and its (width, height) in pixels.
Measure = Callable[[int, str], tuple[str, tuple[float, float]]]

MAX_SAMPLE_LABELS = 80  # grey labels at most: beyond that the map turns into text
SAMPLE_CELL_PX = (80.0, 22.0)  # at most one grey label per cell of the map this size
MAX_RING = 10  # a crowded context label moves up to this many label heights from its point
CONTEXT_MARKER_PX = 12.0  # the orange point with its outline
SELECTED_MARKER_PX = 21.0  # the red ring with its pen
SAMPLE_GAP_PX = 3.0  # between a grey label and its point
# Where a label may go around its point, best first: above, below, right, left, the corners.
AROUND = ((0, -1), (0, 1), (1, 0), (-1, 0), (1, -1), (-1, -1), (1, 1), (-1, 1))


@dataclass(frozen=True)
class Label:
    """One label of the map."""

    token: int  # compact id
    text: str
    kind: str  # "sample", "context" or "selected"
    anchor: tuple[float, float]  # its point, in data coordinates
    box: Box  # the label, in pixels relative to the anchor's pixel
    leader: bool  # drawn away from its point, so a line joins them


class Occupancy:
    """The pixels of the map already covered by labels and context markers (2 px cells)."""

    CELL = 2.0

    def __init__(self, width: float, height: float):
        self.width, self.height = width, height
        self.grid = np.zeros((int(height // self.CELL) + 1, int(width // self.CELL) + 1), bool)

    def _cells(self, box: Box) -> tuple[slice, slice]:
        x0, y0, x1, y1 = box
        c = self.CELL
        return (slice(max(int(y0 // c), 0), max(math.ceil(y1 / c), 0)),
                slice(max(int(x0 // c), 0), max(math.ceil(x1 / c), 0)))

    def is_free(self, box: Box) -> bool:
        """Inside the map and touching nothing taken."""
        x0, y0, x1, y1 = box
        if x0 < 0 or y0 < 0 or x1 > self.width or y1 > self.height:
            return False
        rows, cols = self._cells(box)
        return not self.grid[rows, cols].any()

    def take(self, box: Box) -> None:
        """Mark `box` as covered."""
        rows, cols = self._cells(box)
        self.grid[rows, cols] = True


def beside(ax: float, ay: float, w: float, h: float, gap: float,
           direction: tuple[int, int]) -> Box:
    """The box of a w × h label whose nearest side is `gap` px from (ax, ay) in `direction`."""
    dx, dy = direction
    cx, cy = ax + dx * (gap + w / 2), ay + dy * (gap + h / 2)
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def to_pixels(coords: np.ndarray, view: Box, width: float, height: float) -> np.ndarray:
    """(V, 2) data coordinates as map pixels (y down); `view` is (x, y, w, h) of the data
    shown, y being its lowest value."""
    x, y, w, h = view
    return np.column_stack(((coords[:, 0] - x) * (width / w),
                            (y + h - coords[:, 1]) * (height / h)))


def choose_labels(coords: np.ndarray, view: Box, width: float, height: float,
                  selected: int | None, context: list[int], measure: Measure) -> list[Label]:
    """The labels of a map of `coords` (V, 2) showing `view` (x, y, w, h in data coordinates)
    in `width` × `height` px: the selected token, the context's (distinct, in order), then
    grey samples where they fit."""
    if width < 1 or height < 1 or view[2] <= 0 or view[3] <= 0:
        return []
    px = to_pixels(coords, view, width, height)
    inside = ((px[:, 0] >= 0) & (px[:, 0] <= width) & (px[:, 1] >= 0) & (px[:, 1] <= height))
    first = [(i, "context") for i in context if i != selected]
    if selected is not None:
        first.insert(0, (selected, "selected"))
    first = [(i, kind) for i, kind in first if inside[i]]
    taken = Occupancy(width, height)
    for i, kind in first:  # every marker first, so no label lands on a later one
        half = _marker_px(kind) / 2
        taken.take((px[i, 0] - half, px[i, 1] - half, px[i, 0] + half, px[i, 1] + half))
    labels = [label for i, kind in first
              if (label := _place_near(i, kind, coords[i], px[i], taken, measure)) is not None]
    labels += _place_samples(coords, px, inside, {i for i, _ in first}, taken,
                             view[2] / width, view[3] / height, measure)
    return labels


def _marker_px(kind: str) -> float:
    return SELECTED_MARKER_PX if kind == "selected" else CONTEXT_MARKER_PX


def _place_near(i: int, kind: str, xy: np.ndarray, at: np.ndarray, taken: Occupancy,
                measure: Measure) -> Label | None:
    """A label for a token that must have one: beside its marker, else further out."""
    text, (w, h) = measure(i, kind)
    radius = _marker_px(kind) / 2
    ax, ay = float(at[0]), float(at[1])
    for ring in range(MAX_RING + 1):
        for direction in AROUND:
            box = beside(ax, ay, w, h, radius + 1 + ring * h, direction)
            if taken.is_free(box):
                taken.take(box)
                return _label(i, text, kind, xy, box, ax, ay, leader=ring > 0)
    return None  # no free spot near it in a tiny map: no label rather than one on another


def _place_samples(coords: np.ndarray, px: np.ndarray, inside: np.ndarray, skip: set[int],
                   taken: Occupancy, x_per_px: float, y_per_px: float,
                   measure: Measure) -> list[Label]:
    """Grey labels for other tokens in view, at most one per cell, while they fit.

    The cells are fixed in data coordinates, so panning keeps the same labels; in each cell
    the lowest compact id wins, again for stability (in a BPE vocabulary: the earlier,
    usually commoner merges).
    """
    ids = np.flatnonzero(inside)
    if skip:
        ids = ids[~np.isin(ids, np.fromiter(skip, dtype=np.int64))]
    if ids.size == 0:
        return []
    cx = np.floor(coords[ids, 0] / (SAMPLE_CELL_PX[0] * x_per_px)).astype(np.int64)
    cy = np.floor(coords[ids, 1] / (SAMPLE_CELL_PX[1] * y_per_px)).astype(np.int64)
    cells = (cx - cx.min()) * (int(cy.max() - cy.min()) + 1) + (cy - cy.min())
    _, firsts = np.unique(cells, return_index=True)  # ids ascend: the lowest id per cell
    out: list[Label] = []
    for i in ids[np.sort(firsts)].tolist():
        text, (w, h) = measure(i, "sample")
        ax, ay = float(px[i, 0]), float(px[i, 1])
        for direction in ((0, -1), (0, 1)):  # above its point, else below
            box = beside(ax, ay, w, h, SAMPLE_GAP_PX, direction)
            if taken.is_free(box):
                taken.take(box)
                out.append(_label(i, text, "sample", coords[i], box, ax, ay, leader=False))
                break
        if len(out) >= MAX_SAMPLE_LABELS:
            break
    return out


def _label(i: int, text: str, kind: str, xy: np.ndarray, box: Box, ax: float, ay: float,
           leader: bool) -> Label:
    """A label whose box (map pixels) is kept relative to its anchor point, so the painter
    can place it wherever the anchor is drawn."""
    x0, y0, x1, y1 = box
    return Label(i, text, kind, (float(xy[0]), float(xy[1])),
                 (x0 - ax, y0 - ay, x1 - ax, y1 - ay), leader)
