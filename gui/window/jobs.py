"""One file job at a time (tokenizing a text, loading a model) off the GUI thread, with a
progress dialog that appears only if the job takes a while and can cancel it."""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QProgressBar, QProgressDialog, QWidget

from gui.workers import FunctionWorker, start_worker, stop_worker

SHOW_AFTER_MS = 400


class FileJobs(QObject):
    """Runs `func(report)` on a worker thread; `busy` while one runs."""

    def __init__(self, parent_widget: QWidget, title: str):
        super().__init__(parent_widget)
        self._parent = parent_widget
        self._title = title
        self._worker: FunctionWorker | None = None
        self._dialog: QProgressDialog | None = None
        self._bar: QProgressBar | None = None  # the dialog's bar, updated directly (see run)
        self._callbacks: tuple[Callable[[Any], None], Callable[[BaseException], None]] | None = None

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def run(self, func: Callable, label: str, on_done: Callable[[Any], None],
            on_error: Callable[[BaseException], None], cancellable: bool = True) -> None:
        """Start `func`; `on_done(result)` or `on_error(exc)` then runs on the GUI thread."""
        worker = FunctionWorker(func)
        dialog = QProgressDialog(label, self.tr("Cancel"), 0, 1000, self._parent)
        dialog.setWindowTitle(self._title)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(SHOW_AFTER_MS)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        if not cancellable:
            dialog.setCancelButton(None)
        dialog.canceled.connect(self._cancel)
        # A modal QProgressDialog's setValue() runs the event loop inside the call (Qt's
        # documented behaviour, for work done on the GUI thread). Ours runs on a worker, and
        # a nested loop there ran the job's end (a new model, every panel rebuilt) inside a
        # progress update: the app crashed so. So setValue() is called once, at the minimum, which
        # starts the dialog's own timer to appear after SHOW_AFTER_MS, and progress then goes to
        # the bar directly: nothing re-enters the app from here.
        bar = QProgressBar(dialog)
        bar.setRange(0, 1000)
        dialog.setBar(bar)
        dialog.setValue(0)
        self._callbacks = (on_done, on_error)
        # Bound methods of this object, queued: they run on the GUI thread (a lambda would run
        # on the worker's thread).
        queued = Qt.ConnectionType.QueuedConnection
        worker.progress.connect(self._on_progress, queued)
        worker.returned.connect(self._on_returned, queued)
        worker.errored.connect(self._on_errored, queued)
        worker.finished.connect(self._on_finished, queued)
        self._worker = worker
        self._dialog = dialog
        self._bar = bar
        start_worker(worker, "open-file")

    def _cancel(self) -> None:
        if self._worker is not None:
            self._worker.quit()  # direct call: the worker's own thread is busy with the job

    def _on_progress(self, done: int, total: int) -> None:
        if self._bar is not None and total > 0:
            self._bar.setValue(int(1000 * min(done, total) / total))

    def _on_returned(self, result) -> None:
        self._close_dialog()
        if self._callbacks is not None:
            self._callbacks[0](result)

    def _on_errored(self, exc: BaseException) -> None:
        self._close_dialog()
        if self._callbacks is not None:
            self._callbacks[1](exc)

    def _on_finished(self) -> None:
        if self.sender() is self._worker:  # not a job started by the callback just run
            self._close_dialog()
            self._worker = None

    def _close_dialog(self) -> None:
        dialog, self._dialog, self._bar = self._dialog, None, None
        if dialog is not None:
            dialog.canceled.disconnect(self._cancel)
            dialog.reset()
            dialog.hide()
            dialog.deleteLater()

    def shutdown(self) -> None:
        if self._worker is not None:
            stop_worker(self._worker)
            self._worker = None
