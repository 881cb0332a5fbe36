"""The default layout is legible on common screens (#22.1): at 1366 x 768, 1600 x 1000 and
1920 x 1080, in English and Chinese, the key controls of each panel are wholly on screen in
their dock (Start, Stop, the training form's rows, Run, the walkthrough's check line and
Next), none squeezed below a line of text."""
from __future__ import annotations

import pytest
from PySide6.QtGui import QFontMetrics, QRegion
from PySide6.QtWidgets import QApplication

from gui.window import docks

SIZES = [(1366, 768), (1600, 1000), (1920, 1080)]


@pytest.fixture
def window(qtbot):
    """The window on the bundled model, as at first launch."""
    from gui.app import create_app
    from gui.window import MainWindow

    create_app()
    w = MainWindow(restore_layout=False, load_default=False)
    w.show()
    with qtbot.waitSignal(w.session.trace_changed, timeout=60_000):
        w.load_default()
    yield w
    w.set_language("en")
    w.close()
    qtbot.wait(10)
    w.deleteLater()
    qtbot.wait(1)


def _key_controls(w) -> dict[str, tuple[str, list]]:
    """dock -> the controls that must be whole in it."""
    t, g, k = w.training_panel, w.generation_panel, w.walkthrough_panel
    form = t.form
    return {
        "training": [t.start_button, t.stop_button, t.pause_button,
                     *[form._inputs[name] for name in ("d_model", "n_head", "n_layer")]],
        "generation": [g.form.run_button, g.form.step_button, g.form.stop_button,
                       g.form.clear_button],
        "walkthrough": [k.words.check_label, k.next_button, k.article_button],
    }


def _problems(w) -> list[str]:
    out = []
    for dock, controls in _key_controls(w).items():
        w.raise_panel(dock)
        QApplication.processEvents()
        for c in controls:
            line = QFontMetrics(c.font()).height()
            name = type(c).__name__ + ":" + getattr(c, "text", lambda: "")()[:20]
            if not c.isVisible():
                out.append(f"{dock}/{name}: hidden")
            elif c.visibleRegion() != QRegion(c.rect()):
                out.append(f"{dock}/{name}: partly out of view "
                           f"({c.visibleRegion().boundingRect().getRect()} of {c.rect().getRect()})")
            elif c.height() < line:
                out.append(f"{dock}/{name}: {c.height()} px, under a line ({line} px)")
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_key_controls_are_whole_in_their_docks_at_three_sizes(window, lang):
    window.set_language(lang)
    problems = {}
    for size in SIZES:
        window.resize(*size)
        QApplication.processEvents()
        docks.size(window, window.docks)
        QApplication.processEvents()
        found = _problems(window)
        if found:
            problems[size] = found
        visible = [n for n, d in window.docks.items() if not d.visibleRegion().isEmpty()]
        assert 4 <= len(visible) <= 6, (size, visible)  # a few panels at once, with room
    # After a run (Stop): the run's folder and the choice of weights appear above the plots;
    # the form's rows keep their height.
    t = window.training_panel
    t.run_folder.setText("Run folder: /a/rather/long/path/to/the/runs/folder/2026-12-07_001")
    t.run_folder.show()
    t.keep_row.show()
    t.progress.say(lambda: "Stopped at step 30 of 30: train loss 4.1, val loss 4.3. " * 2)
    window.resize(*SIZES[0])
    QApplication.processEvents()
    docks.size(window, window.docks)
    QApplication.processEvents()
    found = _problems(window)
    if found:
        problems["after a run"] = found
    assert problems == {}
