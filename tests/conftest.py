"""Shared test set-up: Qt runs offscreen, torch stays on one thread so parallel test
processes on this 2-core machine do not slow each other down, and every test is isolated
(settings, dialogs) and must leave no thread or timer running."""
import gc
import os
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# NumPy's BLAS threads beside torch's fight for the 2 cores (an SVD went 27 ms -> 1.4 s).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(autouse=True, scope="session")
def token_cache_in_tmp(tmp_path_factory):
    """Corpora tokenized by tests go to a temporary token cache, not the user's ~/.cache."""
    from engine.text.tokenfile import CACHE_ENV

    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp("token-cache"))
    yield


@pytest.fixture(autouse=True)
def no_leftovers(request, tmp_path_factory, monkeypatch):
    """Isolated settings, dialogs that record, and no thread left running afterwards.

    Applied to every test; tests that never load Qt (the engine's) skip it, so they keep
    running without a display library.
    """
    if "PySide6.QtCore" not in sys.modules and "qtbot" not in request.fixturenames:
        yield []
        return
    from PySide6.QtCore import QSettings, QThreadPool

    from gui import dialogs
    from gui.workers import running_threads

    settings_dir = tmp_path_factory.mktemp("settings")
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(settings_dir))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(settings_dir))
    # The window's training runs write their run directories here, not in the user's data.
    from gui import settings

    settings.write("paths/runs_folder", str(tmp_path_factory.mktemp("runs")))
    shown: list[tuple] = []
    monkeypatch.setattr(dialogs, "show_error",
                        lambda parent, title, message, details=None:
                        shown.append((title, message, details)))
    monkeypatch.setattr(dialogs, "show_info", lambda *a: shown.append(("info",) + a[1:]))
    monkeypatch.setattr(dialogs, "ask_close_during_training", lambda parent: "discard")
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent: "discard")

    def no_file_dialog(*args):
        raise AssertionError("a file dialog would block the test")

    monkeypatch.setattr(dialogs, "ask_open_path", no_file_dialog)
    monkeypatch.setattr(dialogs, "ask_save_path", no_file_dialog)
    monkeypatch.setattr(dialogs, "ask_directory", no_file_dialog)
    monkeypatch.setattr(dialogs, "ask_encoding", no_file_dialog)
    monkeypatch.setattr(dialogs, "ask_replace", no_file_dialog)
    yield shown
    # The test's widgets (closed by pytest-qt with deleteLater) die now, between tests: left to
    # the cyclic garbage collector, a panel's C++ side would be destroyed whenever a collection
    # happens to run, which can be in the middle of the next test's paint (a segfault in
    # QPainter whose timing depends on how much any other code allocates).
    from PySide6.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    # Their Python halves (pyqtgraph items hold cycles) go too, now: a wrapper outliving its
    # C++ object still gets signals, and a view painted with it crashed a later test.
    gc.collect()
    assert running_threads() == [], "a worker thread was left running"
    assert QThreadPool.globalInstance().activeThreadCount() == 0


@pytest.fixture
def zh_catalogue(qapp):
    """A test that switches to Chinese uses the committed catalogue (test_i18n holds it current
    with the .ts files and the code); English is installed again afterwards."""
    yield
    from gui import i18n

    i18n.install("en")
