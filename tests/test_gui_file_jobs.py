"""The progress dialog of a file job (tokenizing a text, opening a model).

A modal QProgressDialog's setValue() runs the event loop inside the call. The window's jobs run
on a worker thread, so a progress update must not re-enter the app: the job's end (a new model,
every panel rebuilt) ran nested inside a progress update, and the app crashed about once in ten
slow launches."""
from __future__ import annotations

import threading

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from gui.window import jobs as jobs_module
from gui.window.jobs import FileJobs


def _parent(qtbot) -> QWidget:
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()
    return parent


def test_a_progress_update_runs_no_other_event(qtbot):
    jobs = FileJobs(_parent(qtbot), "title")
    release = threading.Event()
    ended: list[object] = []
    jobs.run(lambda report: release.wait(10) and 42, "working", ended.append, ended.append)
    dialog = jobs._dialog
    qtbot.waitUntil(dialog.isVisible, timeout=10_000)  # shown after its minimum duration
    elsewhere: list[bool] = []
    QTimer.singleShot(0, lambda: elsewhere.append(True))  # any event waiting in the queue
    jobs._on_progress(500, 1000)
    assert elsewhere == []  # not run from inside the update
    qtbot.waitUntil(lambda: elsewhere == [True], timeout=5_000)
    release.set()
    qtbot.waitUntil(lambda: ended == [42] and not jobs.busy, timeout=10_000)
    assert jobs._dialog is None  # closed (and deleted) once the job ended
    jobs.shutdown()


def test_a_slow_job_shows_its_progress(qtbot, monkeypatch):
    monkeypatch.setattr(jobs_module, "SHOW_AFTER_MS", 100)
    jobs = FileJobs(_parent(qtbot), "title")
    step = threading.Event()
    values: list[int] = []

    def slow(report):
        report(1, 4)
        step.wait(10)
        report(3, 4)
        return "done"

    ended: list[object] = []
    jobs.run(slow, "working", ended.append, ended.append)
    dialog = jobs._dialog
    qtbot.waitUntil(dialog.isVisible, timeout=10_000)
    qtbot.waitUntil(lambda: dialog.value() == 250, timeout=5_000)
    values.append(dialog.value())
    step.set()
    qtbot.waitUntil(lambda: ended == ["done"], timeout=10_000)
    assert values == [250] and jobs._dialog is None
    jobs.shutdown()
