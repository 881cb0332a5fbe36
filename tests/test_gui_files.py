"""The window's files under bad input and faults (issue 11, window side): Save follows the
CLI's output rules, a failed save loses nothing, .pt files are named for what they are, a
failed open keeps what was open, and the text's encoding is reported and can be chosen."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from engine.storage.checkpoint import SaveError
from gui import dialogs


@pytest.fixture
def window(qtbot):
    from gui.app import create_app
    from gui.window import MainWindow

    create_app()
    w = MainWindow(restore_layout=False, load_default=False)
    w.show()
    w.training_panel.form.set_value("tokenizer", "char")
    yield w
    w.close()
    qtbot.wait(10)
    w.deleteLater()
    qtbot.wait(1)


def _open(window, qtbot, path: Path) -> None:
    with qtbot.waitSignal(window.session.trace_changed, timeout=30_000):
        window.open_path(str(path))


@pytest.fixture
def opened(window, qtbot, tmp_path):
    """The window with a small text open (an untrained model for it)."""
    path = tmp_path / "small.txt"
    path.write_text("the cat sat on the mat. the dog sat on the log. " * 30, encoding="utf-8")
    _open(window, qtbot, path)
    return window


def test_save_as_never_replaces_a_file_that_is_not_a_model(opened, tmp_path, monkeypatch,
                                                          no_leftovers):
    notes = tmp_path / "notes.safetensors"
    notes.write_text("my notes, not a model", encoding="utf-8")
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(notes))
    assert not opened.save_model_as()
    assert notes.read_text(encoding="utf-8") == "my notes, not a model"
    title, message, _ = no_leftovers[-1]
    assert title == "The model was not saved" and "never replaced" in message
    assert opened.session.model_path is None


def test_save_as_asks_before_replacing_a_model_under_an_added_suffix(opened, tmp_path,
                                                                    monkeypatch):
    target = tmp_path / "model"
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(target))
    assert opened.save_model_as()
    saved = target.with_suffix(".safetensors")
    first = saved.read_bytes()
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "ask_replace", lambda parent, path: asked.append(path) or False)
    opened.session.mark_trained(None)  # something to save again
    assert not opened.save_model_as()  # "model" again: the dialog never showed model.safetensors
    assert asked == [str(saved)] and saved.read_bytes() == first
    monkeypatch.setattr(dialogs, "ask_replace", lambda parent, path: True)
    assert opened.save_model_as()
    assert opened.session.model_path == str(saved) and not opened.session.dirty


def test_a_failed_save_keeps_the_old_file_and_rescues_the_weights(opened, tmp_path,
                                                                 monkeypatch, no_leftovers):
    import engine.storage.outputs

    target = tmp_path / "kept.safetensors"
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(target))
    assert opened.save_model_as()
    before = target.read_bytes()
    opened.session.mark_trained(None)
    real_save = engine.storage.outputs.save_checkpoint

    def disk_full_there(path, *args, **kwargs):
        if Path(path) == target:
            raise SaveError(f"could not save '{target}' (No space left on device); the file "
                            "there is unchanged")
        return real_save(path, *args, **kwargs)

    monkeypatch.setattr(engine.storage.outputs, "save_checkpoint", disk_full_there)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    assert not opened.save_model()  # not saved where asked...
    assert target.read_bytes() == before  # ...and the old file is intact
    title, message, _ = no_leftovers[-1]
    assert title == "The model was saved elsewhere"
    rescued = [Path(w) for w in message.split() if w.endswith(".safetensors") and "rescued" in w]
    assert rescued and rescued[0].is_file()  # ...but the weights are not lost
    assert opened.session.dirty  # still unsaved at its own place


def test_a_pytorch_file_is_named_as_such_and_keeps_the_open_model(opened, qtbot, tmp_path,
                                                                 no_leftovers):
    model = opened.session.model
    pt = tmp_path / "ckpt.pt"
    with zipfile.ZipFile(pt, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    opened.open_path(str(pt))
    qtbot.waitUntil(lambda: bool(no_leftovers), timeout=10_000)
    title, message, _ = no_leftovers[-1]
    assert "model file" in title and "zip archive" in message and "binary" not in message
    assert opened.session.model is model


@pytest.mark.parametrize("content", [bytes(range(256)) * 8, b""])
def test_a_failed_open_keeps_what_was_open(opened, qtbot, tmp_path, no_leftovers, content):
    model, corpus_path = opened.session.model, opened.session.corpus_path
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    opened.open_path(str(bad))
    qtbot.waitUntil(lambda: bool(no_leftovers), timeout=10_000)
    assert opened.session.model is model and opened.session.corpus_path == corpus_path


def test_the_encoding_is_reported_and_can_be_chosen(window, qtbot, tmp_path, monkeypatch):
    path = tmp_path / "cafe.txt"
    # UTF-8 with one stray Latin-1 byte: read as UTF-8, the byte counted, never as GB18030.
    path.write_bytes(("the café and the cat sat on the mat. " * 30).encode("utf-8")
                     + "na\xefve".encode("latin-1"))
    _open(window, qtbot, path)
    message = window.statusBar().currentMessage()
    assert "Read as utf-8 (detected; 1 invalid byte replaced" in message
    assert "café" in window.context_edit.toPlainText()

    monkeypatch.setattr(dialogs, "ask_open_path", lambda *a: str(path))
    monkeypatch.setattr(dialogs, "ask_encoding", lambda parent, name: "cp1252")
    with qtbot.waitSignal(window.session.trace_changed, timeout=30_000):
        window.documents.open_text_with_encoding_dialog()
    s = window.session
    assert s.corpus_encoding == "cp1252" and s.corpus.decoding.name == "cp1252"
    assert "cafÃ©" in window.context_edit.toPlainText()  # the user's choice, as asked
    assert "cp1252 (chosen)" in window.statusBar().currentMessage()
