"""A model that was not saved survives SIGTERM (gui.recovery, gui.app.TerminationGuard): the
app writes a recovery copy and exits, and the next launch offers the copy and opens it unsaved.

The SIGTERM test runs the real app (gui.app.run) in a subprocess, offscreen, on a tiny text;
the offer is tested in-process with the question (recovery.ask_restore) monkeypatched.
"""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from engine.storage.checkpoint import load_checkpoint
from engine.text.tokenizers import build_tokenizer
from gui import recovery
from tests.helpers import CAT_TEXT, tiny_model

REPO = Path(__file__).resolve().parent.parent

# The app's own run(), with the window made dirty (as training leaves it) once its first trace
# is shown; it then prints its weights' digest and waits for the signal.
CHILD = r"""
import hashlib, sys
import gui.app as app

def digest(model):
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode()); h.update(t.detach().contiguous().numpy().tobytes())
    return h.hexdigest()

make = app.create_window
def create_window(*args, **kwargs):
    window = make(*args, **kwargs)
    def ready():
        s = window.session
        s.set_document(None, None, dirty=True)
        print("READY", digest(s.model), flush=True)
    window.first_trace_shown.connect(ready)
    return window
app.create_window = create_window
sys.exit(app.run(path=sys.argv[1]))
"""


def _digest(model) -> str:
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().contiguous().numpy().tobytes())
    return h.hexdigest()


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    """The recovery folder, in the test's temporary folder."""
    path = tmp_path / "recovery"
    monkeypatch.setenv(recovery.ENV_VAR, str(path))
    return path


def _session(qtbot, dirty: bool = True, model_path: str | None = None):
    from gui.session import Session

    tokenizer = build_tokenizer("char", CAT_TEXT)
    s = Session()
    s.set_model(tiny_model(tokenizer.vocab_size, seed=3), tokenizer,
                history=[{"event": "step", "step": 7, "loss": 2.5}])
    s.context_text = "the dog sat"
    s.set_document(model_path, None, dirty=dirty)
    return s


def test_a_copy_is_saved_listed_and_discarded(qtbot, folder, tmp_path):
    s = _session(qtbot, model_path=str(tmp_path / "mine.safetensors"))
    s.corpus_path = str(tmp_path / "cats.txt")
    path = recovery.save_recovery(s)
    assert path is not None and path.parent == folder and path.is_file()
    [info] = recovery.pending()
    assert info.path == path and info.step == 7 and info.context == "the dog sat"
    assert info.model_path == str(tmp_path / "mine.safetensors")
    assert info.corpus_path == str(tmp_path / "cats.txt")
    assert info.parameters == s.model.num_params()
    assert abs(info.saved_at - time.time()) < 60
    assert "mine.safetensors" in recovery.describe(info)
    ckpt = load_checkpoint(path)
    assert _digest(ckpt.model) == _digest(s.model)
    # A damaged file in the folder is not offered (and not deleted).
    (folder / "recovery-broken.safetensors").write_bytes(b"not a model")
    assert [i.path for i in recovery.pending()] == [path]
    recovery.discard(path)
    assert recovery.pending() == [] and not path.exists()


def test_sigterm_keeps_the_unsaved_model_and_exits(tmp_path, folder):
    """A window holding an unsaved model gets SIGTERM: it exits (status 0, nothing waited on:
    the 30 s wait is only the hang detector, no wall-clock assert), and the copy it wrote
    loads with the same weights."""
    text = tmp_path / "tiny.txt"
    text.write_text("the cat sat on the mat. the dog sat on the log. " * 30, encoding="utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", OMP_NUM_THREADS="1",
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"),
               PYTHONPATH=str(REPO))
    env[recovery.ENV_VAR] = str(folder)
    # faulthandler: a child that crashes prints where (its exit status alone says only -11).
    proc = subprocess.Popen([sys.executable, "-X", "faulthandler", "-c", CHILD, str(text)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()  # blocks until the window is ready (or the child died)
        # An empty line is the child's end: its exit status says whether it crashed.
        assert line.startswith("READY"), (f"exit status {proc.wait(timeout=30)}: "
                                          + proc.stderr.read()[-3000:])
        weights = line.split()[1]
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, err[-3000:]
    [info] = recovery.pending()
    assert str(info.path) in err  # and the terminal says where it went
    assert info.model_path is None and info.corpus_path == str(text)
    assert _digest(load_checkpoint(info.path).model) == weights


def _no_exit(guard) -> list[int]:
    """The guard's app.exit, recorded: a real one here would end the test's own event loops
    (and every later one: Qt remembers a quit asked for outside a running loop)."""
    exits: list[int] = []
    guard.app = SimpleNamespace(exit=exits.append)
    return exits


def test_sigterm_without_changes_writes_nothing(qtbot, folder):
    """A clean session is simply closed: no copy."""
    from gui.app import TerminationGuard, create_app, create_window

    app = create_app()
    window = create_window(restore_layout=False, load_default=False)
    guard = TerminationGuard(app, window)
    exits = _no_exit(guard)
    try:
        guard.terminate(signal.SIGTERM)
    finally:
        guard.uninstall()
    assert guard.received == signal.SIGTERM and guard.saved_to is None and exits == [0]
    assert recovery.pending() == []
    window.deleteLater()
    qtbot.wait(1)


def test_the_guard_wakes_qt_event_loop_for_the_signal(qtbot, folder):
    """The real signal, delivered while Qt's loop waits: the unsaved model is kept."""
    from gui.app import TerminationGuard, create_app, create_window

    app = create_app()
    window = create_window(restore_layout=False, load_default=False)
    s = _session(qtbot)
    window.session.set_model(s.model, s.tokenizer, history=s.history)
    window.session.set_document(None, None, dirty=True)
    guard = TerminationGuard(app, window)
    exits = _no_exit(guard)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        qtbot.waitUntil(lambda: guard.received is not None, timeout=5_000)
    finally:
        guard.uninstall()
    assert exits == [0]
    assert guard.saved_to is not None and guard.saved_to.is_file()
    assert _digest(load_checkpoint(guard.saved_to).model) == _digest(s.model)
    window.deleteLater()
    qtbot.wait(1)


def _wait_restored(qtbot, window, watcher) -> None:
    qtbot.waitUntil(lambda: watcher.opened and window.session.dirty, timeout=30_000)
    qtbot.wait(50)


def test_the_offer_opens_the_copy_unsaved_and_a_save_deletes_it(qtbot, folder, monkeypatch,
                                                                 tmp_path):
    from gui import app as gui_app

    s = _session(qtbot)
    path = recovery.save_recovery(s)
    [info] = recovery.pending()
    asked = []
    monkeypatch.setattr(recovery, "ask_restore", lambda parent, i: asked.append(i) or True)
    gui_app.create_app()
    window = gui_app.create_window(restore_layout=False, load_default=False)
    window.show()
    try:
        watcher = gui_app.offer_recovery(window, info)
        assert asked == [info] and watcher is not None
        _wait_restored(qtbot, window, watcher)
        ws = window.session
        assert _digest(ws.model) == _digest(s.model)
        assert ws.dirty and ws.model_path is None  # unsaved, and never the copy's own file
        assert window.context_edit.toPlainText() == "the dog sat"
        assert path.is_file()  # kept until saved
        ws.mark_saved(str(tmp_path / "saved.safetensors"))  # as File → Save leaves it
        assert watcher.done and not path.exists()
    finally:
        window.close()
        qtbot.wait(10)
        window.deleteLater()
        qtbot.wait(1)


def test_declining_the_offer_discards_the_copy_and_opens_what_was_asked(qtbot, folder,
                                                                        monkeypatch, tmp_path):
    from gui import app as gui_app

    path = recovery.save_recovery(_session(qtbot))
    [info] = recovery.pending()
    monkeypatch.setattr(recovery, "ask_restore", lambda parent, i: False)
    text = tmp_path / "small.txt"
    text.write_text("the cat sat on the mat. " * 40, encoding="utf-8")
    gui_app.create_app()
    window = gui_app.create_window(restore_layout=False, load_default=False)
    window.training_panel.form.set_value("tokenizer", "char")
    window.show()
    try:
        with qtbot.waitSignal(window.session.trace_changed, timeout=30_000):
            assert gui_app.offer_recovery(window, info, str(text)) is None
        assert not path.exists() and recovery.pending() == []
        assert window.session.corpus_path == str(text) and not window.session.dirty
    finally:
        window.close()
        qtbot.wait(10)
        window.deleteLater()
        qtbot.wait(1)


def test_the_question_names_the_copy(qtbot, folder, monkeypatch):
    """ask_restore: Restore is the default button; its answer is the function's."""
    from PySide6.QtWidgets import QMessageBox

    recovery.save_recovery(_session(qtbot))
    [info] = recovery.pending()
    seen = {}

    def exec_(box):
        seen["text"] = box.text()
        box.setProperty("_clicked", True)
        buttons = {b.text(): b for b in box.buttons()}
        seen["buttons"] = sorted(buttons)
        seen["default"] = box.defaultButton().text()
        buttons["Restore"].click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    assert recovery.ask_restore(None, info) is True
    assert seen["buttons"] == ["Discard", "Restore"] and seen["default"] == "Restore"
    assert "not saved" in seen["text"] and f"{info.step:,}" in seen["text"]


def test_launching_with_a_copy_offers_it_instead_of_the_default(qtbot, folder, monkeypatch):
    """run(): the bundled default is not loaded while the copy is offered; restored, the window
    shows it unsaved; quitting having discarded it (the close question) deletes the copy."""
    from gui import app as gui_app
    from gui.window import MainWindow

    s = _session(qtbot)
    path = recovery.save_recovery(s)
    asked = []
    monkeypatch.setattr(recovery, "ask_restore", lambda parent, i: asked.append(i) or True)
    made = {}

    def create_window(path, lang, restore_layout, load_default):
        made["load_default"] = load_default
        made["window"] = MainWindow(lang=lang, restore_layout=False, load_default=load_default)
        return made["window"]

    qapp = gui_app.create_app()

    def exec_():
        w = made["window"]
        qtbot.waitUntil(lambda: w.session.model is not None and w.session.dirty, timeout=30_000)
        made["digest"] = _digest(w.session.model)
        made["kept_while_open"] = path.is_file()
        w.close()  # the save question answers "discard" (conftest)
        return 0

    monkeypatch.setattr(gui_app, "create_window", create_window)
    monkeypatch.setattr(qapp, "exec", exec_)
    assert gui_app.run() == 0
    assert made["load_default"] is False and len(asked) == 1
    assert made["digest"] == _digest(s.model) and made["kept_while_open"]
    assert not path.exists()
    made["window"].deleteLater()
    qtbot.wait(1)
