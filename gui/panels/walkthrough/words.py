"""The step in words: title, formula, shapes with named axes, the weights it uses, what a
reshape did, the check's verdict and the guide's explanation. It scrolls, so the numbers below
keep most of a short dock's height."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QScrollArea, QTextBrowser, QVBoxLayout, QWidget

from gui.panels.walkthrough.describe import StepWords
from gui.panels.walkthrough.form import set_shown
from gui.panels.walkthrough.table_model import GREY

GREEN, RED = "#1b7f2a", "#c62828"
_VERDICT_STYLE = {"pass": f"color: {GREEN}; font-weight: bold;",
                  "fail": f"color: {RED}; font-weight: bold;",
                  "stale": f"color: {GREY};"}


def explanation_html(title: str, text: str) -> str:
    """The guide's section as HTML: the title in bold, a <p> per blank-line paragraph."""
    paras = "".join(f"<p>{_escape(p)}</p>" for p in text.split("\n\n") if p.strip())
    return f"<b>{_escape(title)}</b>{paras}"


class WordsView(QScrollArea):
    """The words above the numbers; `show_words` fills them, `show_verdict` the check line."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel()
        f = QFont()
        f.setPointSizeF(16)
        f.setBold(True)
        self.title.setFont(f)
        self.title.setWordWrap(True)
        self.formula = QLabel()
        ff = QFont("DejaVu Serif")
        ff.setStyleHint(QFont.StyleHint.Serif)
        ff.setPointSizeF(17)
        self.formula.setFont(ff)
        self.formula.setWordWrap(True)
        self.formula.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.shapes = QLabel()
        self.shapes.setWordWrap(True)
        self.shapes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.weights = QLabel()
        self.weights.setStyleSheet(f"color: {GREY};")
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("font-style: italic;")
        self.check_label = QLabel()
        self.check_label.setWordWrap(True)
        self.check_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.explanation = QTextBrowser()
        self.explanation.setOpenExternalLinks(False)
        self.explanation.setFrameShape(QTextBrowser.Shape.NoFrame)
        self.explanation.setStyleSheet("background: transparent;")
        self.explanation.setMinimumHeight(60)

        words = QWidget()
        layout = QVBoxLayout(words)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.title, self.formula, self.shapes, self.weights, self.note,
                  self.check_label):
            layout.addWidget(w)
        layout.addWidget(self.explanation, 1)
        self.setWidget(words)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)

    def show_words(self, words: StepWords) -> None:
        """Fill every line; lines with nothing to say are hidden."""
        self.title.setText(words.title)
        self.formula.setText(words.formula)
        self.shapes.setText(words.shapes)
        self.weights.setText(words.weights)
        set_shown(self.weights, bool(words.weights))
        self.note.setText(words.note)
        set_shown(self.note, bool(words.note))
        set_shown(self.explanation, bool(words.help_text))
        if words.help_text:
            self.explanation.setHtml(explanation_html(words.help_title, words.help_text))

    def show_verdict(self, text: str, kind: str) -> None:
        """The check's sentence, coloured by `kind`: "pass", "fail" or "stale"."""
        self.check_label.setText(text)
        self.check_label.setStyleSheet(_VERDICT_STYLE[kind])


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
