"""File → Open run…: choose a run directory (engine.training.rundir) and follow it live.

The following itself is the run controller's (gui.run.follow); this module asks for the
folder, refuses what is not a run with a clear message, remembers the folder, and says in the
status bar and the title that a run is being followed, and when it has ended.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMainWindow

from engine.training.rundir import CONFIGS, RECORDS
from engine.training.runreader import is_run
from gui import dialogs, settings
from gui.run import RunController
from gui.window.context import ContextBox
from gui.window.context import head_context
from gui.window.status import StatusFields

LAST_RUN_KEY = "paths/last_run_dir"


class FollowedRuns(QObject):
    """Opens run directories for the window; `status` carries lines for its status bar."""

    status = Signal(str, int)  # text, timeout in ms (0: until replaced)

    def __init__(self, window: QMainWindow, run: RunController, fields: StatusFields,
                 context: ContextBox, last_dir: Callable[[], str]):
        super().__init__(window)
        self.window, self.run, self.fields, self.context = window, run, fields, context
        self._last_dir = last_dir  # the folder of the last file opened, before any run was
        run.follow_changed.connect(self._on_follow_changed)

    def last_run_dir(self) -> str:
        """Where File → Open run starts: the last run opened, else the last folder used."""
        return settings.read(LAST_RUN_KEY, "") or self._last_dir()

    def open_run_dialog(self) -> None:
        path = dialogs.ask_directory(self.window, self.tr("Open a training run folder"),
                                     self.last_run_dir())
        if path:
            self.open_run(path)

    def open_run(self, path: str) -> bool:
        """Follow the run in folder `path`; False (and a dialog saying why) if it cannot be."""
        if self.run.is_active:
            dialogs.show_error(self.window, self.tr("Training is running"), self.tr(
                "Stop training (Shift+F5) before opening a run."))
            return False
        folder = Path(path)
        if not is_run(folder):
            dialogs.show_error(self.window, self.tr("Not a training run"), self.tr(
                "{folder} is not a training run folder: it has neither {configs} nor "
                "{records}. Choose the folder a run writes, e.g. the --out folder of "
                "`transformer-explorer train`, or a run folder of the window's (its path is "
                "shown in the Training panel).").format(folder=folder, configs=CONFIGS,
                                                        records=RECORDS))
            return False
        try:
            self.run.follow(str(folder))
        except (ValueError, OSError) as exc:
            dialogs.show_exception(self.window, exc, headline=self.tr(
                "Opening the run {0} failed.").format(folder.name))
            return False
        settings.write(LAST_RUN_KEY, str(folder.absolute()))
        return True

    def _on_follow_changed(self) -> None:
        follower = self.run.follower
        self.fields.set_followed(None if follower is None else follower.title())
        if follower is None:
            return
        self.status.emit(follower.describe(), 0)
        session = self.run.session
        if follower.has_model and not session.context_text.strip():
            # Nothing typed yet (e.g. opened from the command line): the run's own text, read
            # here once (a small head of it), else the start of its vocabulary.
            corpus = (follower.reader.configs or {}).get("corpus") or {}
            T = session.model.config.context_length
            text = head_context(session.tokenizer, corpus.get("path"), T)
            self.context.set_text(text or session.tokenizer.decode(
                np.arange(min(T, session.tokenizer.vocab_size))))
