"""Reusable view pieces: the labelled `Heatmap`, `EmptyState` (a panel's "nothing to show yet"
page, so no panel is ever a blank rectangle), `LazyPanel` (draw only while visible) and the
plot set-up in `plots`."""
from __future__ import annotations

from typing import Callable, Sequence, Union

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .cells import elide, format_value, symmetric_levels
from .heatmap import PATTERN_CMAP, SIGNED_CMAP, Heatmap
from .lazy import LazyPanel, on_screen
from .plots import fix_axes, static_plot

__all__ = ["PATTERN_CMAP", "SIGNED_CMAP", "EmptyState", "Heatmap", "LazyPanel", "NoteLabel",
           "elide", "fill_table", "fix_axes", "format_value", "on_screen", "static_plot",
           "symmetric_levels"]


Message = Union[str, Callable[[], str]]  # a text, or what gives it in the interface language


class EmptyState(QStackedWidget):
    """Either a centred explanation (page 0) or the panel's content (page 1).

    A message may be a callable (`lambda: self.tr("...")`): it is asked again on a language
    switch, so the explanation shown follows the language live. A plain string stays as set;
    its owner re-sets it with `set_default` from its own re-translation.
    """

    def __init__(self, content: QWidget, message: Message, parent: QWidget | None = None):
        super().__init__(parent)
        self._default: Message = message
        self._shown: Message | None = None  # the message on page 0; None: the default
        self.message = QLabel(_text(message))
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setMargin(24)
        self.message.setStyleSheet("color: #555; font-size: 13pt;")
        self.addWidget(self.message)
        self.addWidget(content)

    @classmethod
    def fill(cls, panel: QWidget, content: QWidget, message: Message) -> EmptyState:
        """An EmptyState of `content` that fills `panel` (its only child, 4 px margins)."""
        empty = cls(content, message)
        outer = QVBoxLayout(panel)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(empty)
        return empty

    def show_empty(self, message: Message | None = None) -> None:
        """Show the explanation (this one, or the default) instead of the content."""
        self._shown = message
        self.message.setText(_text(message if message is not None else self._default))
        self.setCurrentIndex(0)

    def set_default(self, message: Message) -> None:
        """A new default explanation (e.g. re-translated); shown at once if it is showing."""
        self._default = message
        if self._shown is None:
            self.message.setText(_text(message))

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.LanguageChange:
            shown = self._shown if self._shown is not None else self._default
            self.message.setText(_text(shown))

    def show_content(self) -> None:
        self.setCurrentIndex(1)

    def is_empty(self) -> bool:
        return self.currentIndex() == 0


def _text(message: Message) -> str:
    return message() if callable(message) else message


def fill_table(table: QTableWidget, rows: Sequence[Sequence[str]], numeric_from: int = 1) -> None:
    """Put text rows into a table, reusing its items; columns >= numeric_from align right.

    Item-by-item updates with per-change column sizing cost ~1 ms each; filling with updates
    off and sizing the columns once keeps a context edit within its redraw budget.
    """
    table.setUpdatesEnabled(False)
    try:
        table.setRowCount(len(rows))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                item = table.item(r, c)
                if item is None:
                    item = QTableWidgetItem(text)
                    if c >= numeric_from:
                        item.setTextAlignment(right)
                    table.setItem(r, c, item)
                elif item.text() != text:
                    item.setText(text)
        table.resizeColumnsToContents()
    finally:
        table.setUpdatesEnabled(True)


class NoteLabel(QLabel):
    """A label whose changing text never changes its size: a fixed number of lines, any width.

    Labels that grow with their text make the layout move every plot around them, and each
    moved plot repaints its axes: on a context edit that alone cost more than the redraw.
    A one-line note too narrow for its text ends in "…"; the whole text is always its tooltip.
    """

    def __init__(self, text: str = "", lines: int = 1, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWordWrap(lines > 1)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self._lines = lines
        self._full = ""
        self._fit()
        self.setText(text)

    def _fit(self) -> None:
        m = self.contentsMargins()
        line = self.fontMetrics().lineSpacing()
        self.setFixedHeight(line * self._lines + m.top() + m.bottom() + 2)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() in (event.Type.FontChange, event.Type.StyleChange):
            self._fit()

    def setText(self, text: str) -> None:  # noqa: N802 (Qt API)
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        """The text as set (`text()` is what fits, for a one-line note)."""
        return self._full

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self._full
        if self._lines == 1 and self.width() > 0:
            room = max(self.contentsRect().width(), 0)
            shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, room)
        if shown != self.text():
            super().setText(shown)
