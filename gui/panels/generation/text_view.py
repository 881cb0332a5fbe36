"""The generated text as it grows: the prompt, then each sampled token on its own background
(the newest one brighter), and a status line below."""
from __future__ import annotations

import html

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QTextBrowser, QVBoxLayout, QWidget

GENERATED_BG = ("#fff3c4", "#ffe0a3")  # alternating, so token boundaries stay visible
NEWEST_BG = "#ffb74d"


def _html(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


class GeneratedTextView(QWidget):
    """A read-only text browser kept scrolled to the end, and a status line."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        font = QFont()
        font.setPointSizeF(12.0)
        self.browser.setFont(font)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #444;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.browser, 1)
        layout.addWidget(self.status)

    def show_text(self, prompt: str, pieces: list[str]) -> None:
        """The prompt, then one highlighted span per sampled piece."""
        parts = [_html(prompt)]
        for i, piece in enumerate(pieces):
            bg = NEWEST_BG if i == len(pieces) - 1 else GENERATED_BG[i % 2]
            parts.append(f'<span style="background-color:{bg};">{_html(piece)}</span>')
        self.browser.setHtml(f'<div style="white-space: pre-wrap;">{"".join(parts)}</div>')
        bar = self.browser.verticalScrollBar()
        bar.setValue(bar.maximum())

    def clear(self) -> None:
        self.browser.clear()

    def set_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #b00020;" if error else "color: #444;")
