"""The Embeddings panel's logic without widgets: the map's label placement (no overlaps, inside
the map, the selected and the context's tokens named first, clear of the context's markers)
and the token table's analysis (PCA and nearest tokens of a known table, kept per weights,
re-projected at most every MAP_INTERVAL_S while training)."""
import itertools

import numpy as np
import pytest
import torch
from helpers import tiny_model

from gui.panels.embeddings.analysis import (
    MAP_INTERVAL_S,
    TableAnalysis,
    distinct_in_order,
    refreshed,
    token_table,
)
from gui.panels.embeddings.labels import (
    AROUND,
    CONTEXT_MARKER_PX,
    MAX_SAMPLE_LABELS,
    SELECTED_MARKER_PX,
    Occupancy,
    beside,
    choose_labels,
    to_pixels,
)

W, H = 480.0, 300.0


def measure(token: int, kind: str) -> tuple[str, tuple[float, float]]:
    """Labels as wide as their text at 7 px a character, 14 px high."""
    text = f"tok{token}"
    return text, (7.0 * len(text) + 4, 14.0)


def absolute(label, coords, view) -> tuple[float, float, float, float]:
    """A label's box in map pixels (its box is kept relative to its anchor's pixel)."""
    ax, ay = to_pixels(np.array([label.anchor]), view, W, H)[0]
    x0, y0, x1, y1 = label.box
    return (ax + x0, ay + y0, ax + x1, ay + y1)


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.fixture
def blob():
    """2,000 points in one dense Gaussian blob, as random weights give."""
    coords = np.random.default_rng(0).normal(size=(2000, 2))
    view = (-3.0, -3.0, 6.0, 6.0)  # x, y, w, h: the data shown
    return coords, view


# -- geometry ---------------------------------------------------------------------------------
@pytest.mark.parametrize("direction", AROUND)
def test_beside_keeps_the_gap_in_its_direction(direction):
    x0, y0, x1, y1 = beside(100.0, 50.0, 40.0, 10.0, 5.0, direction)
    assert (x1 - x0, y1 - y0) == (40.0, 10.0)
    dx, dy = direction
    if dx:  # the near side is 5 px from the point
        assert (x0 - 100.0 if dx > 0 else 100.0 - x1) == 5.0
    if dy:
        assert (y0 - 50.0 if dy > 0 else 50.0 - y1) == 5.0
    if not dx:
        assert (x0 + x1) / 2 == 100.0  # centred above or below
    if not dy:
        assert (y0 + y1) / 2 == 50.0


def test_occupancy_refuses_taken_or_outside_boxes():
    taken = Occupancy(100, 50)
    assert taken.is_free((0, 0, 100, 50))
    assert not taken.is_free((-1, 0, 10, 10)) and not taken.is_free((95, 40, 101, 50))
    taken.take((10, 10, 30, 20))
    assert not taken.is_free((25, 15, 40, 25))  # overlaps the taken box
    assert not taken.is_free((0, 0, 100, 50))
    assert taken.is_free((32, 10, 50, 20))  # beside it, one cell apart
    assert taken.is_free((10, 22, 30, 30))  # below it


def test_to_pixels_puts_the_view_corners_at_the_map_corners():
    view = (1.0, 2.0, 4.0, 8.0)  # x from 1 to 5, y from 2 to 10
    px = to_pixels(np.array([[1.0, 10.0], [5.0, 2.0], [3.0, 6.0]]), view, W, H)
    assert np.allclose(px, [[0, 0], [W, H], [W / 2, H / 2]])  # y grows downwards


# -- choosing labels --------------------------------------------------------------------------
def test_labels_never_overlap_stay_inside_and_name_the_context(blob):
    coords, view = blob
    context = [5, 17, 5, 300, 42, 17]  # repeated ids, as in a text
    labels = choose_labels(coords, view, W, H, selected=9, context=distinct_in_order(context),
                           measure=measure)
    boxes = [absolute(label, coords, view) for label in labels]
    for (a, la), (b, lb) in itertools.combinations(zip(boxes, labels), 2):
        assert not overlap(a, b), f"{la.text} and {lb.text} overlap"
    for box in boxes:
        assert 0 <= box[0] and 0 <= box[1] and box[2] <= W and box[3] <= H
    kinds = {label.token: label.kind for label in labels}
    assert kinds[9] == "selected" and labels[0].token == 9  # the selection comes first
    assert all(kinds[i] == "context" for i in (5, 17, 300, 42))
    assert len(labels) == len(kinds), "one label per token"
    # No label covers a context marker (nor the selected ring).
    px = to_pixels(coords, view, W, H)
    for i, size in ((5, CONTEXT_MARKER_PX), (17, CONTEXT_MARKER_PX), (300, CONTEXT_MARKER_PX),
                    (42, CONTEXT_MARKER_PX), (9, SELECTED_MARKER_PX)):
        half = size / 2
        marker = (px[i, 0] - half, px[i, 1] - half, px[i, 0] + half, px[i, 1] + half)
        assert not any(overlap(marker, box) for box in boxes), f"a label covers token {i}"
    samples = [label for label in labels if label.kind == "sample"]
    assert 10 < len(samples) <= MAX_SAMPLE_LABELS, "other tokens are named where they fit"
    assert all(not label.leader for label in samples)
    for label in labels:
        assert label.text == measure(label.token, label.kind)[0]
        assert label.anchor == tuple(coords[label.token])


def test_a_crowded_context_label_moves_out_with_a_leader(blob):
    coords, view = blob
    # Twelve context tokens on one spot: all but the first must move away from their points.
    coords = coords.copy()
    coords[:12] = coords[0]
    labels = choose_labels(coords, view, W, H, None, list(range(12)), measure)
    context = [label for label in labels if label.kind == "context"]
    assert len(context) == 12
    assert sum(label.leader for label in context) >= 4
    boxes = [absolute(label, coords, view) for label in labels]
    assert not any(overlap(a, b) for a, b in itertools.combinations(boxes, 2))


def test_labels_only_for_points_in_view_and_none_without_room(blob):
    coords, view = blob
    zoom = (-0.5, -0.5, 1.0, 1.0)
    labels = choose_labels(coords, zoom, W, H, None, [], measure)
    px = to_pixels(coords, zoom, W, H)
    assert labels and all(0 <= px[label.token, 0] <= W and 0 <= px[label.token, 1] <= H
                          for label in labels)
    assert choose_labels(coords, view, 0.0, H, 3, [1], measure) == []
    assert choose_labels(coords, (0.0, 0.0, 0.0, 1.0), W, H, 3, [1], measure) == []
    # A map too small for any label: none, rather than one on top of another.
    tiny = choose_labels(coords, view, 20.0, 10.0, 3, [1, 2], measure)
    assert tiny == []


def test_the_same_view_gives_the_same_labels(blob):
    coords, view = blob
    first = choose_labels(coords, view, W, H, 9, [5, 17], measure)
    assert choose_labels(coords, view, W, H, 9, [5, 17], measure) == first


# -- the table's analysis ---------------------------------------------------------------------
KNOWN = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]])  # (V 4, 2 used dims)


@pytest.fixture
def known_model():
    """A model whose token table is KNOWN in its first two dimensions, zeros elsewhere."""
    model = tiny_model(4)
    with torch.no_grad():
        model.embed.wte.weight.zero_()
        model.embed.wte.weight[:, :2] = torch.tensor(KNOWN, dtype=torch.float32)
    return model


def test_pca_and_nearest_of_a_known_table(known_model):
    a = TableAnalysis(known_model, token_table(known_model))
    assert a.table.shape == (4, 16) and a.table.dtype == np.float32
    # The y axis varies most (8 of 10), then x (2 of 10); each axis's largest loading is +.
    assert np.allclose(a.explained, [0.8, 0.2])
    assert np.allclose(np.abs(a.coords), [[0, 1], [0, 1], [2, 0], [2, 0]], atol=1e-6)
    assert np.allclose(a.coords[2], -a.coords[3]) and np.allclose(a.coords[0], -a.coords[1])
    # Row 0 = (1, 0): orthogonal to rows 2 and 3 (ties keep the lower id), opposite to row 1.
    assert a.nearest(0, k=3) == [(2, 0.0), (3, 0.0), (1, -1.0)]
    assert a.nearest(2, k=1) == [(0, 0.0)]


def test_analysis_is_kept_per_weights(known_model):
    a, projected = refreshed(None, known_model, training=False, now=100.0)
    assert projected and a.matches(known_model) and a.map_current()
    assert refreshed(a, known_model, training=False, now=101.0) == (a, False)
    with torch.no_grad():
        known_model.embed.wte.weight.mul_(2.0)  # an optimizer step, in place
    assert not a.matches(known_model)
    b, projected = refreshed(a, known_model, training=False, now=101.0)
    assert projected and b is not a and np.allclose(b.coords, 2 * a.coords)
    other = tiny_model(4)
    c, projected = refreshed(b, other, training=True, now=101.5)  # another model: always anew
    assert projected and c.model is other


def test_while_training_the_map_follows_slowly(known_model):
    a, _ = refreshed(None, known_model, training=True, now=100.0)
    coords = a.coords.copy()
    with torch.no_grad():
        known_model.embed.wte.weight.mul_(2.0)
    b, projected = refreshed(a, known_model, training=True, now=100.0 + MAP_INTERVAL_S / 2)
    assert b is a and not projected
    assert np.allclose(b.table[:, :2], 2 * KNOWN)  # the table has the newest weights
    assert np.array_equal(b.coords, coords) and not b.map_current()
    assert b.matches(known_model)
    with torch.no_grad():
        known_model.embed.wte.weight.mul_(2.0)
    c, projected = refreshed(b, known_model, training=True, now=100.0 + MAP_INTERVAL_S + 0.1)
    assert projected and c is not b and c.map_current()
    assert np.allclose(c.coords, 4 * coords)


def test_distinct_in_order():
    assert distinct_in_order(np.array([3, 1, 3, 2, 1])) == [3, 1, 2]
    assert distinct_in_order(np.zeros(0, dtype=np.int64)) == []
