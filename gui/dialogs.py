"""Every dialog the app shows, in one place, so that tests can replace them (monkeypatch).

Callers always go through the module (`dialogs.show_error(...)`), never `from ... import`, so a
test that patches `gui.dialogs.show_error` captures the message instead of blocking on it.
Messages say what happened and what to do; tracebacks stay behind a "Show Details..." button.
"""
from __future__ import annotations

import sys
import threading
import traceback
from typing import Callable

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from engine.wording import in_language
from gui import i18n


def _tr(text: str) -> str:
    """`text` in the interface language (context "dialogs")."""
    return QCoreApplication.translate("dialogs", text)


# What to do about each engine error, keyed by class name so that this module imports no engine
# error class (and a renamed class falls back to the generic advice rather than crashing). English
# sources, marked for lupdate; explain() translates them when shown.
_ADVICE: dict[str, tuple[str, str]] = {
    "CorpusError": (
        QT_TRANSLATE_NOOP("dialogs", "This text file can't be used"),
        QT_TRANSLATE_NOOP(
            "dialogs", "Choose a plain-text file (UTF-8 or GBK) with at least a few "
                       "sentences of text."),
    ),
    "OutputError": (
        QT_TRANSLATE_NOOP("dialogs", "The model was not saved"),
        QT_TRANSLATE_NOOP(
            "dialogs", "Your file was left as it was. Choose another file name (File → Save "
                       "model as…)."),
    ),
    "SaveError": (
        QT_TRANSLATE_NOOP("dialogs", "The model could not be saved"),
        QT_TRANSLATE_NOOP(
            "dialogs", "The model is still open. Free some disk space or choose another "
                       "place (File → Save model as…)."),
    ),
    "CheckpointError": (
        QT_TRANSLATE_NOOP("dialogs", "This model file can't be opened"),
        QT_TRANSLATE_NOOP(
            "dialogs", "Choose a model saved by Transformer Explorer (.safetensors), a nanoGPT "
                       "run's ckpt.pt, or a Hugging Face GPT-2 folder (config.json with "
                       "model.safetensors or pytorch_model.bin)."),
    ),
    "ConfigError": (
        QT_TRANSLATE_NOOP("dialogs", "Invalid setting"),
        QT_TRANSLATE_NOOP(
            "dialogs", "Correct the named field in the Training panel and try again."),
    ),
    "DeviceError": (
        QT_TRANSLATE_NOOP("dialogs", "Device not available"),
        QT_TRANSLATE_NOOP(
            "dialogs", "Pick another device in the Training panel; CPU always works."),
    ),
    "TokenizerUnavailable": (
        QT_TRANSLATE_NOOP("dialogs", "Tokenizer not available"),
        QT_TRANSLATE_NOOP(
            "dialogs", "Choose cl100k_base or char in the Training panel; both work offline."),
    ),
    "TrainingDiverged": (
        QT_TRANSLATE_NOOP("dialogs", "Training diverged"),
        QT_TRANSLATE_NOOP(
            "dialogs", "The last good weights were kept. Lower the learning rate or use more "
                       "warm-up steps, then press Start again."),
    ),
    "TrainingError": (
        QT_TRANSLATE_NOOP("dialogs", "Training stopped with an error"),
        QT_TRANSLATE_NOOP(
            "dialogs", "The last good weights were kept. If the device ran out of memory, "
                       "use a smaller batch, context or model, or train on the CPU."),
    ),
    "PermissionError": (
        QT_TRANSLATE_NOOP("dialogs", "Permission denied"),
        QT_TRANSLATE_NOOP("dialogs", "Choose a file or folder you are allowed to read and write."),
    ),
    "FileNotFoundError": (
        QT_TRANSLATE_NOOP("dialogs", "File not found"),
        QT_TRANSLATE_NOOP(
            "dialogs", "The file may have been moved or deleted; open it again from its new "
                       "place."),
    ),
    "OSError": (
        QT_TRANSLATE_NOOP("dialogs", "The file could not be read or written"),
        QT_TRANSLATE_NOOP("dialogs", "Check the path and try again."),
    ),
}


def explain(exc: BaseException) -> tuple[str, str]:
    """(title, message) for an exception: its own one-line message plus what to do next."""
    for cls in type(exc).__mro__:
        if cls.__name__ in _ADVICE:
            title, advice = (_tr(t) for t in _ADVICE[cls.__name__])
            break
    else:
        title = QCoreApplication.translate("dialogs", "Something went wrong")
        advice = QCoreApplication.translate("dialogs",
                                            "Your work is still open; you can try again.")
    # The exception's own message is the engine's: it names files and fields. Worded by the
    # engine's catalogue (engine.wording), it is said in the interface's language.
    text = in_language(exc, i18n.current()).strip() or type(exc).__name__
    return title, f"{text}\n\n{advice}"


def show_error(parent: QWidget | None, title: str, message: str, details: str | None = None) -> None:
    """A modal error box; `details` (e.g. a traceback) stays collapsed until asked for."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    if details:
        box.setDetailedText(details)
    box.exec()


def show_exception(parent: QWidget | None, exc: BaseException, doing: str = "",
                   headline: str = "") -> None:
    """Explain an expected failure (bad file, bad setting...) in a dialog, without a traceback.

    `headline` is a whole translated sentence put first ("Saving the model failed."); `doing`
    (older callers: "Saving the model") is put into "{0} failed." instead.
    """
    title, message = explain(exc)
    if not headline and doing:
        headline = QCoreApplication.translate("dialogs", "{0} failed.").format(doing)
    if headline:
        message = f"{headline}\n\n{message}"
    show_error(parent, title, message)


def show_info(parent: QWidget | None, title: str, text: str) -> None:
    """An informational box (About, notes); rich text allowed."""
    QMessageBox.about(parent, title, text)


def ask_close_during_training(parent: QWidget | None) -> str:
    """Training is running and the window is closing: "save", "discard" or "cancel"."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(QCoreApplication.translate("dialogs", "Training is running"))
    box.setText(QCoreApplication.translate(
        "dialogs", "Training is still running. Stop it and save the model before quitting?"))
    save = box.addButton(QCoreApplication.translate("dialogs", "Save && quit"),
                         QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton(QCoreApplication.translate("dialogs", "Quit without saving"),
                            QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(save)
    box.exec()
    clicked = box.clickedButton()
    return "save" if clicked is save else "discard" if clicked is discard else "cancel"


def ask_save_changes(parent: QWidget | None) -> str:
    """The trained model was not saved and the window is closing: "save", "discard", "cancel"."""
    answer = QMessageBox.question(
        parent, QCoreApplication.translate("dialogs", "Save the trained model?"),
        QCoreApplication.translate(
            "dialogs", "The model was trained but not saved. Save it before quitting?"),
        QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Save,
    )
    if answer == QMessageBox.StandardButton.Save:
        return "save"
    return "discard" if answer == QMessageBox.StandardButton.Discard else "cancel"


def ask_open_path(parent: QWidget | None, title: str, directory: str, filters: str) -> str:
    """A file-open dialog; "" when cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, title, directory, filters)
    return path


def ask_directory(parent: QWidget | None, title: str, directory: str) -> str:
    """A folder-choosing dialog; "" when cancelled."""
    return QFileDialog.getExistingDirectory(parent, title, directory)


def ask_save_path(parent: QWidget | None, title: str, directory: str, filters: str) -> str:
    """A file-save dialog (it asks before overwriting); "" when cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, title, directory, filters)
    return path


# The encodings offered when opening a text; "detect" reads the evidence of the whole file.
ENCODINGS = ("detect", "utf-8", "utf-16", "gb18030", "gbk", "big5", "shift_jis", "cp1252",
             "latin-1")


def ask_encoding(parent: QWidget | None, name: str) -> str | None:
    """How to decode the text file `name`: "detect" or a codec name; None when cancelled."""
    from PySide6.QtWidgets import QInputDialog

    labels = [QCoreApplication.translate("dialogs", "Detect from the whole file (recommended)"),
              *ENCODINGS[1:]]
    title = QCoreApplication.translate("dialogs", "Text encoding")
    question = QCoreApplication.translate(
        "dialogs", "How are the characters of {0} encoded?").format(name)
    label, ok = QInputDialog.getItem(parent, title, question, labels, 0, False)
    if not ok:
        return None
    return ENCODINGS[labels.index(label)]


def ask_replace(parent: QWidget | None, path: str) -> bool:
    """`path` holds a model already: replace it?"""
    answer = QMessageBox.question(
        parent, QCoreApplication.translate("dialogs", "Replace the model?"),
        QCoreApplication.translate(
            "dialogs", "{0} already holds a model. Replace it?").format(path),
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes


# -- unexpected errors ------------------------------------------------------------------------

class _ExceptionRelay(QObject):
    """Lives on the GUI thread; carries exceptions from any thread to a dialog there."""

    raised = Signal(str, str)  # message, formatted traceback

    def __init__(self, parent_widget: Callable[[], QWidget | None]):
        super().__init__()
        self._parent_widget = parent_widget
        self._showing = False
        # The relay lives on the GUI thread, so emits from workers arrive queued.
        self.raised.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def _show(self, message: str, details: str) -> None:
        if self._showing:  # an error inside the error dialog: stderr only, no dialog storm
            return
        self._showing = True
        try:
            show_error(
                self._parent_widget(),
                QCoreApplication.translate("dialogs", "Unexpected error"),
                QCoreApplication.translate(
                    "dialogs", "{0}\n\nThe app is still running. If this keeps happening, "
                    "save your model and restart, and please report the details below.")
                .format(message),
                details,
            )
        finally:
            self._showing = False


_relay: _ExceptionRelay | None = None


def install_excepthook(parent: Callable[[], QWidget | None] = lambda: None) -> None:
    """Show uncaught exceptions in a dialog (details collapsed) instead of killing the app.

    Call on the GUI thread once a QApplication exists. Exceptions raised in worker threads
    are relayed to the GUI thread; the traceback is also printed to stderr.
    """
    global _relay
    _relay = _ExceptionRelay(parent)

    def hook(exc_type, exc, tb) -> None:
        if issubclass(exc_type, (KeyboardInterrupt, SystemExit)):
            sys.__excepthook__(exc_type, exc, tb)
            return
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        sys.stderr.write(details)
        if _relay is not None:
            _relay.raised.emit(f"{exc_type.__name__}: {exc}", details)

    sys.excepthook = hook
    threading.excepthook = lambda args: hook(args.exc_type, args.exc_value, args.exc_traceback)


def uninstall_excepthook() -> None:
    """Restore Python's default hook (used when the app exits, and by tests)."""
    global _relay
    sys.excepthook = sys.__excepthook__
    threading.excepthook = threading.__excepthook__
    if _relay is not None:
        _relay.deleteLater()
    _relay = None
