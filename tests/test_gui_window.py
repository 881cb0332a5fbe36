"""A window a newcomer can read (#22): an imported model takes a text in its own tokens, a
refused file keeps what was shown, and ← → move the walkthrough from anywhere in it but a text
field."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractSpinBox, QPushButton

from gui import dialogs
from tests.test_gui_import import _open, bpe_dir, hf_folder, text  # noqa: F401 (fixtures)
from tests.test_gui_import import window as text_window  # noqa: F401 (fixture)


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
    w.close()
    qtbot.wait(10)
    w.deleteLater()
    qtbot.wait(1)


def test_a_text_opened_on_an_imported_gpt2_is_read_with_its_own_tokenizer(
        text_window, qtbot, hf_folder, tmp_path):
    pytest.importorskip("transformers")
    window = text_window
    folder, _ref = hf_folder
    _open(window, qtbot, folder)
    s = window.session
    assert window.windowTitle().startswith("my-gpt2"), "named after its folder, not the text"
    model, tokenizer = s.model, s.tokenizer
    other = tmp_path / "other.txt"
    other.write_text("The lazy dog sleeps while the quick fox runs. " * 60, encoding="utf-8")
    with qtbot.waitSignal(s.corpus_changed, timeout=60_000):
        window.open_path(str(other))
    qtbot.waitUntil(lambda: s.corpus is not None and s.corpus_path == str(other), timeout=30_000)
    assert s.model is model, "the imported model stays, to be trained on the text"
    assert s.corpus.tokenizer.name == tokenizer.name
    head = "The lazy dog sleeps"
    assert list(s.corpus.train[:len(tokenizer.encode(head))]) == list(tokenizer.encode(head))
    assert window.run.resumable is not None  # Continue training is still offered
    assert window.training_panel.form.continue_box.isEnabled()
    assert window.windowTitle().startswith("my-gpt2")


def test_a_refused_model_keeps_what_was_shown(window, qtbot, tmp_path, no_leftovers):
    s = window.session
    model, trace = s.model, s.trace
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"not a model at all")
    window.open_path(str(bad))
    qtbot.waitUntil(lambda: bool(no_leftovers), timeout=30_000)  # the error was shown
    assert s.model is model and s.trace is trace
    assert not window.walkthrough_panel.empty.is_empty()


def test_a_refused_path_at_launch_shows_the_bundled_model(qtbot, tmp_path, no_leftovers):
    from gui import resources
    from gui.app import create_app, create_window

    if not resources.default_model_path().is_file():
        pytest.skip("no bundled model")
    create_app()
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"not a model at all")
    w = create_window(str(bad), "en", restore_layout=False)
    w.show()
    try:
        qtbot.waitUntil(lambda: w.session.trace is not None, timeout=60_000)
        assert no_leftovers, "the refusal was said"
        assert w.session.model is not None
    finally:
        w.close()
        qtbot.wait(10)
        w.deleteLater()
        qtbot.wait(1)


def test_arrows_step_the_walkthrough_from_any_of_its_widgets_but_text_fields(window, qtbot):
    panel = window.walkthrough_panel
    window.raise_panel("walkthrough")
    qtbot.waitUntil(panel.isVisible)
    start = panel.current_name()
    names = panel.step_names()
    i = names.index(start)
    for widget in (panel.next_button, panel.values.table, panel.step_list, panel.heatmap):
        widget.setFocus()
        qtbot.keyClick(widget, Qt.Key.Key_Right)
        assert panel.current_name() == names[i + 1], widget
        qtbot.keyClick(widget, Qt.Key.Key_Left)
        assert panel.current_name() == names[i], widget
    spin = panel.findChildren(QAbstractSpinBox)[0]
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_Right)
    assert panel.current_name() == names[i], "a spin box's digits keep their cursor keys"
    # Outside the walkthrough the arrows are the other panels' own.
    other = window.training_panel.findChildren(QPushButton)[0]
    qtbot.keyClick(other, Qt.Key.Key_Right)
    assert panel.current_name() == names[i]


def test_the_overfitting_hint_counts_the_model_the_status_bar_counts(window, qtbot, tmp_path):
    text = tmp_path / "small.txt"
    text.write_text("A short text about cats and dogs, far too small for this model. " * 20,
                    encoding="utf-8")
    s = window.session
    with qtbot.waitSignal(s.model_changed, timeout=60_000):
        window.open_path(str(text))
    qtbot.waitUntil(lambda: window.training_panel.form.suggestion is not None, timeout=10_000)
    shown = window.training_panel.form.suggestion.params
    assert shown == s.model.num_params()
    assert f"{shown:,}" in window.status.params_label.text()


def test_save_proposes_a_path_it_accepts_for_an_imported_model(
        text_window, qtbot, hf_folder, monkeypatch, no_leftovers):
    pytest.importorskip("transformers")
    window = text_window
    folder, _ref = hf_folder
    _open(window, qtbot, folder)
    proposed = []

    def ask(parent, title, start, filters):
        proposed.append(start)
        return start

    monkeypatch.setattr(dialogs, "ask_save_path", ask)
    assert window.documents.save_model_as(), no_leftovers
    path = Path(proposed[0])
    assert path.parent == folder.parent and path.name == "my-gpt2-tuned.safetensors"
    assert path.is_file() and not no_leftovers  # saved, no refusal shown
    assert window.windowTitle().startswith("my-gpt2-tuned.safetensors")


def test_a_floating_dock_comes_back_on_screen_and_no_larger(qtbot):
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QGuiApplication

    from gui.app import create_app
    from gui.window import MainWindow, docks

    create_app()
    first = MainWindow(restore_layout=False, load_default=False)
    first.show()
    free = QGuiApplication.primaryScreen().availableGeometry()
    big, gone = first.dock("history"), first.dock("tokens")
    for dock, rect in ((big, QRect(free.left() + 10, free.top() + 10, free.width() + 400,
                                   free.height() + 300)),
                       (gone, QRect(free.right() + 5000, free.bottom() + 5000, 300, 200))):
        dock.setFloating(True)
        dock.setGeometry(rect)
    qtbot.wait(10)
    docks.save_layout(first)
    first.close()
    first.deleteLater()
    second = MainWindow(restore_layout=True, load_default=False)
    second.show()
    try:
        big, gone = second.dock("history"), second.dock("tokens")
        assert big.isFloating() and free.contains(big.frameGeometry())
        # Off every screen: docked back, or (Qt's own restore moves it) wholly on one.
        assert not gone.isFloating() or free.contains(gone.frameGeometry())
    finally:
        second.close()
        second.deleteLater()
        qtbot.wait(1)


def test_the_first_launch_fits_the_frame_in_the_free_area(qtbot):
    from PySide6.QtGui import QGuiApplication

    from gui.app import create_app
    from gui.window import MainWindow

    create_app()
    w = MainWindow(restore_layout=False, load_default=False)
    w.show()
    try:
        free = QGuiApplication.primaryScreen().availableGeometry()
        qtbot.waitUntil(lambda: not w._size_on_show and free.contains(w.frameGeometry()),
                        timeout=5_000)
    finally:
        w.close()
        w.deleteLater()
        qtbot.wait(1)
