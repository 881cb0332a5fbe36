"""A method's explanation in the guide's voice: one line always shown, and the rest (what the
method shows and what it does not prove) behind "More", so the picture keeps its room in a
small dock."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from gui.widgets.language import Translated


class Explanation(Translated, QWidget):
    """A summary line with a "More" toggle that shows the full explanation under it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("color: #333;")
        self.more = QToolButton()
        self.more.setCheckable(True)
        self.more.setAutoRaise(True)
        self.more.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.more.toggled.connect(self._on_toggled)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setStyleSheet("color: #444; background: #f6f6f2; padding: 4px;")
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.hide()
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.summary, 1)
        top.addWidget(self.more, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.details)
        self._retranslate()

    def _retranslate(self) -> None:
        self._on_toggled(self.more.isChecked())

    def set_text(self, summary: str, details: str) -> None:
        self.summary.setText(summary)
        self.details.setText(details)

    def text(self) -> str:
        """Both parts, as shown when expanded."""
        return self.summary.text() + "\n" + self.details.text()

    def _on_toggled(self, on: bool) -> None:
        self.details.setVisible(on)
        self.more.setArrowType(Qt.ArrowType.UpArrow if on else Qt.ArrowType.DownArrow)
        self.more.setText(self.tr("Less") if on else self.tr("More"))
        self.more.setToolTip(self.tr("What this method shows, and what it does not prove"))
