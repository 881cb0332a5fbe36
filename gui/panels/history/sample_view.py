"""What the model wrote at the shown snapshot: a short seeded sample after the context's
first line, shown as it is generated."""
from __future__ import annotations

import html

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QTextBrowser, QVBoxLayout, QWidget

from gui.panels.history.snapshots import SAMPLE_SEED, SAMPLE_TEMPERATURE, SAMPLE_TOP_K
from gui.widgets.language import Translated


class SampleView(Translated, QWidget):
    """A caption naming the step and the sampling settings, and the prompt + sample."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._prompt = ""
        self._text = ""
        self._step: int | None = None  # the step of the sample shown
        self.title = QLabel()
        self.browser = QTextBrowser()
        self.browser.setMaximumHeight(110)
        font = QFont()
        font.setPointSizeF(11.0)
        self.browser.setFont(font)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.browser)

    def _retranslate(self) -> None:
        """Words drawn in the interface language (also on every language switch)."""
        self._show_title()

    def text(self) -> str:
        """The sample shown (prompt excluded)."""
        return self._text

    def start(self, step: int, prompt: str) -> None:
        """A new sample at `step` after `prompt` begins: nothing of it yet."""
        self._step = step
        self._show_title()
        self._prompt = prompt
        self.show_sample("", False)

    def clear(self) -> None:
        """No sample shown (the snapshots it came from are gone: another run, another model)."""
        self._step = None
        self._prompt = self._text = ""
        self.title.clear()
        self.browser.clear()

    def _show_title(self) -> None:
        if self._step is None:
            return
        self.title.setText(self.tr(
            "<b>Sample at step {0}</b> (seed {1}, temperature {2:g}, top-k {3}), after the "
            "context's first line:").format(self._step, SAMPLE_SEED, SAMPLE_TEMPERATURE,
                                            SAMPLE_TOP_K))

    def show_sample(self, text: str, done: bool) -> None:
        prompt = html.escape(self._prompt[-200:])
        body = html.escape(text) + ("" if done else " …")
        self.browser.setHtml(
            f'<div style="white-space: pre-wrap;"><span style="color:#888;">{prompt}</span>'
            f'<span style="background-color:#fff3c4;">{body}</span></div>')
        self._text = text
