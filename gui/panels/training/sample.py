"""The text the model wrote after the context at the last evaluation."""
from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from gui.run.sample import Sample
from gui.strings import translate

PLACEHOLDER = "Text generated from the context at each evaluation."


class SampleView(QPlainTextEdit):
    """A read-only monospace box showing the newest evaluation's sample."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setPlaceholderText(PLACEHOLDER)
        self.setMaximumBlockCount(200)
        self.setMinimumHeight(48)
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.setFont(font)

    def set_language(self, lang: str) -> None:
        self.setPlaceholderText(translate(PLACEHOLDER, lang))

    def show_sample(self, sample: Sample) -> None:
        self.setPlainText(f"step {sample.step:,}, continuing the context:\n{sample.text}")

    def show_failure(self, exc: BaseException) -> None:
        self.setPlainText(f"No sample: {exc}")
