"""The status bar's permanent fields (device, parameters, training step and progress) and the
window title, both read from the session and the run."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QLabel, QMainWindow, QProgressBar

from gui import resources
from gui.session import Session

APP_TITLE = "Transformer Explorer"  # a proper name: the same in every language


def stored_as(metadata: dict | None) -> str:
    """The sentence that says a model was read from a quantized GGUF file, and with which
    types ("Quantized: stored as Q4_K (112 tensors), F32 (61 tensors); ..."); "" for any other
    model. The window shows the float32 numbers the file's blocks decode to, so it says so."""
    counts = (metadata or {}).get("quantization") or {}
    if not (metadata or {}).get("quantized") or not isinstance(counts, dict):
        return ""
    types = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    listed = ", ".join(QCoreApplication.translate("Documents", "{0} ({1} tensors)")
                       .format(name, n) for name, n in types)
    return " " + QCoreApplication.translate(
        "Documents", "Quantized: stored as {0}; shown dequantized to float32.").format(listed)


class StatusFields:
    """Device · parameters · step (with a progress bar while training)."""

    def __init__(self, window: QMainWindow, session: Session):
        self.window = window
        self.session = session
        bar = window.statusBar()
        self.device_label = QLabel()
        self.params_label = QLabel()
        self.step_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setMaximumHeight(16)
        self.progress.setTextVisible(False)
        self.progress.hide()
        for w in (self.device_label, self.params_label, self.step_label, self.progress):
            bar.addPermanentWidget(w)
        self._counted_model = False  # the model whose parameter count is shown
        self._shown: tuple[str, int] | None = None  # (device, total steps) last shown
        self._followed: str | None = None  # the title's name of a followed run directory

    def retranslate(self) -> None:
        """The fields and the title again, in the interface language."""
        self._counted_model = False
        if self._shown is not None:
            self.update(*self._shown)
        self.update_title()

    def show_message(self, text: str, timeout: int = 8000) -> None:
        self.window.statusBar().showMessage(text, timeout)

    def update(self, device: str, total_steps: int) -> None:
        s = self.session
        self._shown = (device, total_steps)
        self.device_label.setText(QCoreApplication.translate(
            "StatusFields", "Device: {0}").format(device or "cpu"))
        # Called for every batch of training records: count parameters once per model.
        if s.model is not self._counted_model:
            self._counted_model = s.model
            count = (QCoreApplication.translate("StatusFields", "no model") if s.model is None
                     else QCoreApplication.translate("StatusFields", "{0} parameters").format(
                         f"{s.model.num_params():,}"))
            self.params_label.setText(count)
        step = int(s.history[-1]["step"]) if s.history else 0
        self.progress.setVisible(s.training)
        if s.training:
            total = total_steps or 1
            self.step_label.setText(QCoreApplication.translate(
                "StatusFields", "step {0} / {1}").format(f"{step:,}", f"{total:,}"))
            self.progress.setRange(0, total)
            self.progress.setValue(min(step, total))
        else:
            self.step_label.setText(
                QCoreApplication.translate("StatusFields", "trained {0} steps").format(
                    f"{step:,}") if step else QCoreApplication.translate("StatusFields",
                                                                         "untrained"))

    def set_followed(self, name: str | None) -> None:
        """A run directory is followed (its name for the title, e.g. "following run x"), or
        None when it no longer is."""
        self._followed = name
        self.update_title()

    def update_title(self) -> None:
        s = self.session
        if self._followed:
            name = self._followed
        elif s.model_path:
            name = Path(s.model_path).name
        elif s.model_origin:  # an imported model: its folder or file, not the text beside it
            name = Path(s.model_origin).name
        elif s.corpus_path and Path(s.corpus_path) != resources.default_corpus_path():
            name = QCoreApplication.translate("StatusFields", "new model on {0}").format(
                Path(s.corpus_path).name)
        elif s.history:
            name = QCoreApplication.translate("StatusFields", "bundled model")
        else:
            name = QCoreApplication.translate("StatusFields", "untrained model")
        self.window.setWindowTitle(f"{name}[*] — {APP_TITLE}")
        self.window.setWindowModified(bool(s.dirty))
