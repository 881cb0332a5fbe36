"""Recovery copies: a model that was not saved when the app was told to quit (SIGTERM, as a
logout sends) is written here, and offered at the next launch.

A copy is an ordinary checkpoint (engine.storage.checkpoint, written atomically) in the user's data
folder, with where the model came from in its metadata. It is deleted once the restored model
is saved, or when the user discards it. This module imports neither the window nor the app
(gui.app asks, opens and watches through the functions here).
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QDateTime, QObject, QStandardPaths, QTimer
from PySide6.QtWidgets import QMessageBox, QWidget

ENV_VAR = "TRANSFORMER_EXPLORER_RECOVERY"  # a folder to use instead (tests, packagers)
PREFIX = "recovery-"
SUFFIX = ".safetensors"
META = "recovery"  # the checkpoint metadata entry this module adds



@dataclass(frozen=True)
class RecoveryInfo:
    """One recovery copy, as read from its header (no weights loaded)."""

    path: Path
    saved_at: float  # seconds since the epoch
    model_path: str | None  # the file the model was opened from or saved to; None: never saved
    corpus_path: str | None  # its training text
    context: str  # the context box's text when it was saved
    step: int  # how far it was trained
    parameters: int


def recovery_dir() -> Path:
    """The folder of recovery copies: $TRANSFORMER_EXPLORER_RECOVERY, else the user's data
    folder (~/.local/share/transformer-explorer/recovery on Linux), else ~/.cache's."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    # The data folder, not the cache: a cache may be cleared by the system at any time.
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    if base:
        return Path(base) / "transformer-explorer" / "recovery"
    return Path.home() / ".cache" / "transformer-explorer" / "recovery"


def save_recovery(session, trainer_state: dict[str, Any] | None = None,
                  folder: Path | None = None) -> Path | None:
    """Write the session's model as a recovery copy; its path, or None without a model.

    `trainer_state` (the finished run's state, as File → Save uses it) keeps the copy
    resumable. Raises OSError (engine.storage.checkpoint.SaveError) when the disk refuses.
    """
    if session.model is None or session.tokenizer is None:
        return None
    from engine.storage.checkpoint import save_checkpoint

    now = time.time()
    folder = folder or recovery_dir()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    path = folder / f"{PREFIX}{stamp}-{os.getpid()}{SUFFIX}"
    extra: dict[str, Any] = {
        "corpus": session.corpus_path,
        META: {"saved_at": now, "model_path": session.model_path,
               "context": session.context_text},
    }
    kwargs: dict[str, Any] = {}
    if trainer_state is not None:
        kwargs["trainer_state"] = trainer_state
    else:
        extra["history"] = session.history
        kwargs["step"] = max((int(r.get("step", 0)) for r in session.history
                              if isinstance(r, dict)), default=0)
    return save_checkpoint(path, session.model, session.tokenizer,
                           train_cfg=session.train_config, extra=extra, **kwargs)


def _read(path: Path) -> RecoveryInfo | None:
    """The copy's details from its header; None if it is not a readable recovery copy."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            stored = (f.metadata() or {}).get("transformer-explorer")
            shapes = [f.get_slice(k).get_shape() for k in f.keys() if k.startswith("model.")]
        meta = json.loads(stored)
    except Exception:  # noqa: BLE001 (a damaged or foreign file: not offered)
        return None
    if not isinstance(meta, dict) or not isinstance(meta.get(META), dict):
        return None
    info = meta[META]
    parameters = 0
    for shape in shapes:
        count = 1
        for d in shape:
            count *= int(d)
        parameters += count
    return RecoveryInfo(
        path=path, saved_at=float(info.get("saved_at") or path.stat().st_mtime),
        model_path=info.get("model_path"), corpus_path=meta.get("corpus"),
        context=str(info.get("context") or ""), step=int(meta.get("step") or 0),
        parameters=parameters)


def pending(folder: Path | None = None) -> list[RecoveryInfo]:
    """The readable recovery copies, newest first."""
    folder = folder or recovery_dir()
    try:
        paths = sorted(folder.glob(f"{PREFIX}*{SUFFIX}"))
    except OSError:
        return []
    found = [info for info in map(_read, paths) if info is not None]
    return sorted(found, key=lambda info: info.saved_at, reverse=True)


def discard(path: Path | str) -> None:
    """Delete a recovery copy (missing already is fine)."""
    try:
        Path(path).unlink(missing_ok=True)
    except OSError:
        pass  # a read-only folder: it is offered again next time, nothing worse


def describe(info: RecoveryInfo) -> str:
    """The question's text: when the copy was made, what it holds, where it came from."""
    when = QDateTime.fromSecsSinceEpoch(int(info.saved_at)).toString("yyyy-MM-dd HH:mm")
    source = info.model_path or info.corpus_path
    text = QCoreApplication.translate(
        "Recovery", "Transformer Explorer was closed on %1 while a model was not saved "
        "(%2 parameters, trained %3 steps).").replace("%1", when) \
        .replace("%2", f"{info.parameters:,}").replace("%3", f"{info.step:,}")
    if source:
        text += "\n" + QCoreApplication.translate("Recovery", "It came from %1.").replace(
            "%1", Path(source).name)
    return text + "\n\n" + QCoreApplication.translate(
        "Recovery", "Restore it? Discard deletes the copy.")


def ask_restore(parent: QWidget | None, info: RecoveryInfo) -> bool:
    """Ask whether to open the recovery copy (True) or discard it (False)."""
    box = QMessageBox(QMessageBox.Icon.Question,
                      QCoreApplication.translate("Recovery", "Restore the unsaved model?"),
                      describe(info), QMessageBox.StandardButton.NoButton, parent)
    restore = box.addButton(QCoreApplication.translate("Recovery", "Restore"),
                            QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QCoreApplication.translate("Recovery", "Discard"),
                  QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(restore)
    box.exec()
    return box.clickedButton() is restore


class Restored(QObject):
    """A recovery copy being opened in the window: once its model is shown it is unsaved again
    (`on_opened` then runs), and the copy is deleted when that model is saved."""

    def __init__(self, session, info: RecoveryInfo,
                 on_opened: Callable[[RecoveryInfo], None] | None = None):
        super().__init__(session)
        self.session = session
        self.info = info
        self._on_opened = on_opened
        self.opened = False
        self.done = False  # the copy is gone: saved or discarded
        session.model_changed.connect(self._model_changed)
        session.document_changed.connect(self._document_changed)

    def _model_changed(self) -> None:
        if self.opened:
            return
        self.opened = True
        # After the window has finished opening the file (it sets the context and the
        # document first): the model is where it came from, and not saved.
        QTimer.singleShot(0, self._mark_unsaved)

    def _mark_unsaved(self) -> None:
        s = self.session
        s.set_document(self.info.model_path, s.train_config, dirty=True)
        if self._on_opened is not None:
            self._on_opened(self.info)

    def _document_changed(self) -> None:
        s = self.session
        if self.opened and not s.dirty and s.model_path \
                and Path(s.model_path) != self.info.path:
            self.finish()  # saved

    def finish(self) -> None:
        """The copy is no longer needed (saved, or the user quit having decided)."""
        if not self.done:
            self.done = True
            discard(self.info.path)
