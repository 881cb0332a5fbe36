"""The text the model wrote after the context at the last evaluation."""
from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from gui.run.sample import Sample
from gui.widgets.language import Translated


class SampleView(Translated, QPlainTextEdit):
    """A read-only monospace box showing the newest evaluation's sample."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(200)
        self.setMinimumHeight(48)
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.setFont(font)
        self._shown: Sample | BaseException | None = None  # re-worded on a language switch
        self._retranslate()

    def _retranslate(self) -> None:
        self.setPlaceholderText(self.tr("Text generated from the context at each evaluation."))
        if isinstance(self._shown, Sample):
            self.show_sample(self._shown)
        elif self._shown is not None:
            self.show_failure(self._shown)

    def show_sample(self, sample: Sample) -> None:
        self._shown = sample
        header = self.tr("step {step}, continuing the context:").format(step=f"{sample.step:,}")
        self.setPlainText(f"{header}\n{sample.text}")

    def show_failure(self, exc: BaseException) -> None:
        self._shown = exc
        self.setPlainText(self.tr("No sample: {error}").format(error=exc))

    def clear(self) -> None:
        self._shown = None
        super().clear()
