"""The Embeddings panel stays readable: its vocabulary map labels tokens without overlaps at
any zoom, always names the context's tokens, and the panel switches between tabs and a
side-by-side layout with the dock's width, showing only the numbers the engine computed."""
import itertools

import numpy as np
import pytest
from helpers import tiny_model, traced_session
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from engine.text.tokenizers import build_tokenizer
from gui import resources
from gui.panels.embeddings import EmbeddingsPanel
from gui.widgets import elide, format_value, on_screen

CONTEXT = "A decoder-only transformer is a machine that reads a stretch of text and, at"
DOCK_SIZE = (502, 458)  # the panel's size in the Embeddings dock of the 1800x1050 window


@pytest.fixture(scope="module")
def tokenizer():
    """A real vocabulary (~1,500 cl100k pieces): random weights put it in one dense blob."""
    text = resources.default_corpus_path().read_text(encoding="utf-8")[:20_000]
    return build_tokenizer("cl100k_base", text)


@pytest.fixture
def session(qapp, tokenizer):
    return traced_session(tiny_model(tokenizer.vocab_size), tokenizer, CONTEXT)


def shown(qtbot, widget, size=DOCK_SIZE, tab=1):
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    if widget.tabs.count():
        widget.tabs.setCurrentIndex(tab)
    qtbot.waitUntil(lambda: map_seen(widget) if tab else lookup_seen(widget))
    return widget


def map_seen(view) -> bool:
    # The view's own region is all under its viewport.
    return on_screen(view.map_page.plot.viewport())


def lookup_seen(view) -> bool:
    return on_screen(view.lookup_page.heatmap.graphics.viewport())


def marker_pos(view, compact_id: int) -> QPointF:
    """Where a token's point is drawn, in the map's scene pixels."""
    x, y = view.pca_coords()[compact_id]
    return view.map_page.plot.getViewBox().mapViewToScene(QPointF(float(x), float(y)))


def assert_readable(view) -> list[tuple[int, str, object]]:
    labels = view.map_labels()
    area = view.map_page.plot.getViewBox().sceneBoundingRect()
    for (_, a, ra), (_, b, rb) in itertools.combinations(labels, 2):
        assert not ra.intersects(rb), f"labels {a!r} and {b!r} overlap"
    for _, text, rect in labels:
        assert area.contains(rect), f"label {text!r} is outside the plot"
    return labels


def isolated_point(view) -> int:
    """A vocabulary point with no other point (or label) within 8 px, and no label of its own."""
    labelled = {i for i, _, _ in view.map_labels()}
    vb = view.map_page.plot.getViewBox()
    area = vb.sceneBoundingRect().adjusted(10, 10, -10, -10)
    pos = np.array([[p.x(), p.y()] for p in (marker_pos(view, i)
                                              for i in range(len(view.pca_coords())))])
    for i in np.argsort(pos[:, 0]).tolist():
        d = np.hypot(*(pos - pos[i]).T)
        d[i] = np.inf
        rects = [r for _, _, r in view.map_labels()]
        p = QPointF(*pos[i])
        if (i not in labelled and d.min() > 8 and area.contains(p)
                and not any(r.adjusted(-4, -4, 4, 4).contains(p) for r in rects)):
            return i
    raise AssertionError("no isolated point on the map")


def viewport_point(view, scene_pos: QPointF) -> QPoint:
    return view.map_page.plot.mapFromScene(scene_pos)


# -- the vocabulary map -----------------------------------------------------------------
def test_map_labels_do_not_overlap_and_name_every_context_token(qtbot, session):
    view = shown(qtbot, EmbeddingsPanel(session))
    tok = session.tokenizer
    labels = assert_readable(view)
    by_id = {i: text for i, text, _ in labels}
    context = set(session.trace.ids[0].tolist())
    assert context <= set(by_id), "every token of the context is named on the map"
    assert view.selected_token() in by_id
    for i, text in by_id.items():
        assert text == elide(tok.piece(i), 12)
    assert len(by_id) > len(context) + 5, "other tokens are labelled too, where they fit"
    # No label hides an orange context point.
    for i in context:
        at = marker_pos(view, i)
        assert not any(rect.contains(at) for _, _, rect in labels), tok.piece(i)


def test_labels_are_chosen_again_for_the_zoomed_view(qtbot, session):
    view = shown(qtbot, EmbeddingsPanel(session))
    vb = view.map_page.plot.getViewBox()
    vb.autoRange()  # what the map's "A" button does
    before = {i for i, _, _ in view.map_labels()}
    coords = view.pca_coords()
    centre = np.median(coords, axis=0)
    spread = coords.std(axis=0) / 6  # the dense middle of the blob
    vb.setRange(xRange=(centre[0] - spread[0], centre[0] + spread[0]),
                yRange=(centre[1] - spread[1], centre[1] + spread[1]), padding=0)
    labels = assert_readable(view)
    after = {i for i, _, _ in labels}
    assert len(after - before) >= 5, "zooming in names tokens that had no room before"
    rect = vb.viewRect()
    for i in after:
        assert rect.contains(QPointF(*coords[i])), "only tokens inside the view are labelled"
    vb.autoRange()
    assert {i for i, _, _ in view.map_labels()} == before  # the same view, the same labels


def test_labels_follow_the_selection_and_a_new_context(qtbot, session):
    view = shown(qtbot, EmbeddingsPanel(session))
    outside = next(i for i in range(session.tokenizer.vocab_size)
                   if i not in set(session.trace.ids[0].tolist())
                   and i not in {j for j, _, _ in view.map_labels()})
    view.select_token(outside)
    assert outside in {i for i, _, _ in assert_readable(view)}
    from engine.model.trace import run_trace

    session.set_context_text("the cat sat on the mat")
    session.set_trace(run_trace(session.model, session.context_ids()))
    ids = {i for i, _, _ in assert_readable(view)}
    assert set(session.trace.ids[0].tolist()) <= ids


def test_hovering_a_point_names_its_token_with_the_engine_coordinates(qtbot, session):
    view = shown(qtbot, EmbeddingsPanel(session))
    i = isolated_point(view)
    QTest.mouseMove(view.map_page.plot.viewport(), viewport_point(view, marker_pos(view, i)))
    tip = view.map_page.plot.getViewBox().toolTip()
    x, y = view.pca_coords()[i]
    assert f"“{session.tokenizer.piece(i)}”  compact id {i}" in tip
    assert f"PC1 {format_value(x)}, PC2 {format_value(y)}" in tip


def test_clicking_an_unlabelled_point_selects_and_labels_it(qtbot, session):
    view = shown(qtbot, EmbeddingsPanel(session))
    i = isolated_point(view)
    QTest.mouseClick(view.map_page.plot.viewport(), Qt.MouseButton.LeftButton,
                     pos=viewport_point(view, marker_pos(view, i)))
    assert view.selected_token() == i
    table = session.model.embed.wte.weight.detach().numpy()
    assert np.array_equal(view.selected_vector(), table[i])
    assert i in {j for j, _, _ in assert_readable(view)}


# -- layout and captions ----------------------------------------------------------------
def test_narrow_dock_uses_tabs_and_wide_dock_shows_both(qtbot, session):
    view = shown(qtbot, EmbeddingsPanel(session), tab=0)
    assert view.tabs.count() == 2
    assert lookup_seen(view) and not map_seen(view)
    view.resize(1400, 900)
    qtbot.waitUntil(lambda: lookup_seen(view) and map_seen(view))
    assert view.tabs.count() == 0
    assert view.lookup_page.heatmap.width() > 500 and view.map_page.plot.width() > 500
    assert_readable(view)
    view.resize(*DOCK_SIZE)
    qtbot.waitUntil(lambda: view.tabs.count() == 2)
    view.tabs.setCurrentWidget(view.map_page)
    qtbot.waitUntil(lambda: map_seen(view))
    assert not lookup_seen(view)
    assert np.array_equal(view.lookup_image(), session.trace["embed.token"].values[0])


def test_captions_are_whole_or_elided_with_a_tooltip(qtbot, session):
    view = shown(qtbot, EmbeddingsPanel(session), tab=0)
    T, C = session.trace["embed.token"].values[0].shape
    caption = view.lookup_page.caption
    assert f"[{T} × {C}]" in caption.full_text()
    assert caption.text() == caption.full_text()  # room enough in the dock
    assert caption.toolTip() == caption.full_text()
    view.resize(300, DOCK_SIZE[1])
    qtbot.waitUntil(lambda: caption.text() != caption.full_text())
    assert caption.text().endswith("…")
    assert caption.fontMetrics().horizontalAdvance(caption.text()) <= caption.width()
    assert caption.toolTip() == caption.full_text()


# -- exact values -----------------------------------------------------------------------
def test_readout_shows_the_traced_value_under_the_mouse(qtbot, session):
    view = shown(qtbot, EmbeddingsPanel(session), tab=0)
    view.select_row(2)
    row = session.trace["embed.token"].values[0, 2]
    assert np.array_equal(view.selected_vector(), row)
    vb = view.lookup_page.bar_plot.getViewBox()
    j = int(np.argmax(np.abs(row)))
    at = vb.mapViewToScene(QPointF(j, float(row[j]) / 2))
    bars = view.lookup_page.bar_plot
    QTest.mouseMove(bars.viewport(), bars.mapFromScene(at))
    assert view.lookup_page.readout.text().endswith(f"dim {j}: {format_value(row[j])}")
    hm = view.lookup_page.heatmap
    cell = hm.view.mapViewToScene(QPointF(5.5, 2.5))  # row 2, column 5
    QTest.mouseMove(hm.graphics.viewport(), hm.graphics.mapFromScene(cell))
    assert view.lookup_page.readout.text() == hm.readout_text(2, 5)
    assert view.lookup_page.readout.text().endswith(format_value(row[5]))
